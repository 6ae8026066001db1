"""The notebook runner inside a real hub, with real containers of the user image.

The runs most tests look at are started together by the ``batch`` fixture, so that they
share the queue (two at a time) instead of waiting for each other test by test; the
schedule is made at the start too, and checked last, once a minute has passed.
"""

from __future__ import annotations

import json
import os
import signal

import docker
import pytest
import requests

from ..gitserver import make_repository, serving
from ..hubtools import wait_for
from .conftest import ATTACHED_FAILING, FAILING, HANGING, HELLO, HOG, IMAGE, SLEEPY

pytestmark = pytest.mark.containers


def outputs(executed: dict) -> str:
    """Every text output of an executed notebook, joined."""
    texts = []
    for cell in executed["cells"]:
        for output in cell.get("outputs", []):
            text = output.get("text", "")
            texts.append("".join(text) if isinstance(text, list) else text)
    return "".join(texts)


@pytest.fixture(scope="module")
def homes(runner):
    ana = {"data.txt": "world\n", "hello.ipynb": HELLO, "work/failing.ipynb": FAILING, "sleepy.ipynb": SLEEPY}
    runner.give_home("ana", {**ana, "hanging.ipynb": HANGING, "hog.ipynb": HOG})
    runner.give_home("bob", {"data.txt": "bob's own\n", "hello.ipynb": HELLO})
    runner.user("cora", curator=True)
    return runner


@pytest.fixture(scope="module")
def schedule(homes):
    r = homes.call("POST", "/schedules", "ana", json={"path": "hello.ipynb", "cron": "* * * * *"})
    assert r.status_code == 201, r.text
    return r.json()


@pytest.fixture(scope="module")
def item_schedule(homes):
    """A curator schedules a library notebook: it runs without anyone's home."""
    r = homes.call("POST", "/schedules", "cora", json={"item": "runner-shared", "cron": "* * * * *"})
    assert r.status_code == 201, r.text
    return r.json()


def publish(homes, title: str, content: dict) -> str:
    """A library notebook whose file the library keeps, published by the curator cora; its id."""
    item = {"type": "notebook", "title": title, "summary": "A notebook of the runner's tests."}
    r = homes.library("POST", "/items", "cora", json={**item, "notebook_content": content})
    assert r.status_code == 201, r.text
    item_id, revision = r.json()["id"], r.json()["revision"]
    r = homes.library("POST", f"/items/{item_id}/review", "cora", json={"decision": "publish", "revision": revision})
    assert r.status_code == 200, r.text
    return item_id


@pytest.fixture(scope="module")
def attached_item(homes):
    """A published library notebook whose file the library keeps; it fails (a missing module)."""
    return publish(homes, "Needs a missing module", ATTACHED_FAILING)


@pytest.fixture(scope="module")
def batch(homes, schedule, item_schedule, attached_item):
    """Runs started at once; each test waits for its own."""
    return {
        "hello": homes.start("ana", path="hello.ipynb", parameters={"greeting": "bonjour"}),
        "failing": homes.start("ana", path="work/failing.ipynb"),
        "hanging": homes.start("ana", path="hanging.ipynb", time_limit=12),
        "hog": homes.start("ana", path="hog.ipynb", mem_limit="256M"),
        "shared": homes.start("ana", item="runner-shared"),
        "attached": homes.start("ana", item=attached_item),
        "bob": homes.start("bob", path="hello.ipynb"),
    }


def test_an_own_notebook_runs_with_parameters_and_its_executed_notebook_is_kept(homes, batch):
    run = homes.wait(batch["hello"]["id"], "ana")
    assert run["status"] == "succeeded", run
    assert run["user"] == "ana" and run["path"] == "hello.ipynb" and run["item"] is None
    assert run["parameters"] == {"greeting": "bonjour"}
    assert run["started"] and run["finished"] and 0 < run["duration"] < 60
    assert run["image"] == IMAGE and run["image_id"].removeprefix("sha256:")
    assert run["error"] is None and run["retry_of"] is None
    r = homes.call("GET", f"/runs/{run['id']}/notebook", "ana")
    assert r.status_code == 200 and r.headers["Content-Type"].startswith("application/x-ipynb+json")
    executed = r.json()
    # The parameter reached the notebook, and the notebook read ana's own file.
    assert "bonjour, world" in outputs(executed)
    assert any("injected-parameters" in c["metadata"].get("tags", []) for c in executed["cells"])
    # Bob's run of the same notebook read his file, not hers.
    bob = homes.wait(batch["bob"]["id"], "bob")
    executed = homes.call("GET", f"/runs/{bob['id']}/notebook", "bob").json()
    assert "hello, bob's own" in outputs(executed) and "world" not in outputs(executed)


def test_a_failing_notebook_records_the_cell_and_the_error(homes, batch):
    run = homes.wait(batch["failing"]["id"], "ana")
    assert run["status"] == "failed", run
    assert run["error"] == "ZeroDivisionError: division by zero", run
    assert run["failing_cell"]["index"] == 1 and run["failing_cell"]["source"] == "total = x / 0"
    executed = homes.call("GET", f"/runs/{run['id']}/notebook", "ana").json()
    assert any(o.get("output_type") == "error" for c in executed["cells"] for o in c.get("outputs", []))


def test_a_hanging_notebook_stops_at_its_time_limit(homes, batch):
    run = homes.wait(batch["hanging"]["id"], "ana")
    assert run["status"] == "timeout", run
    assert run["error"] == "stopped at the time limit of 12 s while cell 0 was running", run
    assert run["failing_cell"]["index"] == 0 and run["time_limit"] == 12
    assert 12 <= run["duration"] < 40
    assert _container(homes.hub, run["id"]) is None  # killed and removed


def test_a_memory_hog_is_stopped_by_its_memory_limit(homes, batch):
    run = homes.wait(batch["hog"]["id"], "ana")
    assert run["status"] == "failed", run
    assert "memory limit of 256M" in run["error"] and "OOM" in run["error"], run["error"]
    assert run["mem_limit"] == 256 * 1024**2


def shown_in_library(homes, item_id: str, run: dict) -> dict:
    """The item's ``last_run`` once the library shows this run, or one that ended after it (a schedule's).

    The runner records a run in the library just after it ends.
    """

    def shown():
        last_run = homes.library("GET", f"/items/{item_id}", "bob").json().get("last_run") or {}
        return last_run if int(last_run.get("run", 0)) >= run["id"] else None

    return wait_for(shown, 30, what=f"the library to show run {run['id']} of {item_id}")


def test_library_notebooks_run_and_the_library_shows_their_last_run(homes, batch, attached_item):
    shared = homes.wait(batch["shared"]["id"], "ana")
    assert shared["status"] == "succeeded", shared
    executed = homes.call("GET", f"/runs/{shared['id']}/notebook", "ana").json()
    assert outputs(executed).strip() == "3"  # the shared data set, read beside the shared notebook
    attached = homes.wait(batch["attached"]["id"], "ana")
    assert attached["status"] == "failed" and "ModuleNotFoundError" in attached["error"], attached

    assert shown_in_library(homes, "runner-shared", shared)["status"] == "succeeded"
    last_run = shown_in_library(homes, attached_item, attached)
    assert last_run["status"] == "failed" and "ModuleNotFoundError" in last_run["error"]
    # Curators see the failing library notebooks; a user sees only their own runs among them.
    failing = homes.call("GET", "/runs?failing=true", "cora").json()["runs"]
    assert [r["item"] for r in failing] == [attached_item]
    assert homes.call("GET", "/runs?failing=true", "bob").json()["runs"] == []


def test_a_library_notebook_in_a_git_repository_is_cloned_and_run(homes, tmp_path):
    from .conftest import notebook

    repos = tmp_path / "repos"
    repos.mkdir()
    hello = notebook("print(f'{word} from a clone')", parameters='word = "hello"')
    make_repository(repos, "tutorials.git", {"notebooks/hello.ipynb": json.dumps(hello)}, branch="stable")
    with serving(repos) as base:
        item = {
            "type": "notebook",
            "title": "A notebook kept in a git repository",
            "summary": "Cloned by the runner.",
            "notebook": {"repository": f"{base}tutorials.git", "branch": "stable", "path": "notebooks/hello.ipynb"},
        }
        r = homes.library("POST", "/items", "cora", json=item)
        assert r.status_code == 201, r.text
        item_id, revision = r.json()["id"], r.json()["revision"]
        review = {"decision": "publish", "revision": revision}
        assert homes.library("POST", f"/items/{item_id}/review", "cora", json=review).ok
        run = homes.start("ana", item=item_id, parameters={"word": "bonjour"})
        ended = homes.wait(run["id"], "ana", timeout=150)
    assert ended["status"] == "succeeded", ended
    assert "bonjour from a clone" in outputs(homes.call("GET", f"/runs/{run['id']}/notebook", "ana").json())


def test_users_never_see_or_cancel_each_others_runs(homes, batch):
    run_id = batch["hello"]["id"]
    for method, path in (("GET", ""), ("DELETE", ""), ("GET", "/notebook")):
        r = homes.call(method, f"/runs/{run_id}{path}", "bob")
        assert r.status_code == 404, (method, path, r.text)
    mine = homes.call("GET", "/runs", "bob").json()["runs"]
    assert mine and {r["user"] for r in mine} == {"bob"}
    assert homes.call("GET", "/runs?user=ana", "bob").status_code == 403
    assert homes.call("GET", f"/runs/{run_id}", "cora").status_code == 200
    everyone = homes.call("GET", "/runs?limit=100", "cora").json()["runs"]
    assert {"ana", "bob"} <= {r["user"] for r in everyone}
    schedules = homes.call("GET", "/schedules", "bob").json()["schedules"]
    assert schedules == []
    ana_schedule = homes.call("GET", "/schedules", "ana").json()["schedules"][0]["id"]
    assert homes.call("DELETE", f"/schedules/{ana_schedule}", "bob").status_code == 404


BAD = [
    ({"path": "../bob/hello.ipynb"}, 422, "path"),
    ({"path": "/home/jovyan/hello.ipynb"}, 422, "path"),
    ({"path": "hello.py"}, 422, "path"),
    ({"item": "no-such-item"}, 404, "item"),
    ({"item": "Not An Id"}, 422, "item"),
    ({}, 422, "item"),
    ({"path": "hello.ipynb", "item": "runner-shared"}, 422, "item"),
    ({"path": "hello.ipynb", "image": "alpine"}, 422, "image"),
    ({"path": "hello.ipynb", "parameters": {"not a name": 1}}, 422, "parameters.not a name"),
    ({"path": "hello.ipynb", "parameters": [1]}, 422, "parameters"),
    ({"path": "hello.ipynb", "time_limit": 100000}, 422, "time_limit"),
    ({"path": "hello.ipynb", "mem_limit": "64G"}, 422, "mem_limit"),
    ({"path": "hello.ipynb", "mem_limit": "lots"}, 422, "mem_limit"),
]


@pytest.mark.parametrize(("body", "status", "field"), BAD)
def test_bad_runs_are_refused_naming_the_field(homes, body, status, field):
    r = homes.call("POST", "/runs", "ana", json=body)
    assert r.status_code == status, r.text
    assert r.json()["errors"][0]["path"] == field


def test_other_bad_requests(homes):
    assert homes.call("POST", "/runs", "ana", data=b"{not json").status_code == 400
    assert homes.call("POST", "/runs", "ana", json=[1]).status_code == 422
    assert homes.call("POST", "/runs", "ana", data=b"x" * 100_000).status_code == 413
    r = homes.call("GET", "/runs?colour=red", "ana")
    assert r.status_code == 422 and r.json()["errors"][0]["path"] == "colour"
    assert homes.call("GET", "/runs?limit=-1", "ana").status_code == 422
    assert homes.call("GET", "/runs?status=fine", "ana").status_code == 422
    assert homes.call("GET", "/runs/abc", "ana").status_code == 404
    assert homes.call("GET", "/runs/99999999", "ana").status_code == 404
    assert homes.call("GET", "/nothing", "ana").status_code == 404
    r = homes.call("POST", "/runs", "dave", json={"path": "hello.ipynb"})  # dave never had a server
    assert r.status_code == 422 and "no home" in r.json()["message"]
    for cron in ("every minute", "* * * *", "61 * * * *", "* * * * * *", "R * * * *", "0 0 31 2 *", None):
        r = homes.call("POST", "/schedules", "ana", json={"path": "hello.ipynb", "cron": cron})
        assert r.status_code == 422 and r.json()["errors"][0]["path"] == "cron", (cron, r.text)
    r = homes.call("POST", "/schedules", "ana", json={"path": "../x.ipynb", "cron": "0 * * * *"})
    assert r.status_code == 422 and r.json()["errors"][0]["path"] == "path"
    r = requests.get(f"{homes.url}/runs", timeout=30, allow_redirects=False)
    assert r.status_code == 401 and r.json()["status"] == 401


def test_running_and_waiting_runs_are_cancelled(homes):
    # Two slots: two long runs take them, the third waits.
    runs = [homes.start("ana", path="sleepy.ipynb", parameters={"seconds": 120}) for _ in range(3)]
    for run in runs[:2]:
        homes.wait(run["id"], "ana", statuses=("running",), timeout=120)
    host = _container(homes.hub, runs[0]["id"]).attrs["HostConfig"]
    assert host["NanoCpus"] == 10**9 or (host["CpuQuota"], host["CpuPeriod"]) == (100000, 100000), host
    r = homes.call("DELETE", f"/runs/{runs[2]['id']}", "ana")
    assert r.status_code == 200 and r.json()["status"] == "cancelled", r.text
    assert r.json()["error"] == "cancelled by ana before it started" and r.json()["started"] is None
    for run in runs[:2]:
        r = homes.call("DELETE", f"/runs/{run['id']}", "ana")
        assert r.status_code == 200 and r.json()["status"] == "cancelled", r.text
        assert r.json()["error"] == "cancelled by ana"
        assert _container(homes.hub, run["id"]) is None
    assert homes.call("DELETE", f"/runs/{runs[0]['id']}", "ana").status_code == 409


def test_one_person_may_have_at_most_twenty_runs_waiting_or_running(homes):
    homes.give_home("erin", {"sleepy.ipynb": SLEEPY})
    limits = homes.call("GET", "/user", "erin").json()
    assert limits["max_active_per_user"] == 20 and limits["min_schedule_interval"] == 60
    runs = []
    try:
        for _ in range(20):
            runs.append(homes.start("erin", path="sleepy.ipynb", parameters={"seconds": 120}))
        r = homes.call("POST", "/runs", "erin", json={"path": "sleepy.ipynb"})
        assert r.status_code == 429, r.text
        assert "erin has 20 runs queued or running" in r.json()["message"]
        # Someone else is not held up by erin's queue.
        assert homes.call("POST", "/runs", "bob", json={"path": "hello.ipynb"}).status_code == 201
    finally:
        for run in reversed(runs):
            homes.call("DELETE", f"/runs/{run['id']}", "erin")
    assert homes.call("POST", "/runs", "erin", json={"path": "sleepy.ipynb", "parameters": {"seconds": 0}}).ok


def _container(hub, run_id: int):
    try:
        return hub.engine().containers.get(f"{hub.prefix}-runner.{run_id}")
    except docker.errors.NotFound:
        return None


def test_kill_9_of_the_runner_interrupts_its_runs_and_retries_them_once(homes):
    hub = homes.hub
    # A library notebook's run, which must be retried from the library too, then two of ana's own:
    # two run at a time, so one of hers waits.
    item = publish(homes, "Sleeps", SLEEPY)
    library_run = homes.start("ana", item=item, parameters={"seconds": 30})
    own = [homes.start("ana", path="sleepy.ipynb") for _ in range(2)]
    running = homes.wait(library_run["id"], "ana", statuses=("running",), timeout=120)
    wait_for(lambda: _container(hub, running["id"]), 30, what="the run's container")
    before = {r["id"] for r in homes.call("GET", "/runs?limit=100", "ana").json()["runs"]}
    pid = int((hub.workdir / "state" / "runner" / "runner.pid").read_text())
    os.kill(pid, signal.SIGKILL)
    # The hub notices the dead service (it polls every 30 s) and starts it again.
    interrupted = homes.wait(running["id"], "ana", statuses=("interrupted",), timeout=90)
    assert "interrupted" in interrupted["error"]
    assert _container(hub, running["id"]) is None
    runs = homes.call("GET", "/runs?limit=100", "ana").json()
    retries = [r for r in runs["runs"] if r["retry_of"] == running["id"]]
    assert len(retries) == 1
    # Every record is still there, and each interrupted run has one retry.
    assert before <= {r["id"] for r in runs["runs"]}
    for interrupted_run in (r for r in runs["runs"] if r["status"] == "interrupted"):
        assert len([r for r in runs["runs"] if r["retry_of"] == interrupted_run["id"]]) == 1
    # The retry runs the same notebook of the library, with the same parameters, and the library shows it.
    retried = homes.wait(retries[0]["id"], "ana", timeout=180)
    assert retried["status"] == "succeeded", retried
    assert (retried["item"], retried["parameters"]) == (item, {"seconds": 30})
    assert shown_in_library(homes, item, retried)["status"] == "succeeded"
    # No run was lost: ana's own ran too, after the restart or retried.
    for run in own:
        ended = homes.wait(run["id"], "ana", timeout=120)
        if ended["status"] == "interrupted":
            runs = homes.call("GET", "/runs?limit=100", "ana").json()["runs"]
            [ended] = [r for r in runs if r["retry_of"] == run["id"]]
            ended = homes.wait(ended["id"], "ana", timeout=120)
        assert ended["status"] == "succeeded" and ended["path"] == "sleepy.ipynb", ended


def test_a_cron_schedule_fires(homes, schedule):
    """Every minute: by now the first minute has passed (this test is last); the run is real."""

    def fired():
        runs = homes.call("GET", "/runs?limit=100", "ana").json()["runs"]
        # A scheduled run may have been interrupted by the kill -9 test: any that succeeded will do.
        return [r for r in runs if r["schedule"] == schedule["id"] and r["status"] == "succeeded"]

    run = wait_for(fired, 150, interval=1, what="a run of the schedule to succeed")[-1]
    assert run["path"] == "hello.ipynb" and run["user"] == "ana"
    assert "hello, world" in outputs(homes.call("GET", f"/runs/{run['id']}/notebook", "ana").json())
    current = homes.call("GET", f"/schedules/{schedule['id']}", "ana").json()
    assert current["last_run"] is not None and current["next_run"] > schedule["next_run"]
    assert homes.call("DELETE", f"/schedules/{schedule['id']}", "ana").status_code == 204
    assert homes.call("GET", f"/schedules/{schedule['id']}", "ana").status_code == 404


def test_a_cron_schedule_of_a_library_notebook_fires_and_the_library_shows_the_run(homes, item_schedule):
    assert item_schedule["item"] == "runner-shared" and item_schedule["user"] == "cora"

    def fired():
        runs = homes.call("GET", "/runs?limit=100&item=runner-shared", "cora").json()["runs"]
        return [r for r in runs if r["schedule"] == item_schedule["id"] and r["status"] == "succeeded"]

    run = wait_for(fired, 150, interval=1, what="a run of the library item's schedule to succeed")[-1]
    assert outputs(homes.call("GET", f"/runs/{run['id']}/notebook", "cora").json()).strip() == "3"
    assert shown_in_library(homes, "runner-shared", run)["status"] == "succeeded"
    assert homes.call("DELETE", f"/schedules/{item_schedule['id']}", "cora").status_code == 204
