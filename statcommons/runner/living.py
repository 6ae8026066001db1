"""The living library: every published notebook item runs again on a schedule of its own.

Each item has its slot in the period (``runner.rerun_library_every``, a week by default): an
offset taken from a hash of its id, so that a catalogue's notebooks spread over the week instead
of all running at one moment. An item is due when its latest run (``last_run``, as the library
records it) ended before its latest slot, or when it never ran: a fresh hub runs the tutorials it
ships within minutes of its first start, and a newly published notebook runs at once.

The runs belong to :data:`LIBRARY_USER`, a name no hub user can have (a hub user name has no
``/``), so they take their turn in the fair queue like anyone's and never crowd a person out;
curators and admins see them with every other run. At most ``max_active_per_user`` of them wait
at a time; the rest are picked up at a later look.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from datetime import UTC, datetime, timedelta

from ..kit.client import ServiceError
from .sources import Library
from .store import now

log = logging.getLogger("statcommons.runner")

LIBRARY_USER = "statcommons/library"
EPOCH = datetime(2024, 1, 1, tzinfo=UTC)  # a Monday: slots of a weekly period fall on the same weekday every week


def slot(item_id: str, moment: datetime, every: int) -> datetime:
    """The latest time at or before ``moment`` when ``item_id`` is due in a period of ``every`` seconds."""
    offset = int.from_bytes(hashlib.sha256(item_id.encode()).digest()[:8], "big") % every
    elapsed = (moment - EPOCH).total_seconds() - offset
    return EPOCH + timedelta(seconds=offset + (elapsed // every) * every)


def due(item: dict, moment: datetime, every: int) -> bool:
    """Whether a notebook item should run again: never ran, or its latest run ended before its latest slot."""
    finished = (item.get("last_run") or {}).get("finished")
    if not finished:
        return True
    try:
        ended = datetime.fromisoformat(finished.replace("Z", "+00:00"))
    except ValueError:
        return True
    if ended.tzinfo is None:
        ended = ended.replace(tzinfo=UTC)
    return ended < slot(item["id"], moment, every)


class LivingLibrary:
    """Looks at the published notebooks every ``look_every`` seconds and queues the runs that are due."""

    def __init__(self, runner, library: Library, every: int, look_every: float = 60):
        self.runner = runner
        self.library = library
        self.every = every
        self.look_every = look_every
        self.task: asyncio.Task | None = None

    def start(self) -> None:
        self.task = asyncio.create_task(self._loop())

    def stop(self) -> None:
        if self.task:
            self.task.cancel()

    async def tick(self, moment: datetime | None = None) -> list[str]:
        """Queue a run of each published notebook that is due; the ids of the items queued."""
        moment = moment or now()
        items = await self.library.notebooks()
        active = self.runner.store.active_items(LIBRARY_USER)
        room = self.runner.limits.max_active_per_user - len(active)
        queued = []
        for item in items:
            if room <= 0:
                break
            if item["id"] in active or not due(item, moment, self.every):
                continue
            await self.runner.queue(LIBRARY_USER, item=item["id"], known=item)
            queued.append(item["id"])
            room -= 1
        if queued:
            log.info("the living library queued runs of %s", ", ".join(queued))
        return queued

    async def _loop(self) -> None:
        while True:
            wait = self.look_every
            try:
                await self.tick()
            except ServiceError as e:  # the library starting (it answers while indexing), or restarting
                log.info("the living library could not read the catalogue, looking again in 5 s: %s", e)
                wait = min(wait, 5)
            except Exception:
                log.exception("the living library failed to look at the catalogue")
            await asyncio.sleep(wait)
