"""Projects in a real hub: members share a folder in their real servers; everyone else sees nothing.

The scenario runs in order on one hub: ana creates ``survey`` and adds bob; both write, edit and
delete each other's files through the Jupyter contents API of their own servers; carol, not a
member, gets 404s and no folder; the project cannot be deleted while servers mount it; once
they stop, deleting archives its files, and ``statcommons projects restore`` brings them back.
"""

from __future__ import annotations

import html
import os
import re
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest
import requests

from statcommons.platform import names
from statcommons.settings import ROOT

from ..hubtools import Person, wait_for

pytestmark = pytest.mark.containers

TEXT = {"type": "file", "format": "text"}


def put_text(workspace, name: str, path: str, text: str, as_user: str | None = None):
    r = workspace.contents(name, "PUT", path, as_user=as_user, json={**TEXT, "content": text})
    assert r.status_code in (200, 201), r.text
    return r.json()


def read_text(workspace, name: str, path: str) -> str:
    r = workspace.contents(name, "GET", path, params={"content": 1, "format": "text", "type": "file"})
    assert r.status_code == 200, r.text
    return r.json()["content"]


@pytest.fixture(scope="module")
def survey(workspace):
    """ana's project survey with bob as a member; both servers started after that."""
    workspace.user("bob")
    r = workspace.call(
        "POST", "/projects", "ana", json={"name": "survey", "title": "Labour force survey", "description": "LFS 2026"}
    )
    assert r.status_code == 201, r.text
    assert r.json()["members"] == [{"name": "ana", "role": "owner"}]
    r = workspace.call("PUT", "/projects/survey/members/bob", "ana", json={"role": "member"})
    assert r.status_code == 200, r.text
    assert r.json()["members"] == [{"name": "ana", "role": "owner"}, {"name": "bob", "role": "member"}]
    workspace.start_server("ana")
    workspace.start_server("bob")
    return "survey"


def test_members_see_the_project_and_their_role(workspace, survey):
    mine = workspace.call("GET", "/projects", "bob").json()["projects"]
    assert [(p["name"], p["title"], p["role"]) for p in mine] == [("survey", "Labour force survey", "member")]
    project = workspace.call("GET", "/projects/survey", "ana").json()
    assert project["owners"] == ["ana"] and project["role"] == "owner" and project["folder"] == "~/projects/survey"


def test_two_members_write_edit_and_delete_each_others_files(workspace, survey):
    assert "survey" in workspace.listing("ana", "projects")
    assert "survey" in workspace.listing("bob", "projects")
    put_text(workspace, "ana", "projects/survey/plan.md", "# Plan\nweights by region\n")
    r = workspace.contents("ana", "PUT", "projects/survey/notes", json={"type": "directory"})
    assert r.status_code == 201, r.text
    # bob reads ana's file in his own server and changes it; ana sees his change.
    assert read_text(workspace, "bob", "projects/survey/plan.md") == "# Plan\nweights by region\n"
    put_text(workspace, "bob", "projects/survey/plan.md", "# Plan\nweights by region and age\n")
    assert read_text(workspace, "ana", "projects/survey/plan.md") == "# Plan\nweights by region and age\n"
    # bob writes into ana's folder, ana deletes it; bob deletes ana's file.
    put_text(workspace, "bob", "projects/survey/notes/bob.txt", "from bob")
    assert workspace.contents("ana", "DELETE", "projects/survey/notes/bob.txt").status_code == 204
    assert "bob.txt" not in workspace.listing("bob", "projects/survey/notes")
    put_text(workspace, "ana", "projects/survey/draft.txt", "to be removed")
    assert workspace.contents("bob", "DELETE", "projects/survey/draft.txt").status_code == 204
    assert "draft.txt" not in workspace.listing("ana", "projects/survey")
    # One uid for everyone: files are 1000:100 whoever wrote them; nothing in a home is root's.
    put_text(workspace, "bob", "projects/survey/notes/keep.txt", "kept by bob")
    code, owners = workspace.exec(
        "ana",
        [
            "stat",
            "-c",
            "%u:%g %n",
            "-L",
            "/home/jovyan/projects/survey/plan.md",
            "/home/jovyan/projects/survey/notes/keep.txt",
            "/home/jovyan/projects/survey",
        ],
    )
    assert code == 0, owners
    assert [line.split()[0] for line in owners.splitlines()] == ["1000:100"] * 3
    for name in ("ana", "bob"):
        code, found = workspace.exec(name, ["find", "/home/jovyan", "-xdev", "!", "-uid", "1000"])
        assert (code, found.strip()) == (0, "")


def test_a_non_member_cannot_see_or_reach_the_project(workspace, survey):
    assert workspace.call("GET", "/projects", "carol").json() == {"projects": []}
    r = workspace.call("GET", "/projects/survey", "carol")
    assert r.status_code == 404 and "no project 'survey'" in r.json()["message"]
    r = workspace.call("PUT", "/projects/survey/members/carol", "carol", json={"role": "owner"})
    assert r.status_code == 404
    assert workspace.call("POST", "/projects/survey/server", "carol").status_code == 404
    workspace.start_server("carol")
    assert "survey" not in workspace.listing("carol", "projects")
    code, output = workspace.exec("carol", ["ls", "/mnt/projects"])
    assert code != 0 and "No such file" in output
    # Nor through someone else's server.
    assert workspace.contents("ana", "GET", "projects/survey/plan.md", as_user="carol").status_code in (403, 404)


@pytest.mark.parametrize(
    "body, status, message",
    [
        ({"name": "Survey"}, 422, "name: 'Survey' is not allowed: use lowercase letters, digits and inner hyphens"),
        ({"name": "-x"}, 422, "name: '-x' is not allowed"),
        ({"name": "a" * 41}, 422, "name: " + repr("a" * 41) + " is 41 characters long: at most 40 are allowed"),
        ({"title": "no name"}, 422, "name: a project name is required"),
        ({"name": "ok", "colour": "red"}, 422, "colour: unknown field"),
        ({"name": "ok", "title": 5}, 422, "title: expected a string"),
        ({"name": "survey"}, 409, "name: a project named 'survey' exists already"),
        ({"name": "dave"}, 409, "its collaboration account 'dave-collab' is a user"),
    ],
)
def test_bad_projects_are_refused_with_a_message(workspace, survey, body, status, message):
    workspace.user("dave-collab")
    r = workspace.call("POST", "/projects", "carol", json=body)
    assert r.status_code == status, r.text
    assert message in r.json()["message"]
    assert r.json()["status"] == status


def test_bad_membership_changes_are_refused_with_a_message(workspace, survey):
    r = workspace.call("PUT", "/projects/survey/members/nobody-here", "ana", json={"role": "member"})
    assert (r.status_code, r.json()["message"]) == (404, "there is no hub user 'nobody-here'")
    r = workspace.call("PUT", "/projects/survey/members/carol", "bob", json={"role": "member"})
    assert r.status_code == 403 and "only the owners of survey may do this: ana" in r.json()["message"]
    r = workspace.call("DELETE", "/projects/survey/members/ana", "bob")
    assert r.status_code == 403
    r = workspace.call("DELETE", "/projects/survey/members/ana", "ana")
    assert r.status_code == 409 and "ana is the last owner of survey" in r.json()["message"]
    r = workspace.call("PUT", "/projects/survey/members/ana", "ana", json={"role": "member"})
    assert r.status_code == 409 and "last owner" in r.json()["message"]
    r = workspace.call("PUT", "/projects/survey/members/carol", "ana", json={"role": "boss"})
    assert r.status_code == 422 and "'boss' is not a role: use owner or member" in r.json()["message"]
    r = workspace.call("PUT", "/projects/survey/members/carol", "ana", data=b"{not json")
    assert r.status_code == 400 and "not valid JSON" in r.json()["message"]
    r = workspace.call("DELETE", "/projects/survey/members/carol", "ana")
    assert r.status_code == 404 and r.json()["message"] == "carol is not a member of survey"
    r = workspace.call("PATCH", "/projects/survey", "bob", json={"title": "mine"})
    assert r.status_code == 403
    r = requests.get(f"{workspace.api_url}/projects/survey", timeout=30)
    assert r.status_code == 401 and "not logged in" in r.json()["message"]


def test_owners_change_the_title_and_roles(workspace, survey):
    r = workspace.call("PATCH", "/projects/survey", "ana", json={"title": "LFS", "description": "quarterly"})
    assert r.status_code == 200 and (r.json()["title"], r.json()["description"]) == ("LFS", "quarterly")
    r = workspace.call("PUT", "/projects/survey/members/bob", "ana", json={"role": "owner"})
    assert r.json()["owners"] == ["ana", "bob"]
    r = workspace.call("PUT", "/projects/survey/members/bob", "ana", json={"role": "member"})
    assert r.json()["owners"] == ["ana"]


def test_the_project_server_runs_on_the_project_folder_and_sees_no_home(workspace, survey):
    r = workspace.call("POST", "/projects/survey/server", "bob")
    assert r.status_code == 200, r.text
    assert r.json()["url"] == "/user/survey-collab/"
    container = workspace.container("survey-collab")
    mounts = {m["Destination"]: m for m in container.attrs["Mounts"]}
    assert set(mounts) == {"/mnt/projects/survey", "/mnt/shared-notebooks", "/mnt/datasets"}
    assert mounts["/mnt/projects/survey"]["RW"] and not mounts["/mnt/datasets"]["RW"]
    environment = dict(item.split("=", 1) for item in container.attrs["Config"]["Env"])
    assert environment["STATCOMMONS_PROJECT"] == "survey"
    code, output = workspace.exec("survey-collab", ["sh", "-c", "id -u; ls /mnt/projects/survey"])
    assert code == 0 and output.split() == ["1000", "notes", "plan.md"]
    assert environment["JUPYTERHUB_ROOT_DIR"] == "/mnt/projects/survey"
    # Members reach it (shared with the member group): its file browser is the project folder.
    assert workspace.listing("survey-collab", as_user="bob") >= {"notes", "plan.md"}
    r = workspace.call("GET", "/projects/survey/server", "ana")
    assert r.json() == {"running": True, "url": "/user/survey-collab/"}
    assert workspace.call("GET", "/projects/survey/server", "carol").status_code == 404
    # Added while it runs, carol gets in at once; removed, she is out.
    refused = workspace.contents("survey-collab", "GET", "plan.md", as_user="carol").status_code
    assert refused in (403, 404)
    assert workspace.call("PUT", "/projects/survey/members/carol", "ana").status_code == 200
    assert workspace.contents("survey-collab", "GET", "plan.md", as_user="carol").status_code == 200
    assert workspace.call("DELETE", "/projects/survey/members/carol", "ana").status_code == 204
    wait_for(
        lambda: workspace.contents("survey-collab", "GET", "plan.md", as_user="carol").status_code in (403, 404),
        10,
        what="carol to be refused by the project server",
    )


def test_delete_waits_for_servers_then_archives_and_restore_brings_the_files_back(workspace, survey):
    r = workspace.call("DELETE", "/projects/survey", "bob")
    assert r.status_code == 403
    r = workspace.call("DELETE", "/projects/survey", "ana")
    assert r.status_code == 409 and "ana, bob" in r.json()["message"], r.text
    workspace.stop_server("ana")
    workspace.stop_server("bob")
    r = workspace.call("DELETE", "/projects/survey", "ana")
    assert r.status_code == 200, r.text
    archive = Path(workspace.hub.workdir, "state", "projects", "archive", r.json()["archive"])
    with tarfile.open(archive) as tar:
        files = {name.removeprefix("./") for name in tar.getnames()}
    assert {"plan.md", "notes/keep.txt"} <= files
    assert workspace.call("GET", "/projects/survey", "ana").status_code == 404
    assert workspace.hub.api("GET", "/groups/project-survey").status_code == 404
    volumes = [v.name for v in workspace.hub.engine().volumes.list() if v.name.endswith("-project-survey")]
    assert volumes == []

    restored = subprocess.run(
        [sys.executable, "-m", "statcommons", "projects", "restore", str(archive)],
        cwd=ROOT,
        env={**os.environ, **workspace.hub.env},
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert restored.returncode == 0, restored.stderr
    again = cli(workspace, "restore", str(archive))
    assert again.returncode == 1
    assert "a project named 'survey' exists already (restore it under another name: --name)" in again.stderr
    project = workspace.call("GET", "/projects/survey", "ana").json()
    assert project["owners"] == ["ana"] and project["title"] == "LFS"
    workspace.start_server("bob")  # bob was not an owner: not a member any more
    assert "survey" not in workspace.listing("bob", "projects")
    workspace.start_server("ana")
    assert read_text(workspace, "ana", "projects/survey/plan.md") == "# Plan\nweights by region and age\n"
    assert read_text(workspace, "ana", "projects/survey/notes/keep.txt") == "kept by bob"


def test_the_projects_page_looks_like_the_hub_and_escapes_what_people_typed(workspace):
    title = '<img src=x onerror="alert(1)"> Census & co'
    r = workspace.call("POST", "/projects", "carol", json={"name": "census", "title": title})
    assert r.status_code == 201, r.text
    admin = Person(workspace.hub, "admin", workspace.hub.admin_password)
    admin.log_in()
    home = admin.http.get(f"{workspace.hub.url}/hub/home", timeout=30)
    assert '<a class="nav-link" href="/services/projects/">Projects</a>' in home.text
    assert "change-password" in home.text  # the local accounts' entries stay
    page = admin.http.get(f"{workspace.hub.url}/services/projects/", timeout=60)
    assert page.status_code == 200 and page.url.endswith("/services/projects/")
    assert "default-src 'self'; script-src 'self'" in page.headers["Content-Security-Policy"]
    assert "All projects" in page.text
    assert "&lt;img src=x onerror=&#34;alert(1)&#34;&gt; Census &amp; co" in page.text
    assert "<img src=x" not in page.text
    assert re.findall(r"<script[^>]*>", page.text) == [
        '<script src="/services/projects/static/projects.js?v='
        + re.search(r"projects\.js\?v=([0-9a-f]+)", page.text)[1]
        + '" defer>'
    ]
    assert "/hub/static/css/style.min.css" in page.text


def test_members_open_the_project_server_from_the_hub_home_page(workspace, survey):
    """The home page lists the person's projects; open/<name> starts the server on a form POST, then opens it."""
    hub = workspace.hub
    iris = Person(hub, "iris")
    iris.sign_up()
    admin = Person(hub, "admin", hub.admin_password)
    admin.log_in()
    admin.approve("iris")
    iris.log_in()
    assert iris.logged_in
    home = iris.http.get(f"{hub.url}/hub/home", timeout=30).text
    assert "Your projects" in home and "You are in no project yet" in home

    r = workspace.call("POST", "/projects", "iris", json={"name": "atlas", "title": "Atlas <of> regions"})
    assert r.status_code == 201, r.text
    home = iris.http.get(f"{hub.url}/hub/home", timeout=30).text
    assert 'href="/services/projects/open/atlas">Open the project server</a>' in home
    assert "<code>~/projects/atlas</code>" in home
    assert "A project you join reaches your own server's <code>~/projects</code> at its next start" in home
    assert "/services/projects/open/survey" not in home  # not hers

    # Not a member: the 404 of the API, as a page (through the service's OAuth login first).
    r = iris.http.get(f"{hub.url}/services/projects/open/survey", timeout=60)
    assert r.status_code == 404 and "that you are a member of" in r.text

    # Stopped: a GET starts nothing; the page's form does, then sends her to JupyterLab on it.
    opened = f"{hub.url}/services/projects/open/atlas"
    page = iris.http.get(opened, timeout=60)
    assert page.status_code == 200 and page.url == opened, page.text
    assert "Atlas &lt;of&gt; regions" in page.text
    assert hub.server("atlas-collab") is None
    refused = iris.http.post(opened, data={}, timeout=60, allow_redirects=False)
    assert refused.status_code == 403 and hub.server("atlas-collab") is None
    xsrf = re.search(r'name="_xsrf" value="([^"]+)"', page.text)[1]
    r = iris.http.post(opened, data={"_xsrf": html.unescape(xsrf)}, timeout=240, allow_redirects=False)
    assert r.status_code == 303, r.text
    assert r.headers["Location"] == "/user/atlas-collab/lab"
    assert hub.server("atlas-collab")["ready"]
    # Running: straight to it.
    r = iris.http.get(opened, timeout=60, allow_redirects=False)
    assert (r.status_code, r.headers["Location"]) == (302, "/user/atlas-collab/lab")

    assert workspace.call("DELETE", "/projects/atlas/server", "iris").status_code == 204
    assert workspace.call("DELETE", "/projects/atlas", "iris").status_code == 200


def test_a_person_owns_at_most_max_projects_per_user(workspace):
    for name in ("quota-a", "quota-b"):
        assert workspace.call("POST", "/projects", "frank", json={"name": name}).status_code == 201
    r = workspace.call("POST", "/projects", "frank", json={"name": "quota-c"})
    assert r.status_code == 409
    assert "frank owns 2 projects already: the limit is 2" in r.json()["message"]
    r = workspace.call("DELETE", "/projects/quota-b", "frank")
    assert r.status_code == 200 and r.json()["archive"].startswith("quota-b-")
    assert workspace.call("POST", "/projects", "frank", json={"name": "quota-c"}).status_code == 201


@pytest.mark.parametrize(
    "method, path, kwargs, status",
    [
        ("GET", "/projects/..%2F..%2Fetc", {}, 404),
        ("GET", "/projects/" + "x" * 5000, {}, 404),
        ("PUT", "/projects/quota-a/members/%00", {"json": {}}, 404),
        ("PUT", "/projects/quota-a/members/ana", {"json": []}, 422),
        ("PUT", "/projects/quota-a/members/ana", {"json": {"role": "owner", "extra": 1}}, 422),
        ("POST", "/projects", {"json": {"name": "big", "description": "x" * 70_000}}, 413),
        ("POST", "/projects", {"json": {"name": "long", "description": "x" * 6000}}, 422),
        ("POST", "/projects", {"json": {"name": "   "}}, 422),
        ("POST", "/projects", {"json": {"name": 12}}, 422),
        ("POST", "/projects", {"json": ["a"]}, 422),
        ("PATCH", "/projects/quota-a", {"json": {"title": ""}}, 422),
        ("PATCH", "/projects/quota-a", {"json": {"name": "renamed"}}, 422),
        ("POST", "/projects/quota-a", {}, 405),
        ("GET", "/nothing-here", {}, 404),
    ],
)
def test_hostile_requests_get_a_clear_4xx(workspace, method, path, kwargs, status):
    r = workspace.call(method, path, "frank", **kwargs)
    assert r.status_code == status, r.text
    assert r.json()["message"]


def cli(workspace, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "statcommons", "projects", *args],
        cwd=ROOT,
        env={**os.environ, **workspace.hub.env},
        capture_output=True,
        text=True,
        timeout=180,
    )


def test_admins_manage_projects_from_the_command_line(workspace):
    workspace.user("gina")
    workspace.user("hugo")
    created = cli(workspace, "create", "ledger", "--owner", "gina", "--title", "General ledger")
    assert created.returncode == 0, created.stderr
    assert created.stdout.strip() == "ledger\tGeneral ledger\tgina (owner)"
    added = cli(workspace, "add-member", "ledger", "hugo")
    assert added.returncode == 0 and "gina (owner), hugo" in added.stdout
    listed = cli(workspace, "list")
    assert "ledger\tGeneral ledger\tgina (owner), hugo" in listed.stdout.splitlines()
    refused = cli(workspace, "remove-member", "ledger", "gina")
    assert refused.returncode == 1
    assert refused.stderr.strip() == (
        "statcommons projects: gina is the last owner of ledger: make someone else an owner first, "
        "or delete the project"
    )
    deleted = cli(workspace, "delete", "ledger")
    assert deleted.returncode == 0, deleted.stderr
    assert re.search(
        r"ledger deleted; its files are in .*/projects/archive/ledger-\d{8}T\d{6}Z\.tar\.gz", deleted.stdout
    )
    assert workspace.call("GET", "/projects/ledger", "gina").status_code == 404


def test_collaboration_accounts_are_for_the_projects_service_only(workspace):
    # Nobody logs in as one, even approved by an admin.
    mallory = Person(workspace.hub, "mallory-collab")
    mallory.sign_up()
    admin = Person(workspace.hub, "admin", workspace.hub.admin_password)
    admin.log_in()
    admin.approve("mallory-collab")
    mallory.log_in()
    assert not mallory.logged_in
    # A hub account in the collaboration group gets a project server only for a project that exists.
    workspace.user("ghost-collab")
    collab_group = f"/groups/{names.COLLAB_GROUP}"
    assert workspace.hub.api("POST", collab_group, json={}).status_code in (201, 409)
    r = workspace.hub.api("POST", f"{collab_group}/users", json={"users": ["ghost-collab"]})
    assert r.status_code == 200, r.text
    r = workspace.hub.api("POST", "/users/ghost-collab/server")
    assert r.status_code == 400 and "'ghost-collab' is a collaboration account of no existing project" in r.text
    assert not [c for c in workspace.hub.containers() if c.labels.get("org.statcommons.user") == "ghost-collab"]
