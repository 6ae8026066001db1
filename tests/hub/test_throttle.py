"""Failed-login back-off and sign-up rates, on a clock the tests move."""

from __future__ import annotations

from statcommons.hub.throttle import Backoff, Rate


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_failures_within_the_allowance_cost_nothing_then_the_wait_doubles_up_to_its_bound():
    clock = Clock()
    backoff = Backoff(allowance=3, max_delay=10, window=900, clock=clock)
    for _ in range(2):
        backoff.failed("ana")
    assert backoff.retry_after("ana") == 0
    waits = []
    for _ in range(6):
        backoff.failed("ana")
        waits.append(backoff.retry_after("ana"))
    assert waits == [1, 2, 4, 8, 10, 10]
    clock.now += 4
    assert backoff.retry_after("ana") == 6
    clock.now += 6
    assert backoff.retry_after("ana") == 0  # a bounded delay: over by itself, never a lockout


def test_a_success_clears_its_key_and_quiet_keys_are_forgotten():
    clock = Clock()
    backoff = Backoff(allowance=1, max_delay=60, window=900, clock=clock)
    backoff.failed("ana")
    assert backoff.retry_after("ana") == 1
    backoff.succeeded("ana")
    assert backoff.retry_after("ana") == 0
    for _ in range(5):
        backoff.failed("bob")
    clock.now += 901
    assert backoff.retry_after("bob") == 0
    backoff.failed("bob")
    assert backoff.retry_after("bob") == 1  # counting starts again


def test_keys_are_apart():
    backoff = Backoff(allowance=1, max_delay=60, clock=Clock())
    backoff.failed(("ana", "127.0.0.2"))
    backoff.failed(("ana", "127.0.0.2"))
    assert backoff.retry_after(("ana", "127.0.0.2")) == 2
    assert backoff.retry_after(("ana", "127.0.0.3")) == 0


def test_a_rate_allows_its_limit_per_window_and_says_when_the_next_may_come():
    clock = Clock()
    rate = Rate(limit=2, window=3600, clock=clock)
    rate.happened("127.0.0.2")
    clock.now += 100
    rate.happened("127.0.0.2")
    assert rate.retry_after("127.0.0.2") == 3500
    assert rate.retry_after("127.0.0.3") == 0
    clock.now += 3501
    assert rate.retry_after("127.0.0.2") == 0
