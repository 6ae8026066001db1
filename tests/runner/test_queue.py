"""Turns and schedule limits in a real hub whose runner has one slot and the default settings otherwise."""

from __future__ import annotations

import pytest

from .conftest import SLEEPY, notebook

pytestmark = pytest.mark.containers

QUICK = notebook("print('done')")


def test_one_persons_backlog_does_not_hold_up_anothers_first_run(one_slot_runner):
    hub = one_slot_runner
    hub.give_home("ana", {"sleepy.ipynb": SLEEPY, "quick.ipynb": QUICK})
    hub.give_home("bob", {"quick.ipynb": QUICK})
    assert hub.call("GET", "/user", "ana").json()["concurrency"] == 1
    first = hub.start("ana", path="sleepy.ipynb", parameters={"seconds": 4})
    backlog = [hub.start("ana", path="quick.ipynb") for _ in range(3)]
    bob = hub.start("bob", path="quick.ipynb")
    # Ana's first run holds the only slot while the others wait.
    assert hub.call("GET", f"/runs/{first['id']}", "ana").json()["status"] == "running"
    assert {hub.call("GET", f"/runs/{r['id']}", "ana").json()["status"] for r in backlog} == {"queued"}
    first, bob = hub.wait(first["id"], "ana"), hub.wait(bob["id"], "bob")
    backlog = [hub.wait(r["id"], "ana") for r in backlog]
    assert {r["status"] for r in (first, bob, *backlog)} == {"succeeded"}, (first, bob, backlog)
    # One slot: each run starts once the one before has ended. Bob's came second, not fifth
    # (times are to the second, and each run takes more than a second).
    assert first["finished"] <= bob["started"], (first, bob)
    assert all(bob["finished"] <= r["started"] for r in backlog), (bob, backlog)
    assert [r["id"] for r in sorted(backlog, key=lambda r: r["started"])] == [r["id"] for r in backlog]


@pytest.mark.parametrize(
    ("cron", "gap"),
    [("*/30 * * * *", "30 min"), ("0,5 * * * *", "5 min"), ("* 3 * * *", "1 min"), ("* * * * *", "1 min")],
)
def test_schedules_firing_more_often_than_hourly_are_refused(one_slot_runner, cron, gap):
    r = one_slot_runner.call("POST", "/schedules", "ana", json={"path": "quick.ipynb", "cron": cron})
    assert r.status_code == 422, r.text
    assert r.json()["errors"][0]["path"] == "cron"
    message = r.json()["message"]
    assert message.startswith("cron: ") and f"every {gap}" in message, message
    assert "1 h" in message and "runner.min_schedule_interval" in message, message


def test_hourly_and_rarer_schedules_are_made(one_slot_runner):
    assert one_slot_runner.call("GET", "/user", "ana").json()["min_schedule_interval"] == 3600
    for cron in ("0 * * * *", "15 8 * * 1-5"):
        r = one_slot_runner.call("POST", "/schedules", "ana", json={"path": "quick.ipynb", "cron": cron})
        assert r.status_code == 201, r.text
        assert one_slot_runner.call("DELETE", f"/schedules/{r.json()['id']}", "ana").status_code == 204
