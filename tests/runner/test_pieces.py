"""The runner's pure parts: reading how a run ended, cron expressions, checking requests, the store.

The store's tests run on SQLite and on a real PostgreSQL server (the library tests' fixture).
"""

from __future__ import annotations

import io
import itertools
import json
import tarfile
from datetime import UTC, datetime

import pytest

from statcommons.runner import api
from statcommons.runner.executor import Options, SourceError, failing_cell, outcome, plan, read_output
from statcommons.runner.scheduler import cron_problem, next_time
from statcommons.runner.store import Store

from .. import pgserver
from ..library.conftest import postgres_server  # noqa: F401  (a fixture, shared)

MB = 1024**2


def _cell(source, outputs=(), status="completed", tags=()):
    return {
        "cell_type": "code",
        "source": source,
        "outputs": list(outputs),
        "execution_count": 1,
        "metadata": {"tags": list(tags), "papermill": {"status": status}},
    }


ERROR = {"output_type": "error", "ename": "ZeroDivisionError", "evalue": "division by zero", "traceback": []}
NOTEBOOK = {
    "cells": [
        {"cell_type": "markdown", "source": "boom", "metadata": {"tags": ["papermill-error-cell-tag"]}},
        _cell("x = 1", tags=["parameters"]),
        _cell("x = 2", tags=["injected-parameters"]),
        {"cell_type": "markdown", "source": "# title", "metadata": {}},
        _cell("1 / 0", [ERROR], status="failed"),
    ]
}


def test_failing_cell_counts_the_cells_as_written():
    cell = failing_cell(NOTEBOOK)
    assert cell["index"] == 2 and cell["source"] == "1 / 0"
    assert cell["error"] == "ZeroDivisionError: division by zero"


def _outcome(**kwargs):
    base = {"exit_code": 1, "oom_killed": False, "stopped_by": None, "result": None, "notebook": None}
    return outcome(**{**base, "time_limit": 30, "mem_limit": 256 * MB, **kwargs})


def test_outcomes():
    assert _outcome(exit_code=0, result={"ok": True}) == ("succeeded", None, None)
    status, error, cell = _outcome(result={"ok": False, "ename": "PapermillExecutionError"}, notebook=NOTEBOOK)
    assert (status, error, cell["index"]) == ("failed", "ZeroDivisionError: division by zero", 2)
    running = {"cells": [_cell("import time; time.sleep(99)", status="running")]}
    status, error, cell = _outcome(exit_code=137, stopped_by="timeout", notebook=running)
    assert status == "timeout" and error == "stopped at the time limit of 30 s while cell 0 was running"
    assert _outcome(stopped_by="cancel")[0] == "cancelled"


@pytest.mark.parametrize(
    "kwargs",
    [
        {"oom_killed": True},
        {"result": {"ok": False, "ename": "DeadKernelError", "oom_kills": 1}},
        {"exit_code": 137},  # the driver itself was killed and wrote nothing
    ],
)
def test_memory_limit_is_named(kwargs):
    status, error, _ = _outcome(**kwargs)
    assert status == "failed" and "memory limit of 256M" in error and "OOM" in error


def test_a_failure_without_a_cell_says_what_the_driver_saw():
    status, error, _ = _outcome(result={"ok": False, "ename": "FileNotFoundError", "evalue": "no notebook at /x"})
    assert (status, error) == ("failed", "FileNotFoundError: no notebook at /x")


def _tar(files: dict) -> list[bytes]:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        for name, data in files.items():
            if data is None:
                info = tarfile.TarInfo(name)
                info.type, info.linkname = tarfile.SYMTYPE, "/etc/shadow"
                tar.addfile(info)
                continue
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return [buffer.getvalue()]


def test_output_reads_regular_files_only_and_caps_the_size():
    stream = _tar({"statcommons-run/result.json": b'{"ok": true}', "statcommons-run/output.ipynb": None})
    assert read_output(stream) == ({"ok": True}, None, None)
    result, notebook, problem = read_output(_tar({"statcommons-run/output.ipynb": b"x" * 5000}), limit=1000)
    assert notebook is None and "larger than" in problem


def test_plans_mount_only_what_a_run_may_see(tmp_path):
    shared = tmp_path / "shared-notebooks"
    (shared / "a").mkdir(parents=True)
    (shared / "a" / "n.ipynb").write_text("{}")
    options = Options(image="img", name_prefix="sc", shared_notebooks=shared, datasets=tmp_path / "none")

    class Run:
        user, item, path, parameters, source, time_limit = "ana", None, "work/n.ipynb", {"x": 1}, None, 60

    mine = plan(Run, options)
    assert mine.volumes == {"sc-home-ana": {"bind": "/home/jovyan", "mode": "rw"}}
    assert mine.spec["input"] == "/home/jovyan/work/n.ipynb" and mine.spec["cwd"] == "/home/jovyan/work"
    Run.path, Run.item, Run.source = None, "nb", {"shared_path": "shared-notebooks/a/n.ipynb"}
    library = plan(Run, options)
    assert library.volumes == {str(shared): {"bind": "/home/jovyan/shared-notebooks", "mode": "ro"}}
    Run.source = {"shared_path": "shared-notebooks/a/missing.ipynb"}
    with pytest.raises(SourceError):
        plan(Run, options)
    Run.source = {"attached": "x.ipynb"}
    assert plan(Run, options, attached=b"{}").files == {"notebook.ipynb": b"{}"}
    Run.source = {"repository": "https://git.example.org/stats/nb.git", "branch": "main", "path": "a/n.ipynb"}
    cloned = plan(Run, options)
    assert cloned.volumes == {} and cloned.spec["clone"]["branch"] == "main"
    assert cloned.spec["input"] == "/tmp/statcommons-clone/a/n.ipynb"


def test_cron():
    assert cron_problem("* * * * *") is None
    assert "5" in cron_problem("* * * *")
    assert "not a valid" in cron_problem("61 * * * *")
    assert cron_problem("* * * * * *")  # seconds are not allowed
    assert cron_problem(7)
    assert next_time("0 6 * * *", datetime(2026, 1, 1, 7, tzinfo=UTC)) == datetime(2026, 1, 2, 6, tzinfo=UTC)


@pytest.mark.parametrize("path", ["../x.ipynb", "/etc/x.ipynb", "a/../../x.ipynb", "x.py", "", "a\\b.ipynb", 3])
def test_bad_paths_name_the_field(path):
    with pytest.raises(api.ApiError) as e:
        api.check_path(path)
    assert e.value.status_code == 422 and e.value.errors[0]["path"] == "path"


def test_parameters_are_python_names():
    assert api.check_parameters({"year": 2024}) == {"year": 2024}
    for bad in ({"class": 1}, {"a b": 1}, [1]):
        with pytest.raises(api.ApiError):
            api.check_parameters(bad)


_schemas = itertools.count(1)


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request, tmp_path):
    if request.param == "sqlite":
        yield Store(f"sqlite:///{tmp_path / 'r.sqlite'}")
        return
    server = request.getfixturevalue("postgres_server")
    schema = f"runner_{next(_schemas)}"
    with pgserver.connect(server, autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {schema}")
    store = Store(pgserver.url(server, schema))
    yield store
    store.engine.dispose()
    with pgserver.connect(server, autocommit=True) as conn:
        conn.execute(f"DROP SCHEMA {schema} CASCADE")


def test_store_recovers_running_runs_and_retries_once(store):
    common = {"user": "ana", "path": "n.ipynb", "image": "img", "time_limit": 10, "mem_limit": MB * 100}
    first = store.add_run(**common)
    store.update_run(first.id, status="running")
    [(interrupted, retry)] = store.recover("interrupted")
    assert interrupted.status == "interrupted" and retry.retry_of == first.id and retry.status == "queued"
    store.update_run(retry.id, status="running")
    [(again, none)] = store.recover("interrupted")
    assert again.id == retry.id and none is None
    assert [r.status for r in store.runs()[0]] == ["interrupted", "interrupted"]


def test_failing_lists_library_notebooks_whose_latest_run_failed(store):
    common = {"user": "ana", "image": "img", "time_limit": 10, "mem_limit": MB * 100}
    for item, statuses in {
        "a": ["failed", "succeeded"],
        "b": ["succeeded", "timeout"],
        "c": ["failed", "cancelled"],
    }.items():
        for status in statuses:
            store.update_run(store.add_run(item=item, **common).id, status=status)
    assert [r.item for r in store.failing()] == ["b", "c"]
    assert json.dumps([r.status for r in store.failing(user="bob")]) == "[]"


def test_a_run_is_claimed_once_and_schedules_round_trip(store):
    common = {"user": "ana", "path": "n.ipynb", "image": "img", "time_limit": 10, "mem_limit": MB * 100}
    run = store.add_run(parameters={"n": 3, "label": "été"}, **common)
    assert store.update_run(run.id, only_if=("queued",), status="running") is not None
    assert store.update_run(run.id, only_if=("queued",), status="running") is None  # a second worker gets nothing
    assert store.run(run.id).parameters == {"n": 3, "label": "été"}
    runs, total = store.runs(user="ana", status=["running"])
    assert total == 1 and runs[0].id == run.id

    moment = datetime(2026, 11, 25, 8, 0, tzinfo=UTC)
    schedule = store.add_schedule(user="ana", item="tutorial-x", cron="0 8 * * *", parameters={}, next_run=moment)
    assert [s.id for s in store.due(moment)] == [schedule.id] and store.next_due() == moment
    later = datetime(2026, 11, 26, 8, 0, tzinfo=UTC)
    store.schedule_fired(schedule.id, later, run.id)
    assert store.due(moment) == [] and store.schedule(schedule.id).last_run == run.id
    assert store.schedule_busy(schedule.id) is False
    store.delete_schedule(schedule.id)
    assert store.schedules(user="ana") == []


def test_files_of_old_runs_are_removed_and_their_records_kept(store, tmp_path):
    from datetime import timedelta

    from statcommons.runner.executor import Executor
    from statcommons.runner.runs import Limits, Runner

    executor = Executor(None, Options(image="img", name_prefix="t"), tmp_path, threads=1)  # no engine needed
    runner = Runner(store, executor, Limits(image="img", time_limit=10, mem_limit=MB * 100), 1, None)
    common = {"user": "ana", "path": "n.ipynb", "image": "img", "time_limit": 10, "mem_limit": MB * 100}
    moment = datetime.now(UTC)
    old, recent, running = (store.add_run(**common) for _ in range(3))
    store.update_run(old.id, status="succeeded", finished=moment - timedelta(days=91))
    store.update_run(recent.id, status="failed", finished=moment - timedelta(days=89))
    store.update_run(running.id, status="running")
    for run in (old, recent, running):
        executor.run_dir(run.id).mkdir(parents=True)
        executor.run_dir(run.id).joinpath("output.ipynb").write_text("{}")
    assert runner.prune(90) == 1
    assert not executor.run_dir(old.id).exists()
    assert executor.run_dir(recent.id).exists() and executor.run_dir(running.id).exists()
    assert store.run(old.id).status == "succeeded"  # the record stays
    assert runner.prune(90) == 0
