"""How ``previous-release/`` was made: the state folder of a hub of release 232be57, used like a site.

The previous release's own hub (its ``python -m statcommons run``, from a git worktree, with
its own default network mode, ``host``) was started on random loopback ports with a settings
file of its own, and driven through its HTTP APIs and pages:

- the admin ``admin`` (created at the first start with ``STATCOMMONS_ADMIN_PASSWORD`` set to
  :data:`ADMIN_PASSWORD`) logs in; ``ana``, ``bob`` and ``carla`` sign up and the admin
  approves them the way that release did, with a GET on ``/hub/authorize/<name>``; ``dora``
  signs up and is left waiting for approval; ``carla`` is put in the ``curators`` group;
- ``ana`` creates the project :data:`PROJECT` through the projects service and adds ``bob``
  as a member (its member group, its row in ``projects.sqlite`` and its volume are made), then
  starts its collaboration server once and stops it (the account ``<project>-collab`` is made,
  in that release's group ``project-servers``);
- each login starts that person's server (one profile: no form); ``ana`` writes
  ``work/report.ipynb`` into her home through her server's contents API, stops it, and runs
  that notebook with the runner (a ``succeeded`` run in ``runner/runner.sqlite``, its
  executed notebook under ``runner/runs/``);
- the library's curated folder holds one file, :data:`CURATED` (the fixture stays small; every
  start loads the curated folder again anyway); ``bob`` submits :data:`SUBMITTED` (it stays
  ``submitted``), ``ana`` submits :data:`PUBLISHED` and ``carla`` publishes it; ``bob`` rates
  it 4 stars and comments on it;
- the API tokens people made are deleted, every server is stopped, and the hub is stopped.

Then only what a site keeps and backs up is copied here, each SQLite file vacuumed into one
small file: ``jupyterhub.sqlite`` (accounts, NativeAuthenticator's password hashes, groups),
``library.sqlite``, ``projects.sqlite``, ``runner/runner.sqlite`` and ``runner/runs/``. Not
the cookie secret, pid files, logs or an engine socket: no secret of that hub is here. The
hub's database holds what every hub's does: bcrypt hashes of the passwords, which are test
passwords fixed here so that the test can log in, and salted hashes of the tokens that hub
generated for its services (the tokens themselves went with it).

Container volumes (homes, the project's volume) are not part of the fixture: the test checks
the databases through the current hub's APIs and lets the current spawner make the volumes a
server needs. The containers and volumes the old hub made (names starting with :data:`PREFIX`)
are removed at the end, and so is the image tag :data:`IMAGE` (see below).

**Images.** That release rebuilds ``statcommons/lab:latest`` when the hash of its inputs
differs from the image's label, and its inputs include the library extension's sources, which
changed since. So nothing is rebuilt: the current ``statcommons/lab:latest`` is tagged
:data:`IMAGE` (a tag that release does not build), the old hub's only profile and its runner
use that tag, and the tag is removed at the end.

It was run from the repository's root, on the project's own Podman service::

    git worktree add /tmp/prev-release 232be57
    .venv/bin/python -m statcommons engine    # starts var/podman/podman.sock when it is not running
    export DOCKER_HOST=unix://$PWD/var/podman/podman.sock CONTAINERS_CONF=$PWD/var/podman/containers.conf
    .venv/bin/python -m tests.upgrade.make_previous_release /tmp/prev-release
    git worktree remove --force /tmp/prev-release

The script links this repository's ``node_modules`` into the worktree (the old hub's proxy)
and runs the old hub with this ``.venv``'s Python and the worktree first on ``PYTHONPATH``.
The tests do not run it.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
from pathlib import Path
from urllib.parse import quote

import requests

from ..hubtools import ROOT, Person, RunningHub, wait_for

RELEASE = "232be57"
HERE = Path(__file__).resolve().parent
FIXTURE = HERE / "previous-release"
#: ``servers.name_prefix`` of the old hub: its containers and volumes, and the current hub's in the test.
PREFIX = "scupgrade"
#: What the old hub's profile and runner used: the current lab image under a tag that release never builds.
IMAGE = "statcommons/lab:upgrade-fixture"
ADMIN_PASSWORD = "admin-of-the-upgrade-fixture"
#: Fixed test passwords of the accounts that signed up.
PASSWORDS = {
    "ana": "ana-upgrade-fixture-pw",
    "bob": "bob-upgrade-fixture-pw",
    "carla": "carla-upgrade-fixture-pw",
    "dora": "dora-upgrade-fixture-pw",
}
APPROVED = ("ana", "bob", "carla")
WAITING = "dora"
CURATOR = "carla"
PROJECT = {
    "name": "survey-weights",
    "title": "Survey weights",
    "description": "Calibrating the labour force survey's weights to the new census totals.",
}
OWNER, MEMBER = "ana", "bob"
COLLAB_ACCOUNT = f"{PROJECT['name']}-collab"
NOTEBOOK_PATH = "work/report.ipynb"
NOTEBOOK = {
    "nbformat": 4,
    "nbformat_minor": 5,
    "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}},
    "cells": [
        {"id": "c0", "cell_type": "code", "source": "rows = 3", "metadata": {"tags": ["parameters"]},
         "outputs": [], "execution_count": None},
        {"id": "c1", "cell_type": "code", "source": "values = range(1, rows + 1)\nprint(sum(values) / len(values))",
         "metadata": {}, "outputs": [], "execution_count": None},
    ],
}  # fmt: skip
SUBMITTED = {
    "type": "publication",
    "title": "Imputing missing turnover in business surveys",
    "summary": "How a business survey imputes turnover that enterprises did not report.",
    "organisations": ["Statistics Testland"],
    "gsbpm": ["5.4"],
    "links": [{"url": "https://example.org/turnover-imputation"}],
}
PUBLISHED = {
    "type": "publication",
    "title": "Raking survey weights to census margins",
    "summary": "Iterative proportional fitting of survey weights to known population totals.",
    "organisations": ["Statistics Testland"],
    "gsbpm": ["5.6"],
    "links": [{"url": "https://example.org/raking"}],
}
STARS = 4
COMMENT = "Clear and **useful**: we used it for the labour force survey."
#: The one curated item of the old hub's library folder (the same file in both releases' ``library/``).
CURATED = "awesome-official-statistics-software"
#: What a site keeps, relative to the state folder (``runner/runs`` is a folder).
KEPT = ("jupyterhub.sqlite", "library.sqlite", "projects.sqlite", "runner/runner.sqlite", "runner/runs")


class PreviousReleaseHub(RunningHub):
    """A hub of the release checked out in ``release``, started with that release's own ``statcommons run``."""

    def __init__(self, workdir: Path, docker_host: str, release: Path):
        curated = workdir / "library"
        curated.mkdir()
        shutil.copy2(release / "library" / f"{CURATED}.yaml", curated)
        settings = {
            "servers": {"name_prefix": PREFIX},
            "profiles": {"python": {"display_name": "Python", "image": IMAGE}},
            "default_profile": "python",
            "runner": {"image": IMAGE},
            "library": {"folder": str(curated)},
        }
        env = {"PYTHONPATH": str(release), "STATCOMMONS_ADMIN_PASSWORD": ADMIN_PASSWORD}
        super().__init__(workdir, docker_host, extra_settings=settings, env=env)
        self.prefix = PREFIX
        self.admin_password = ADMIN_PASSWORD
        self.release = release

    def start(self, timeout: float = 180) -> PreviousReleaseHub:
        with open(self.log_file, "ab") as log:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "statcommons", "run"],
                cwd=self.release,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        wait_for(self._ready_or_dead, timeout, what=f"the old hub at {self.url} (log: {self.log_file})")
        if self.proc.poll() is not None:
            self._stop_orphaned_proxy()
            raise RuntimeError(f"the old hub exited with {self.proc.returncode}:\n{self.log()[-3000:]}")
        return self


def service(hub: RunningHub, name: str, token: str, method: str, path: str, **kwargs) -> requests.Response:
    """A call to a hub service's API with a person's hub token."""
    url = f"{hub.url}/services/{name}/api/{path}"
    return requests.request(method, url, headers={"Authorization": f"token {token}"}, timeout=180, **kwargs)


def check(response: requests.Response, *statuses: int) -> dict:
    if response.status_code not in statuses:
        raise RuntimeError(f"{response.request.method} {response.url}: {response.status_code} {response.text[:500]}")
    return response.json() if "json" in response.headers.get("Content-Type", "") else {}


def make_state(hub: PreviousReleaseHub) -> None:
    for name in ("library", "runner", "projects"):
        wait_for(
            lambda name=name: requests.get(f"{hub.url}/services/{name}/api/openapi.json", timeout=5).status_code == 200,
            90,
            what=f"the {name} service",
        )

    # Accounts: sign-up, approval by the admin as that release did it (a GET), one left waiting.
    admin = Person(hub, "admin", ADMIN_PASSWORD)
    admin.log_in()
    assert admin.logged_in, "the admin could not log in"
    people = {name: Person(hub, name, password) for name, password in PASSWORDS.items()}
    for person in people.values():
        check(person.sign_up(), 200)
    for name in APPROVED:
        check(admin.http.get(f"{hub.url}/hub/authorize/{quote(name)}", timeout=30), 200)
    for name, person in people.items():
        person.log_in()
        assert person.logged_in == (name in APPROVED), f"{name}: logged in {person.logged_in}"
    check(hub.api("POST", "/groups/curators/users", json={"users": [CURATOR]}), 200)
    tokens = {name: people[name].new_token() for name in APPROVED}

    # A project, a member, and its collaboration server started once.
    project = PROJECT["name"]
    check(service(hub, "projects", tokens[OWNER], "POST", "projects", json=PROJECT), 201)
    check(service(hub, "projects", tokens[OWNER], "PUT", f"projects/{project}/members/{MEMBER}",
                  json={"role": "member"}), 200, 201)  # fmt: skip
    check(service(hub, "projects", tokens[OWNER], "POST", f"projects/{project}/server"), 200, 201)
    check(service(hub, "projects", tokens[OWNER], "DELETE", f"projects/{project}/server"), 200, 204)

    # A notebook of ana's home, written through her server (her login started it), and a run of it.
    auth = {"Authorization": f"token {tokens[OWNER]}"}
    if hub.server(OWNER) is None:
        check(requests.post(f"{hub.url}/hub/api/users/{OWNER}/server", headers=auth, timeout=30), 201, 202)
    hub.wait_server_ready(OWNER, timeout=180)
    contents = f"{hub.url}/user/{OWNER}/api/contents/"
    check(requests.put(contents + "work", json={"type": "directory"}, headers=auth, timeout=60), 200, 201)
    body = {"type": "notebook", "format": "json", "content": NOTEBOOK}
    check(requests.put(contents + NOTEBOOK_PATH, json=body, headers=auth, timeout=60), 200, 201)
    check(requests.delete(f"{hub.url}/hub/api/users/{OWNER}/server", headers=auth, timeout=30), 202, 204)
    hub.wait_server_stopped(OWNER, timeout=90)
    run = check(service(hub, "runner", tokens[OWNER], "POST", "runs", json={"path": NOTEBOOK_PATH}), 201)

    def run_ended() -> dict | None:
        found = check(service(hub, "runner", tokens[OWNER], "GET", f"runs/{run['id']}"), 200)
        return found if found["status"] not in ("queued", "running") else None

    ended = wait_for(run_ended, 300, interval=1, what=f"run {run['id']}")
    assert ended["status"] == "succeeded", ended

    # The library: one submission waiting, one published with a rating and a comment.
    check(service(hub, "library", tokens[MEMBER], "POST", "items", json=SUBMITTED), 201)
    published = check(service(hub, "library", tokens[OWNER], "POST", "items", json=PUBLISHED), 201)
    check(service(hub, "library", tokens[CURATOR], "POST", f"items/{published['id']}/review",
                  json={"decision": "publish"}), 200)  # fmt: skip
    check(service(hub, "library", tokens[MEMBER], "PUT", f"items/{published['id']}/rating",
                  json={"stars": STARS}), 200, 204)  # fmt: skip
    check(service(hub, "library", tokens[MEMBER], "POST", f"items/{published['id']}/comments",
                  json={"text": COMMENT}), 200, 201)  # fmt: skip

    # Leave nothing running and no token of a person behind.
    for name in APPROVED:
        for token in check(hub.api("GET", f"/users/{name}/tokens"), 200)["api_tokens"]:
            check(hub.api("DELETE", f"/users/{name}/tokens/{token['id']}"), 204)
    for user in check(hub.api("GET", "/users"), 200):
        if user.get("servers"):
            check(hub.api("DELETE", f"/users/{quote(user['name'])}/server"), 202, 204)
            hub.wait_server_stopped(user["name"], timeout=90)


def vacuum(path: Path) -> None:
    """One small file: no write-ahead log, small pages, no free pages."""
    conn = sqlite3.connect(path, isolation_level=None)
    for statement in ("PRAGMA journal_mode = DELETE", "PRAGMA page_size = 1024", "VACUUM"):
        conn.execute(statement)
    conn.close()


def keep(state: Path) -> None:
    """Copy what a site keeps from the old hub's state folder into the fixture, and say what was left."""
    shutil.rmtree(FIXTURE, ignore_errors=True)
    FIXTURE.mkdir()
    for relative in KEPT:
        source, target = state / relative, FIXTURE / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        if source.is_dir():
            shutil.copytree(source, target)
        else:
            shutil.copy2(source, target)
            vacuum(target)
    kept = {p.relative_to(FIXTURE) for p in FIXTURE.rglob("*") if p.is_file()}
    for path in sorted(p.relative_to(state) for p in state.rglob("*") if p.is_file()):
        print(f"  {'kept' if path in kept else 'left out'}: {path}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("release", type=Path, help=f"a git worktree of release {RELEASE}")
    args = parser.parse_args()
    release = args.release.resolve()
    head = subprocess.run(["git", "-C", str(release), "rev-parse", "HEAD"], capture_output=True, text=True)
    if not head.stdout.startswith(RELEASE):
        sys.exit(f"{release} is not a worktree of {RELEASE}: git worktree add {release} {RELEASE}")
    docker_host = os.environ.get("DOCKER_HOST")
    if not docker_host:
        sys.exit("set DOCKER_HOST (and CONTAINERS_CONF) to the project's engine: python -m statcommons engine")
    if not (release / "node_modules").exists():
        (release / "node_modules").symlink_to(ROOT / "node_modules")

    workdir = Path(tempfile.mkdtemp(prefix="prev-release-hub-"))
    hub = PreviousReleaseHub(workdir, docker_host, release)
    client = hub.engine()
    client.images.get("statcommons/lab:latest").tag(*IMAGE.split(":"))
    try:
        hub.start()
        make_state(hub)
        hub.stop()
        keep(workdir / "state")
    except BaseException:
        print(f"--- the old hub's log ({hub.log_file}) ---\n{hub.log()[-8000:]}", file=sys.stderr)
        raise
    finally:
        hub.stop()
        hub.cleanup_engine()
        client.images.remove(IMAGE)
    shutil.rmtree(workdir, ignore_errors=True)
    size = sum(p.stat().st_size for p in FIXTURE.rglob("*") if p.is_file())
    print(f"wrote {FIXTURE} ({size} bytes)")


if __name__ == "__main__":
    main()
