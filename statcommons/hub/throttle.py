"""Counting what may only happen so often: failed logins, sign-ups.

:class:`Backoff` counts failures by key (an account and an address, or an address alone).
Up to ``allowance`` failures within ``window`` seconds cost nothing; each failure past it makes
the key wait twice as long before its next try (1 s, 2 s, 4 s, ...), never more than
``max_delay``: a bounded delay, which ends by itself, never a lockout. A success clears its key.

:class:`Rate` allows ``limit`` events per key within a sliding ``window`` (sign-ups per address
and per hour).

Both are in memory, for one hub process, and forget keys that have been quiet for a window.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable, Hashable
from dataclasses import dataclass


@dataclass
class _Failures:
    count: int
    last: float


class Backoff:
    def __init__(
        self, allowance: int, max_delay: float, window: float = 900.0, clock: Callable[[], float] = time.monotonic
    ):
        self.allowance = allowance
        self.max_delay = max_delay
        self.window = window
        self.clock = clock
        self._failures: dict[Hashable, _Failures] = {}

    def delay(self, count: int) -> float:
        """How long a key with ``count`` failures waits after its last one."""
        if count < self.allowance:
            return 0.0
        return min(self.max_delay, 2.0 ** (count - self.allowance))

    def retry_after(self, key: Hashable) -> float:
        """Seconds until ``key`` may try again (0: now)."""
        found = self._failures.get(key)
        if found is None:
            return 0.0
        waited = self.clock() - found.last
        if waited > self.window:
            del self._failures[key]
            return 0.0
        return max(0.0, self.delay(found.count) - waited)

    def failed(self, key: Hashable) -> None:
        now = self.clock()
        found = self._failures.get(key)
        if found is None or now - found.last > self.window:
            self._failures[key] = _Failures(1, now)
        else:
            found.count += 1
            found.last = now
        if len(self._failures) > 10000:
            self._forget(now)

    def succeeded(self, key: Hashable) -> None:
        self._failures.pop(key, None)

    def _forget(self, now: float) -> None:
        for key in [k for k, f in self._failures.items() if now - f.last > self.window]:
            del self._failures[key]


class Rate:
    def __init__(self, limit: int, window: float, clock: Callable[[], float] = time.monotonic):
        self.limit = limit
        self.window = window
        self.clock = clock
        self._events: dict[Hashable, deque[float]] = {}

    def retry_after(self, key: Hashable) -> float:
        """Seconds until ``key`` may have another event (0: now)."""
        events = self._recent(key)
        if len(events) < self.limit:
            return 0.0
        return max(0.0, events[0] + self.window - self.clock())

    def happened(self, key: Hashable) -> None:
        self._recent(key).append(self.clock())

    def _recent(self, key: Hashable) -> deque[float]:
        now = self.clock()
        events = self._events.setdefault(key, deque())
        while events and now - events[0] > self.window:
            events.popleft()
        if len(self._events) > 10000:
            for other in [k for k, e in self._events.items() if not e or now - e[-1] > self.window]:
                if other != key:
                    del self._events[other]
        return events
