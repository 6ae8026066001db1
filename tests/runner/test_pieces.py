"""The runner's pure parts: reading how a run ended, cron expressions, checking requests, the store, the queue.

The store's tests run on SQLite and on a real PostgreSQL server (the library tests' fixture).
"""

from __future__ import annotations

import asyncio
import dataclasses
import io
import itertools
import json
import tarfile
import time
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import pytest

from statcommons.kit.validation import validate as validate_request
from statcommons.kit.web import ApiError
from statcommons.runner import registration
from statcommons.runner.executor import (
    DRIVER,
    KERNEL_NOT_IN_IMAGE,
    Executor,
    Outcome,
    SourceError,
    failing_cell,
    outcome,
    plan,
    read_output,
)
from statcommons.runner.kernels import Choice, KernelError, Kernels, notebook_kernel, read_kernel
from statcommons.runner.models import NewRun
from statcommons.runner.runs import Runner, next_run
from statcommons.runner.scheduler import cron_problem, interval_problem, next_time, shortest_gap
from statcommons.runner.store import Store
from statcommons.settings import validate

from .. import pgserver


def run_options(**changes):
    """A run's options as the default settings make them, with ``changes``."""
    return dataclasses.replace(registration.options(validate({}), {}).run, **changes)


def run_limits(**changes):
    """A run's limits as the default settings make them, with ``changes``."""
    return dataclasses.replace(registration.options(validate({}), {}).limits, **changes)


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
    options = run_options(image="img", name_prefix="sc", shared_notebooks=shared, datasets=tmp_path / "none")

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


def _kernels(**settings) -> Kernels:
    return Kernels.from_settings(validate(settings))


def _notebook(kernelspec) -> bytes:
    return json.dumps({"cells": [], "metadata": {"kernelspec": kernelspec}, "nbformat": 4}).encode()


def test_a_notebook_runs_in_the_image_of_the_profile_offering_its_kernel():
    kernels = _kernels()
    assert kernels.choose("python3") == Choice("python", "statcommons/lab:latest", ("python3",))
    assert kernels.choose("ir") == Choice("r", "statcommons/lab-r:latest", ("ir", "python3"))
    assert kernels.choose(None).profile == "python"  # no kernelspec: the default profile
    assert kernels.offered() == ["ir", "python3"]
    assert run_limits().kernels == kernels and run_limits().image == "statcommons/lab:latest"


def test_a_kernel_of_several_profiles_goes_to_the_default_one_else_the_first():
    profiles = {
        "plain": {"display_name": "Plain", "image": "plain:1"},  # kernels default to [python3]
        "stats": {"display_name": "Stats", "image": "stats:1", "kernels": ["ir", "python3", "julia-1.10"]},
        "more": {"display_name": "More", "image": "more:1", "kernels": ["julia-1.10", "xcpp17"]},
    }
    kernels = _kernels(profiles=profiles, default_profile="more")
    assert kernels.choose(None).image == "more:1"
    assert kernels.choose("julia-1.10").image == "more:1"  # the default profile offers it
    assert kernels.choose("python3").image == "plain:1"  # the first in the settings' order
    assert kernels.choose("ir").image == "stats:1"
    assert kernels.for_image("stats:1").kernels == ("ir", "python3", "julia-1.10")
    assert kernels.for_image("gone:1") is None


def test_runner_image_replaces_the_default_profiles_image_in_runs():
    kernels = _kernels(runner={"image": "site/runner:2"})
    assert kernels.choose("python3").image == kernels.choose(None).image == "site/runner:2"
    assert kernels.choose("ir").image == "statcommons/lab-r:latest"
    options = registration.options(validate({"runner": {"image": "site/runner:2"}}), {})
    assert options.run.image == options.limits.image == "site/runner:2"


@pytest.mark.parametrize("kernel", ["julia-1.10", "Python3", "R"])
def test_a_kernel_no_profile_offers_is_refused_naming_it_and_the_offered_ones(kernel):
    with pytest.raises(KernelError) as e:
        _kernels().choose(kernel)
    assert str(e.value) == (
        f"the notebook's kernel {kernel!r} is not offered here: the kernels offered are ir, python3"
    )


def test_the_kernel_a_notebook_names():
    assert read_kernel(_notebook({"name": "ir", "display_name": "R", "language": "R"})) == "ir"
    assert read_kernel(_notebook({"name": "python3"})) == "python3"
    # Naming none, or not a notebook: the default profile runs it (papermill says what is wrong).
    for data in (_notebook(None), _notebook({"name": ""}), _notebook({"name": 3}), _notebook("ir"), b"[1]", b"{"):
        assert read_kernel(data) is None, data
    assert read_kernel(None) is None
    assert notebook_kernel({"metadata": {}}) is None


def test_the_driver_reads_the_kernel_as_the_runner_does(tmp_path):
    """incontainer.py cannot import StatCommons: its own reading of the kernel must agree."""
    namespace: dict = {"__name__": "driver", "__file__": str(DRIVER)}
    exec(compile(DRIVER.read_text(), str(DRIVER), "exec"), namespace)
    cases = [_notebook({"name": "ir"}), _notebook({"name": ""}), _notebook(None), _notebook([1]), b"[1]", b"{"]
    for i, data in enumerate(cases):
        path = tmp_path / f"n{i}.ipynb"
        path.write_bytes(data)
        assert namespace["notebook_kernel"](str(path)) == read_kernel(data), data


def test_the_driver_runs_no_notebook_of_a_kernel_its_image_lacks(tmp_path):
    """The real driver, as the container runs it: it stops before papermill and names the kernel."""
    import subprocess
    import sys

    run = tmp_path / "run"
    run.mkdir()
    (run / "driver.py").write_bytes(DRIVER.read_bytes())
    (tmp_path / "r.ipynb").write_bytes(_notebook({"name": "ir"}))
    spec = {"input": str(tmp_path / "r.ipynb"), "cwd": str(tmp_path), "output_dir": str(tmp_path / "out")}
    (run / "spec.json").write_text(json.dumps({**spec, "parameters": {}, "clone": None, "kernels": ["python3"]}))
    done = subprocess.run([sys.executable, str(run / "driver.py")], capture_output=True, text=True, timeout=60)
    assert done.returncode == 1, done.stderr
    result = json.loads((tmp_path / "out" / "result.json").read_text())
    assert result["ename"] == KERNEL_NOT_IN_IMAGE and result["kernel"] == "ir"
    assert result["evalue"] == "the notebook's kernel 'ir' is not in this image, which has python3"


def test_plans_give_the_driver_the_kernels_of_the_runs_image(tmp_path):
    class Run:
        user, item, path, parameters, source, time_limit = "ana", None, "n.ipynb", {}, None, 60

    assert plan(Run, run_options(), kernels=("ir", "python3")).spec["kernels"] == ["ir", "python3"]
    assert plan(Run, run_options()).spec["kernels"] == []


def test_the_runner_reads_a_shared_notebooks_kernel_where_it_is(tmp_path):
    shared = tmp_path / "shared-notebooks"
    shared.mkdir()
    (shared / "r.ipynb").write_bytes(_notebook({"name": "ir"}))
    (shared / "j.ipynb").write_bytes(_notebook({"name": "julia-1.10"}))
    options = run_options(shared_notebooks=shared)
    runner = Runner(None, Executor(None, options, tmp_path, threads=1), run_limits(), 1, None)

    def choose(shared_path):
        return asyncio.run(runner.choose("ana", item="x", source={"shared_path": shared_path}))

    assert choose("shared-notebooks/r.ipynb").image == "statcommons/lab-r:latest"
    assert choose("shared-notebooks/missing.ipynb").profile == "python"  # its run says it is missing
    with pytest.raises(KernelError, match="'julia-1.10' is not offered here: the kernels offered are ir, python3"):
        choose("shared-notebooks/j.ipynb")
    # A cloned notebook is known only in its container: the default profile's image first.
    assert asyncio.run(
        runner.choose("ana", item="x", source={"repository": "r", "branch": "b", "path": "p"})
    ).profile == ("python")
    runner.executor.close()


def test_cron():
    assert cron_problem("* * * * *") is None
    assert "5" in cron_problem("* * * *")
    assert "not a valid" in cron_problem("61 * * * *")
    assert cron_problem("* * * * * *")  # seconds are not allowed
    assert cron_problem(7)
    assert "not a valid" in cron_problem("R * * * *")  # croniter's random minute, drawn again every time
    assert "never fires" in cron_problem("0 0 31 2 *")
    assert cron_problem("0 0 * mar fri") is None
    assert next_time("0 6 * * *", datetime(2026, 1, 1, 7, tzinfo=UTC)) == datetime(2026, 1, 2, 6, tzinfo=UTC)


HOUR, DAY = 3600, 86400


@pytest.mark.parametrize(
    ("cron", "gap"),
    [
        ("*/30 * * * *", 1800),
        ("0,5 * * * *", 300),
        ("* 3 * * *", 60),  # every minute from 3:00 to 3:59
        ("* * * * *", 60),
        ("0 6,18 * * *", 12 * HOUR),
        ("0 0,23 * * *", HOUR),  # 23:00 to 0:00 the next day
        ("0 0,23 * * 1,2", HOUR),  # Monday 23:00 to Tuesday 0:00
        ("0 0,23 L,1 * *", HOUR),  # the last day of a month to the first of the next
        ("0 0,23 * * 1,3,5", 23 * HOUR),  # never two days in a row
        ("0 * * * *", HOUR),
        ("15 8 * * 1-5", None),
        ("0 6 * * *", None),
        ("0 0 29 2 *", None),
    ],
)
def test_shortest_gap_between_the_times_of_a_schedule(cron, gap):
    assert shortest_gap(cron, DAY) == gap


@pytest.mark.parametrize("cron", ["*/30 * * * *", "0,5 * * * *", "* 3 * * *", "0,30 9 * * 1"])
def test_more_often_than_hourly_is_refused_at_the_default(cron):
    message = interval_problem(cron, HOUR)
    assert message and "runner.min_schedule_interval" in message and "1 h" in message
    assert interval_problem(cron, 60) is None


def test_the_refusal_names_the_shortest_gap():
    assert "as often as every 5 min" in interval_problem("0,5 * * * *", HOUR)
    assert "as often as every 1 h" in interval_problem("0 0,23 * * *", 2 * HOUR)


@pytest.mark.parametrize("cron", ["0 * * * *", "15 8 * * 1-5", "0 0,23 * * *", "0 6 * * 1", "30 1 1 * *"])
def test_hourly_or_rarer_is_accepted_at_the_default(cron):
    assert interval_problem(cron, HOUR) is None


def test_a_long_minimum_is_checked_quickly_enough():
    start = time.monotonic()
    assert interval_problem("0 0,23 * * 1,3,5", DAY) is not None  # 23 h apart on the same day
    assert interval_problem("0 12 * * 1,3,5", DAY) is None
    assert time.monotonic() - start < 5


def _order(waiting: list[tuple[int, str]], last_turns: dict | None = None) -> list[int]:
    """The order a runner with one slot starts ``waiting`` runs in."""
    waiting, last_turns, order = list(waiting), dict(last_turns or {}), []
    clock = datetime(2026, 1, 1, tzinfo=UTC)
    while (run_id := next_run(waiting, last_turns)) is not None:
        user = dict(waiting)[run_id]
        waiting.remove((run_id, user))
        clock += timedelta(seconds=1)
        last_turns[user] = clock
        order.append(run_id)
    return order


def test_the_queue_takes_turns_between_people():
    assert next_run([], {}) is None
    # Ana's first run got the slot; her three others and then Bob's one wait: Bob's goes next.
    moment = datetime(2026, 1, 1, tzinfo=UTC)
    assert next_run([(2, "ana"), (3, "ana"), (4, "ana"), (5, "bob")], {"ana": moment}) == 5
    assert _order([(1, "ana"), (2, "ana"), (3, "ana"), (4, "ana"), (5, "bob")]) == [1, 5, 2, 3, 4]
    # Round robin: each person's oldest run in turn.
    assert _order([(1, "ana"), (2, "ana"), (3, "ana"), (4, "bob"), (5, "bob"), (6, "cora")]) == [1, 4, 6, 2, 5, 3]
    # Twenty runs of one person hold up nobody's first run, nor a curator's scheduled library notebook
    # (a scheduled run is its schedule's creator's).
    backlog = [(i, "erin") for i in range(1, 21)]
    assert _order([*backlog, (21, "bob"), (22, "cora")])[:4] == [1, 21, 22, 2]
    # Whoever's latest turn came longest ago goes first, however new their run; never-served people first.
    earlier, later = moment, moment + timedelta(minutes=5)
    assert next_run([(7, "ana"), (9, "bob")], {"ana": later, "bob": earlier}) == 9
    assert next_run([(7, "ana"), (9, "bob")], {"ana": earlier}) == 9
    assert next_run([(3, "ana"), (2, "ana")], {}) == 2  # a person's own runs: oldest first


@pytest.mark.parametrize("path", ["../x.ipynb", "/etc/x.ipynb", "a/../../x.ipynb", "x.py", "", "a\\b.ipynb", 3])
def test_bad_paths_name_the_field(path):
    with pytest.raises(ApiError) as e:
        validate_request(NewRun, {"path": path})
    assert e.value.status_code == 422 and e.value.errors[0]["path"] == "path"


def test_parameters_are_python_names():
    assert validate_request(NewRun, {"path": "a.ipynb", "parameters": {"year": 2024}}).parameters == {"year": 2024}
    for bad, path in (({"class": 1}, "parameters.class"), ({"a b": 1}, "parameters.a b"), ([1], "parameters")):
        with pytest.raises(ApiError) as e:
            validate_request(NewRun, {"path": "a.ipynb", "parameters": bad})
        assert e.value.errors[0]["path"] == path


def test_a_run_asks_for_no_more_than_the_limits():
    limits = SimpleNamespace(time_limit=60, mem_limit=1024**3)
    run = validate_request(NewRun, {"item": "a-b", "time_limit": 60, "mem_limit": "512M"}, limits=limits)
    assert (run.time_limit, run.mem_limit) == (60, 512 * 1024**2)
    wrong = [({"time_limit": 61}, "time_limit"), ({"mem_limit": "2G"}, "mem_limit")]
    wrong.append(({"time_limit": True}, "time_limit"))
    for bad, field in wrong:
        with pytest.raises(ApiError) as e:
            validate_request(NewRun, {"item": "a-b", **bad}, limits=limits)
        assert [error["path"] for error in e.value.errors] == [field]


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
    store.close()
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


def test_the_retry_of_a_library_run_asks_what_the_run_asked(store):
    """A retry that lost the item's source failed with 'does not say where its notebook is'."""
    source = {"repository": "https://example.org/r.git", "branch": "main", "path": "n.ipynb"}
    asked = {
        "user": "statcommons/library",
        "item": "gdp-flash",
        "source": source,
        "parameters": {"year": 2026},
        "schedule": 7,
        "image": "img",
        "time_limit": 10,
        "mem_limit": MB * 100,
    }
    first = store.add_run(**asked)
    store.update_run(first.id, status="running")
    [(_, retry)] = store.recover("interrupted")
    assert {k: getattr(store.run(retry.id), k) for k in asked} == asked


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
    from statcommons.runner.runs import Runner

    executor = Executor(None, run_options(image="img", name_prefix="t"), tmp_path, threads=1)  # no engine needed
    runner = Runner(store, executor, run_limits(image="img", time_limit=10, mem_limit=MB * 100), 1, None)
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


class _NoEngine(Executor):
    """The runner's executor without an engine: a run 'executes' by recording that it started."""

    def __init__(self, workdir):
        super().__init__(None, run_options(image="img", name_prefix="t"), workdir, threads=2)
        self.started: list[int] = []

    def leftovers(self) -> list[str]:
        return []

    def home_exists(self, user: str) -> bool:
        return True

    async def execute(self, run, plan_, cancel, on_start) -> Outcome:
        self.started.append(run.id)
        await on_start(datetime.now(UTC), "sha256:0")
        await asyncio.sleep(0.01)
        return Outcome("succeeded", duration=0.01)


async def _until(check, timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "timed out"
        await asyncio.sleep(0.01)


def test_the_runner_starts_another_persons_first_run_second(store, tmp_path):
    """One slot, no engine: Ana queues four runs, then Bob one; Bob's starts right after Ana's first."""
    limits = run_limits(image="img", time_limit=10, mem_limit=MB * 100)

    async def scenario():
        executor = _NoEngine(tmp_path)
        runner = Runner(store, executor, limits, 1, None)
        await runner.start()
        ana = [runner.submit("ana", path="n.ipynb").id for _ in range(4)]
        bob = runner.submit("bob", path="n.ipynb").id
        cancelled = runner.submit("ana", path="n.ipynb")
        await runner.cancel(cancelled, "ana")
        await _until(lambda: len(executor.started) == 5)
        assert executor.started == [ana[0], bob, *ana[1:]]
        # An idle worker is woken by the next run, at once.
        late = runner.submit("cora", path="n.ipynb").id
        await _until(lambda: len(executor.started) == 6, timeout=5)
        await _until(lambda: store.run(late).status == "succeeded")
        await runner.stop()
        executor.close()
        # A new runner goes on with the turns: Bob's latest run started before Ana's latest.
        again = _NoEngine(tmp_path)
        waiting = [
            store.add_run(user=user, path="n.ipynb", image="img", time_limit=10, mem_limit=MB)
            for user in ("ana", "bob")
        ]
        runner = Runner(store, again, limits, 1, None)
        await runner.start()
        await _until(lambda: len(again.started) == 2)
        assert again.started == [waiting[1].id, waiting[0].id]
        await _until(lambda: all(store.run(run.id).status == "succeeded" for run in waiting))
        await runner.stop()
        again.close()
        return cancelled.id

    cancelled = asyncio.run(scenario())
    assert store.run(cancelled).status == "cancelled" and store.run(cancelled).started is None
    runs, _ = store.runs(limit=100)
    assert all(run.status in ("succeeded", "cancelled") for run in runs)


def test_two_workers_never_claim_the_same_run(store, tmp_path):
    async def scenario():
        executor = _NoEngine(tmp_path)
        runner = Runner(store, executor, run_limits(image="img", time_limit=10, mem_limit=MB * 100), 3, None)
        await runner.start()
        ids = [runner.submit(user, path="n.ipynb").id for user in ("ana", "bob") * 10]
        await _until(lambda: store.runs(status=["succeeded"])[1] == 20)
        await runner.stop()
        executor.close()
        return ids, executor.started

    ids, started = asyncio.run(scenario())
    assert sorted(started) == sorted(ids)  # each once
    assert store.last_started().keys() == {"ana", "bob"}


def test_schedules_made_before_the_minimum_keep_running_and_are_logged(store, caplog):
    from statcommons.runner.app import _warn_frequent_schedules

    moment = datetime(2026, 11, 25, 8, 0, tzinfo=UTC)
    often = store.add_schedule(user="ana", path="n.ipynb", cron="*/5 * * * *", parameters={}, next_run=moment)
    store.add_schedule(user="bob", path="n.ipynb", cron="0 6 * * *", parameters={}, next_run=moment)
    with caplog.at_level("WARNING", logger="statcommons.runner"):
        _warn_frequent_schedules(store, HOUR)
    assert [r.getMessage() for r in caplog.records] == [
        f"schedule {often.id} of ana, kept as it is: '*/5 * * * *' fires as often as every 5 min: "
        "the shortest interval allowed is 1 h (the setting runner.min_schedule_interval)"
    ]
    assert len(store.schedules()) == 2 and [s.id for s in store.due(moment)] == [often.id, often.id + 1]
