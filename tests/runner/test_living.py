"""The living library's timing (each notebook's slot, when it is due) and failures named by their cause."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta

from statcommons.library.service.pages import run_text
from statcommons.runner.failures import missing_package
from statcommons.runner.living import due, slot

WEEK = 7 * 24 * 3600
NOW = datetime(2026, 12, 6, 7, 30, tzinfo=UTC)


def test_each_notebook_has_one_slot_a_week_and_a_catalogue_spreads_over_the_week():
    for item in ("tutorial-a", "tutorial-b"):
        latest = slot(item, NOW, WEEK)
        assert NOW - timedelta(seconds=WEEK) < latest <= NOW
        assert slot(item, latest + timedelta(seconds=WEEK - 1), WEEK) == latest  # the same slot all week
        assert slot(item, latest + timedelta(seconds=WEEK), WEEK) == latest + timedelta(seconds=WEEK)
    days = Counter(slot(f"notebook-{n}", NOW, WEEK).weekday() for n in range(700))
    assert len(days) == 7 and max(days.values()) < 2 * min(days.values()), days


def test_a_notebook_is_due_when_it_never_ran_or_its_last_run_is_older_than_its_slot():
    item = {"id": "tutorial-a"}
    latest = slot("tutorial-a", NOW, WEEK)
    assert due({**item, "last_run": None}, NOW, WEEK)
    assert due(
        {**item, "last_run": {"status": "failed", "finished": (latest - timedelta(minutes=1)).isoformat()}}, NOW, WEEK
    )
    after = (latest + timedelta(minutes=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert not due({**item, "last_run": {"status": "succeeded", "finished": after}}, NOW, WEEK)


def test_a_missing_package_is_named_in_python_and_in_r():
    assert missing_package("ModuleNotFoundError: No module named 'seaborn'") == "seaborn"
    assert missing_package("ModuleNotFoundError: No module named 'mpl_toolkits.basemap'") == "mpl_toolkits"
    assert missing_package("Error in library(VIM): there is no package called ‘VIM’") == "VIM"
    assert missing_package("ZeroDivisionError: division by zero") is None
    assert missing_package(None) is None


def test_the_latest_run_in_words():
    assert run_text(None) == "not run yet"
    assert run_text({"status": "succeeded", "finished": "2026-12-06T07:30:00Z"}) == (
        "ran successfully on 2026-12-06 07:30 UTC"
    )
    failed = {"status": "failed", "finished": "2026-12-06T07:30:00Z", "cell": 2, "error": "ModuleNotFoundError: x"}
    assert run_text(failed) == "failed on 2026-12-06 07:30 UTC in cell 3: ModuleNotFoundError: x"
    assert run_text({**failed, "missing_package": "pymc"}) == (
        "failed on 2026-12-06 07:30 UTC in cell 3: it needs the package pymc, which its image lacks"
    )
    assert run_text({"status": "timeout", "finished": "2026-12-06T07:30:00Z"}).startswith("stopped at its time limit")
