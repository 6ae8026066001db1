"""Notebooks run in the image of the profile offering their kernel: an R notebook in the R image, inside a real hub.

The settings are the defaults (``python3`` in statcommons/lab, ``ir`` and ``python3`` in
statcommons/lab-r); a notebook naming a kernel no profile offers is refused before it is queued.
"""

from __future__ import annotations

import pytest

from .conftest import notebook
from .test_runner import outputs

pytestmark = pytest.mark.containers

R_IMAGE = "statcommons/lab-r:latest"
OFFERED = "the kernels offered are ir, python3"


def r_notebook(*sources: str, parameters: str | None = None) -> dict:
    """A notebook of IRkernel's kernelspec (``ir``); papermill writes R parameters into it."""
    made = notebook(*sources, parameters=parameters)
    made["metadata"]["kernelspec"] = {"name": "ir", "display_name": "R", "language": "R"}
    made["metadata"]["language_info"] = {"name": "R"}
    return made


R_HELLO = r_notebook(
    'cat(sprintf("%s from R %s, %d\\n", greeting, R.version$major, sum(1:6) * 2))',
    parameters='greeting <- "hello"',
)
JULIA = notebook("println(1)")
JULIA["metadata"]["kernelspec"] = {"name": "julia-1.10", "display_name": "Julia 1.10", "language": "julia"}


@pytest.fixture(scope="module")
def rosa(runner):
    runner.give_home("rosa", {"r/hello.ipynb": R_HELLO, "julia.ipynb": JULIA})
    return runner


def test_an_r_notebook_runs_in_the_r_image_with_its_parameters(rosa):
    run = rosa.start("rosa", path="r/hello.ipynb", parameters={"greeting": "bonjour"})
    assert run["image"] == R_IMAGE, run  # chosen when it was queued
    ended = rosa.wait(run["id"], "rosa", timeout=180)
    assert ended["status"] == "succeeded", ended
    assert ended["image"] == R_IMAGE and ended["image_id"]
    assert rosa.hub.engine().images.get(R_IMAGE).id.removeprefix("sha256:") in ended["image_id"]
    executed = rosa.call("GET", f"/runs/{run['id']}/notebook", "rosa").json()
    assert "bonjour from R 4, 42" in outputs(executed), outputs(executed)
    assert executed["metadata"]["kernelspec"]["name"] == "ir"
    info = rosa.call("GET", "/user", "rosa").json()
    assert info["kernels"] == {"ir": "r", "python3": "python"} and info["image"] == "statcommons/lab:latest"


def test_a_kernel_no_profile_offers_is_refused_naming_it(rosa):
    message = f"the notebook's kernel 'julia-1.10' is not offered here: {OFFERED}"
    r = rosa.call("POST", "/runs", "rosa", json={"path": "julia.ipynb"})
    assert r.status_code == 422, r.text
    assert r.json()["errors"] == [{"path": "path", "message": message}]
    assert r.json()["message"] == f"path: {message}"
    r = rosa.call("POST", "/schedules", "rosa", json={"path": "julia.ipynb", "cron": "0 * * * *"})
    assert r.status_code == 422 and r.json()["errors"][0]["message"] == message, r.text
    # Nothing was queued or scheduled.
    assert rosa.call("GET", "/runs?limit=100", "rosa").json()["runs"] == [] or all(
        r["path"] != "julia.ipynb" for r in rosa.call("GET", "/runs?limit=100", "rosa").json()["runs"]
    )
    assert rosa.call("GET", "/schedules", "rosa").json()["schedules"] == []


def test_an_r_notebook_in_a_git_repository_runs_again_in_the_r_image(rosa, tmp_path):
    """Its kernel is known only once cloned: the driver finds it in the default image, the run starts again in R's."""
    import json

    from ..gitserver import make_repository, serving

    repos = tmp_path / "repos"
    repos.mkdir()
    make_repository(repos, "r.git", {"hello.ipynb": json.dumps(R_HELLO)}, branch="main")
    with serving(repos) as base:
        item = {
            "type": "notebook",
            "title": "An R notebook kept in a git repository",
            "summary": "Cloned by the runner.",
            "notebook": {"repository": f"{base}r.git", "branch": "main", "path": "hello.ipynb"},
        }
        rosa.user("cora", curator=True)
        r = rosa.library("POST", "/items", "cora", json=item)
        assert r.status_code == 201, r.text
        review = {"decision": "publish", "revision": r.json()["revision"]}
        assert rosa.library("POST", f"/items/{r.json()['id']}/review", "cora", json=review).ok
        run = rosa.start("rosa", item=r.json()["id"])
        assert run["image"] == "statcommons/lab:latest"  # not known before the clone
        ended = rosa.wait(run["id"], "rosa", timeout=240)
    assert ended["status"] == "succeeded" and ended["image"] == R_IMAGE, ended
    assert "hello from R 4, 42" in outputs(rosa.call("GET", f"/runs/{run['id']}/notebook", "rosa").json())
