"""A site that ran the previous release (232be57) keeps its data when it starts this one.

The current hub starts with ``python -m statcommons run`` on a copy of ``previous-release/``,
the state folder of a hub of that release (made by ``make_previous_release.py``, which says
what is in it), and everything is checked as people see it, through the hub's pages and the
services' APIs: accounts and their passwords, a sign-up still waiting for approval, the
project and its members, the collaboration account moved from the group ``project-servers``
to ``collaboration-accounts`` by the projects service, the library's items with their
statuses, rating and comment (and the ``revision`` column its migration added), the runner's
run, and a server of an old account started in this release's network mode (slirp4netns).

The settings are the site's as they were (``servers.name_prefix`` included) except the ports.
Container volumes are not in the fixture; a server's start makes the ones it needs. Runs of
this module take a lock, so two at once on one machine do not share the prefix's containers.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import shutil
import tempfile
from pathlib import Path

import pytest
import requests

from ..hubtools import Person, RunningHub, wait_for
from . import make_previous_release as previous

pytestmark = pytest.mark.containers

PROJECT = previous.PROJECT["name"]
LOCK = Path(tempfile.gettempdir()) / "statcommons-upgrade-test.lock"


@contextlib.contextmanager
def one_at_a_time():
    with open(LOCK, "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


@pytest.fixture(scope="module")
def hub(engine, tmp_path_factory):
    """The current hub on a copy of the previous release's state folder, with that site's name prefix."""
    with one_at_a_time():
        work = tmp_path_factory.mktemp("upgraded")
        shutil.copytree(previous.FIXTURE, work / "state")
        hub = RunningHub(work, engine.docker_host, extra_settings={"servers": {"name_prefix": previous.PREFIX}})
        hub.prefix = previous.PREFIX
        hub.cleanup_engine()  # what a killed earlier run may have left
        try:
            hub.start()
            for name in ("library", "runner", "projects"):
                wait_for(
                    lambda name=name: requests.get(f"{hub.url}/services/{name}/api/openapi.json", timeout=5).ok,
                    90,
                    what=f"the {name} service",
                )
            yield hub
        finally:
            for container in hub.containers():
                print(f"--- container {container.name} ---\n{container.logs(tail=40).decode(errors='replace')}")
            hub.stop()
            hub.cleanup_engine()
            # Shown by pytest only when a test of the module failed.
            print(f"--- hub log ({hub.log_file}) ---\n{hub.log()[-12000:]}")


@pytest.fixture(scope="module")
def tokens(hub) -> dict[str, str]:
    """A hub token of each approved account, made after logging in with its old password."""
    made = {}
    for name in previous.APPROVED:
        person = Person(hub, name, previous.PASSWORDS[name])
        person.log_in()
        assert person.logged_in, f"{name} cannot log in with the password of the previous release"
        made[name] = person.new_token()
    return made


def call(hub: RunningHub, service: str, token: str, method: str, path: str, **kwargs) -> requests.Response:
    url = f"{hub.url}/services/{service}/api/{path}"
    return requests.request(method, url, headers={"Authorization": f"token {token}"}, timeout=60, **kwargs)


def test_the_fixture_holds_what_a_site_keeps_and_no_secret():
    files = {p.relative_to(previous.FIXTURE).as_posix() for p in previous.FIXTURE.rglob("*") if p.is_file()}
    assert {"jupyterhub.sqlite", "library.sqlite", "projects.sqlite", "runner/runner.sqlite"} <= files
    assert all(f.endswith(".sqlite") or f.startswith("runner/runs/") for f in files), files
    assert not {"jupyterhub_cookie_secret", "initial-admin-password"} & files
    assert not [f for f in files if f.endswith((".pid", ".sock", "-wal", "-journal")) or "podman" in f]


def test_accounts_log_in_with_their_passwords(hub, tokens):
    # The approved accounts logged in with their passwords to make ``tokens``; not with others.
    for name in previous.APPROVED:
        wrong = Person(hub, name, previous.PASSWORDS[name] + "x")
        wrong.log_in()
        assert not wrong.logged_in
    # The admin made at the first start keeps its password; this start's variable changes nothing.
    admin = Person(hub, "admin", previous.ADMIN_PASSWORD)
    admin.log_in()
    assert admin.logged_in
    assert hub.admin_password != previous.ADMIN_PASSWORD
    not_reset = Person(hub, "admin", hub.admin_password)
    not_reset.log_in()
    assert not not_reset.logged_in
    assert [u["name"] for u in hub.api("GET", "/users").json() if u["admin"]] == ["admin"]
    assert hub.api("GET", "/groups/curators").json()["users"] == [previous.CURATOR]

    # A sign-up left waiting is still waiting, and this release approves it by POST.
    waiting = Person(hub, previous.WAITING, previous.PASSWORDS[previous.WAITING])
    assert "has not been authorized by an administrator yet" in waiting.log_in().text
    assert not waiting.logged_in
    assert previous.WAITING in admin.http.get(f"{hub.url}/hub/authorize", timeout=30).text
    admin.approve(previous.WAITING)
    waiting.log_in()
    assert waiting.logged_in


def test_the_project_keeps_its_title_owner_and_member(hub, tokens):
    for name in (previous.OWNER, previous.MEMBER):
        r = call(hub, "projects", tokens[name], "GET", "projects")
        assert r.status_code == 200, r.text
        [project] = r.json()["projects"]
        assert (project["name"], project["title"], project["description"]) == (
            PROJECT,
            previous.PROJECT["title"],
            previous.PROJECT["description"],
        )
        assert project["owners"] == [previous.OWNER]
        assert project["members"] == [
            {"name": previous.OWNER, "role": "owner"},
            {"name": previous.MEMBER, "role": "member"},
        ]
        assert project["role"] == ("owner" if name == previous.OWNER else "member")
    assert call(hub, "projects", tokens[previous.CURATOR], "GET", "projects").json()["projects"] == []
    assert call(hub, "projects", tokens[previous.CURATOR], "GET", f"projects/{PROJECT}").status_code == 404
    # The table this release added to the projects' database is there and empty.
    assert call(hub, "projects", tokens[previous.MEMBER], "GET", "user").json()["notices"] == []


def test_the_collaboration_account_moves_to_its_new_group(hub):
    def moved():
        new = hub.api("GET", "/groups/collaboration-accounts")
        old = hub.api("GET", "/groups/project-servers")
        return new.status_code == 200 and previous.COLLAB_ACCOUNT in new.json()["users"] and old.status_code == 404

    wait_for(moved, 60, interval=1, what="the projects service to move the collaboration accounts")
    account = hub.api("GET", f"/users/{previous.COLLAB_ACCOUNT}").json()
    assert "collaboration-accounts" in account["groups"] and "project-servers" not in account["groups"]
    members = hub.api("GET", f"/groups/project-{PROJECT}").json()["users"]
    assert sorted(members) == sorted([previous.OWNER, previous.MEMBER])


def find_item(hub: RunningHub, token: str, title: str, **params) -> dict:
    """The item titled ``title`` found by a search (``mine=true``: among one's own), read in full."""
    params = {"q": title, "facets": "false", "limit": 100, **params}
    r = call(hub, "library", token, "GET", "items", params=params)
    assert r.status_code == 200, r.text
    [found] = [i for i in r.json()["items"] if i["title"] == title]
    r = call(hub, "library", token, "GET", f"items/{found['id']}")
    assert r.status_code == 200, r.text
    return r.json()


def test_the_library_keeps_items_ratings_and_comments_at_revision_1(hub, tokens):
    curator, submitter = tokens[previous.CURATOR], tokens[previous.MEMBER]
    published = find_item(hub, tokens[previous.MEMBER], previous.PUBLISHED["title"])
    assert (published["status"], published["submitter"], published["revision"]) == ("published", previous.OWNER, 1)
    assert published["rating"] == {"average": previous.STARS, "count": 1}
    comments = call(hub, "library", submitter, "GET", f"items/{published['id']}/comments").json()["comments"]
    assert [(c["author"], c["text"]) for c in comments] == [(previous.MEMBER, previous.COMMENT)]

    submitted = find_item(hub, submitter, previous.SUBMITTED["title"], mine="true")
    assert (submitted["status"], submitted["submitter"], submitted["revision"]) == ("submitted", previous.MEMBER, 1)
    queue = call(hub, "library", curator, "GET", "items", params={"status": "submitted", "limit": 100}).json()
    assert (submitted["id"], 1) in [(i["id"], i["revision"]) for i in queue["items"]]
    curated = call(hub, "library", submitter, "GET", f"items/{previous.CURATED}").json()
    assert (curated["status"], curated["revision"]) == ("published", 1)

    # The submission is reviewed at the revision its curator read; a stale revision is refused.
    review = f"items/{submitted['id']}/review"
    r = call(hub, "library", curator, "POST", review, json={"decision": "publish", "revision": 1})
    assert r.status_code == 200, r.text
    assert (r.json()["status"], r.json()["revision"]) == ("published", 1)
    # The published item changes like any item of this release: its next revision is 2.
    r = call(hub, "library", curator, "PATCH", f"items/{published['id']}", json={"summary": "Raking, explained."})
    assert r.status_code == 200, r.text
    assert (r.json()["status"], r.json()["revision"], r.json()["rating"]["count"]) == ("published", 2, 1)
    r = call(hub, "library", curator, "POST", f"items/{published['id']}/review",
             json={"decision": "retire", "revision": 1, "reason": "Read before the change."})  # fmt: skip
    assert r.status_code == 409, r.text


def test_the_run_is_still_listed_with_its_notebook(hub, tokens):
    r = call(hub, "runner", tokens[previous.OWNER], "GET", "runs")
    assert r.status_code == 200, r.text
    [run] = r.json()["runs"]
    assert (run["user"], run["path"], run["status"]) == (previous.OWNER, previous.NOTEBOOK_PATH, "succeeded")
    r = call(hub, "runner", tokens[previous.OWNER], "GET", f"runs/{run['id']}/notebook")
    assert r.status_code == 200, r.text
    outputs = [o for cell in json.loads(r.text)["cells"] for o in cell.get("outputs", [])]
    assert any("2" in "".join(o.get("text", "")) for o in outputs), outputs
    assert call(hub, "runner", tokens[previous.MEMBER], "GET", "runs").json()["runs"] == []


def test_an_old_account_starts_a_server_in_its_own_network_namespace(hub, tokens):
    member = previous.MEMBER
    r = requests.post(
        f"{hub.url}/hub/api/users/{member}/server",
        json={"profile": "python"},
        headers={"Authorization": f"token {tokens[member]}"},
        timeout=30,
    )
    assert r.status_code in (201, 202), r.text
    hub.wait_server_ready(member, timeout=180)
    [container] = [c for c in hub.containers() if c.labels.get("org.statcommons.user") == member]
    assert container.attrs["HostConfig"]["NetworkMode"] == "slirp4netns"
    # The project's folder is there again, in a volume this start made.
    r = requests.get(
        f"{hub.url}/user/{member}/api/contents/projects",
        headers={"Authorization": f"token {tokens[member]}"},
        timeout=60,
    )
    assert r.status_code == 200, r.text
    assert [entry["name"] for entry in r.json()["content"]] == [PROJECT]
    assert hub.api("DELETE", f"/users/{member}/server").status_code in (202, 204)
    hub.wait_server_stopped(member)
