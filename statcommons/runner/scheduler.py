"""Cron schedules: standard five-field expressions (minute hour day month weekday), evaluated in UTC by croniter.

The scheduler sleeps until the earliest ``next_run`` of all schedules (at most ``max_sleep``
seconds, and woken when a schedule is added or removed), then queues a run of each schedule
that is due and computes its next time from now. A schedule whose previous run is still
queued or running skips that time, so a slow notebook never piles up runs; times missed while
the runner was stopped fire once at its start, not once per missed time. A new schedule must
not fire more often than ``runner.min_schedule_interval`` allows (:func:`interval_problem`).
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta

from croniter import CroniterBadDateError, croniter

from .store import Schedule, Store, now

log = logging.getLogger("statcommons.runner")

DAY = 24 * 3600
# croniter's R (a random value, drawn again each time the next time is computed): not allowed.
_RANDOM = re.compile(r"^r(\(|/|$)", re.IGNORECASE)


def cron_problem(expression: object) -> str | None:
    """Why ``expression`` is not a five-field cron expression, or None."""
    if not isinstance(expression, str) or not expression.strip():
        return "expected a cron expression such as '0 6 * * 1' (minute hour day month weekday, UTC)"
    fields = expression.split()
    if len(fields) != 5:
        return f"{expression!r} has {len(fields)} fields: expected 5 (minute hour day month weekday, UTC)"
    if not croniter.is_valid(expression) or any(_RANDOM.match(field) for field in fields):
        return f"{expression!r} is not a valid cron expression (minute hour day month weekday, UTC)"
    try:
        next_time(expression, now())
    except CroniterBadDateError:
        return f"{expression!r} never fires (no such day, such as 31 February)"
    return None


def shortest_gap(expression: str, below: int = DAY) -> int | None:
    """The shortest time, in seconds, between two consecutive times of ``expression``, if one is shorter than ``below``.

    ``below`` is at most a day. Every day that fires, fires at the same times (the minute and
    hour fields), so the gaps shorter than a day are those between a day's times and, if two
    consecutive days fire, the one from a day's last time to the next day's first. Whether two
    consecutive days ever fire is looked up with croniter over 29 years (every kind of year,
    leap or not, starting on every weekday), only when that gap would be the shortest. None
    when no gap is shorter than ``below``.
    """
    minutes, hours = croniter.expand(expression)[0][:2]
    minutes = range(60) if "*" in minutes else minutes
    hours = range(24) if "*" in hours else hours
    times = sorted({60 * int(h) + int(m) for h in hours for m in minutes})
    gaps = [60 * (b - a) for a, b in zip(times, times[1:], strict=False)]
    overnight = DAY - 60 * (times[-1] - times[0])
    shortest = min(gaps, default=DAY)
    if overnight < min(shortest, below) and _consecutive_days(expression):
        shortest = overnight
    return shortest if shortest < min(below, DAY) else None


def _consecutive_days(expression: str) -> bool:
    """Whether ``expression`` fires on two consecutive days, in 2000 to 2028."""
    days = croniter("0 0 " + " ".join(expression.split()[2:]), datetime(1999, 12, 31, tzinfo=UTC))
    end = datetime(2029, 1, 1, tzinfo=UTC)
    previous = None
    try:
        for day in days.all_next(datetime):
            if day >= end:
                return False
            if previous is not None and day - previous == timedelta(days=1):
                return True
            previous = day
    except CroniterBadDateError:  # no day at all
        pass
    return False


def interval_problem(expression: str, minimum: int) -> str | None:
    """Why ``expression`` fires more often than every ``minimum`` seconds, or None."""
    gap = shortest_gap(expression, minimum)
    if gap is None:
        return None
    return (
        f"{expression!r} fires as often as every {duration_text(gap)}: the shortest interval allowed is "
        f"{duration_text(minimum)} (the setting runner.min_schedule_interval)"
    )


def duration_text(seconds: int) -> str:
    """``3600`` as ``1 h``, ``90`` as ``1 min 30 s``."""
    parts = []
    for unit, size in (("d", DAY), ("h", 3600), ("min", 60), ("s", 1)):
        if seconds >= size:
            parts.append(f"{seconds // size} {unit}")
            seconds %= size
    return " ".join(parts) or "0 s"


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
