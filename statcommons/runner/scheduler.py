"""Cron schedules: standard five-field expressions (minute hour day month weekday), evaluated in UTC by croniter.

The scheduler sleeps until the earliest ``next_run`` of all schedules (at most ``max_sleep``
seconds, and woken when a schedule is added or removed), then queues a run of each schedule
that is due and computes its next time from now. A schedule whose previous run is still
queued or running skips that time, so a slow notebook never piles up runs; times missed while
the runner was stopped fire once at its start, not once per missed time.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

from croniter import croniter

from .store import Schedule, Store, now

log = logging.getLogger("statcommons.runner")


def cron_problem(expression: object) -> str | None:
    """Why ``expression`` is not a five-field cron expression, or None."""
    if not isinstance(expression, str) or not expression.strip():
        return "expected a cron expression such as '0 6 * * 1' (minute hour day month weekday, UTC)"
    fields = expression.split()
    if len(fields) != 5:
        return f"{expression!r} has {len(fields)} fields: expected 5 (minute hour day month weekday, UTC)"
    if not croniter.is_valid(expression):
        return f"{expression!r} is not a valid cron expression (minute hour day month weekday, UTC)"
    return None


def next_time(expression: str, after: datetime) -> datetime:
    """The first time after ``after`` that ``expression`` matches, in UTC."""
    return croniter(expression, after.astimezone(UTC)).get_next(datetime).astimezone(UTC)


class Scheduler:
    def __init__(self, store: Store, fire: Callable[[Schedule], Awaitable[int | None]], max_sleep: float = 30):
        self.store = store
        self.fire = fire
        self.max_sleep = max_sleep
        self.wake = asyncio.Event()
        self.task: asyncio.Task | None = None

    def start(self) -> None:
        self.task = asyncio.create_task(self._loop())

    def stop(self) -> None:
        if self.task:
            self.task.cancel()

    def changed(self) -> None:
        """A schedule was added or removed: look again at once."""
        self.wake.set()

    async def tick(self, moment: datetime | None = None) -> list[int]:
        """Queue a run of every schedule due at ``moment``; returns the ids of the schedules fired."""
        moment = moment or now()
        fired = []
        for schedule in self.store.due(moment):
            run_id = None
            if self.store.schedule_busy(schedule.id):
                log.info("schedule %s: its previous run has not ended, skipping %s", schedule.id, schedule.next_run)
            else:
                try:
                    run_id = await self.fire(schedule)
                    fired.append(schedule.id)
                except Exception:
                    log.exception("schedule %s could not queue a run", schedule.id)
            self.store.schedule_fired(schedule.id, next_time(schedule.cron, moment), run_id)
        return fired

    async def _loop(self) -> None:
        while True:
            self.wake.clear()
            try:
                await self.tick()
            except Exception:
                log.exception("the scheduler failed to look at the schedules")
            upcoming = self.store.next_due()
            delay = self.max_sleep
            if upcoming is not None:
                delay = min(max((upcoming - now()).total_seconds(), 0.0), self.max_sleep)
            try:
                await asyncio.wait_for(self.wake.wait(), delay + 0.01)
            except TimeoutError:
                pass
