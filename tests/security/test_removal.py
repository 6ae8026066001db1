"""Removal is removal: a member taken out of a project keeps no way into it.

The reproduction: a member read the project server's ``JUPYTERHUB_API_TOKEN`` (the collaboration
account's) from ``/proc/1/environ``; after their removal they still read and wrote the project's
files, started kernels and submitted library drafts with it; and their own running server kept
the project's volume mounted read-write until its next restart.
"""

from __future__ import annotations

import html
import time

import pytest
import requests

from ..hubtools import wait_for

pytestmark = pytest.mark.containers

PROJECT = "ledger"


def _projects(users, method: str, path: str, as_user: str, **kwargs) -> requests.Response:
    url = f"{users.hub.url}/services/projects/api/{path}"
    headers = {"Authorization": f"token {users.token(as_user)}"}
    return requests.request(method, url, headers=headers, timeout=300, **kwargs)


def _with(token: str, method: str, url: str, **kwargs) -> requests.Response:
    return requests.request(method, url, headers={"Authorization": f"token {token}"}, timeout=30, **kwargs)


def _mounts(container) -> set[str]:
    container.reload()
    return {m.get("Destination") for m in container.attrs.get("Mounts", [])}


def test_a_removed_member_keeps_no_token_no_mount_and_no_file(users):
    hub = users.hub
    users.token("dario")
    r = _projects(users, "POST", "projects", "carla", json={"name": PROJECT, "title": "Ledger", "description": ""})
    assert r.status_code == 201, r.text
    r = _projects(users, "PUT", f"projects/{PROJECT}/members/dario", "carla", json={"role": "member"})
    assert r.status_code == 200, r.text
    users.start_server("dario")  # started after joining: it mounts the project
    dario = users.container("dario")
    assert f"/mnt/projects/{PROJECT}" in _mounts(dario)
    r = _projects(users, "POST", f"projects/{PROJECT}/server", "carla")
    assert r.status_code == 200, r.text
    collab_name = f"{PROJECT}-collab"
    files = f"{hub.url}/user/{collab_name}/api/contents"

    # Dario, a member, copies the project server's token from a process of his on it.
    collab = users.container(collab_name)
    environ = collab.exec_run(["cat", "/proc/1/environ"], user="1000:100").output.split(b"\0")
    [token] = [v.split(b"=", 1)[1].decode() for v in environ if v.startswith(b"JUPYTERHUB_API_TOKEN=")]
    assert _with(token, "GET", f"{hub.url}/hub/api/user").json()["name"] == collab_name
    assert _with(token, "PUT", f"{files}/plan.txt", json={"type": "file", "format": "text", "content": "v1"}).ok

    removed = time.monotonic()
    r = _projects(users, "DELETE", f"projects/{PROJECT}/members/dario", "carla")
    assert r.status_code == 204, r.text

    def refused(who: str, method: str, **kwargs):
        # A redirect to the hub (the server is gone, or restarting) reads and writes nothing.
        return lambda: _with(who, method, f"{files}/plan.txt", allow_redirects=False, **kwargs).status_code >= 300

    def unmounted() -> bool:
        return not any(
            f"/mnt/projects/{PROJECT}" in _mounts(c)
            for c in hub.containers()
            if c.labels.get("org.statcommons.user") == "dario" and c.status == "running"
        )

    write = {"json": {"type": "file", "format": "text", "content": "x"}}
    ways_in = {
        "the copied token acts as the collaboration account": lambda: (
            _with(token, "GET", f"{hub.url}/hub/api/user").status_code in (401, 403)
        ),
        "the copied token reads a file": refused(token, "GET"),
        "the copied token writes a file": refused(token, "PUT", **write),
        "his own token reads a file": refused(users.token("dario"), "GET"),
        "his own token writes a file": refused(users.token("dario"), "PUT", **write),
        "a server of his has the project mounted": unmounted,
    }
    # Each way in is checked until it is closed, and timed when its check answered: once closed,
    # a way stays closed, so the slowest of these is when he was locked out of all of them.
    closed: dict[str, float] = {}
    while len(closed) < len(ways_in) and time.monotonic() - removed < 30:
        for way, is_closed in ways_in.items():
            if way not in closed and is_closed():
                closed[way] = time.monotonic() - removed
        time.sleep(0.25)
    still_open = sorted(set(ways_in) - set(closed))
    assert not still_open, f"30 s after his removal, still open: {still_open}"
    figures = ", ".join(f"{way}: {seconds:.1f} s" for way, seconds in closed.items())
    print(f"closed after his removal: {figures}")
    assert max(closed.values()) <= 10, f"seconds from his removal until each way was closed: {figures}"
    # The token he copied is gone for good, also once the project server is back (with a new one).
    hub.wait_server_ready(collab_name, timeout=120)
    assert _with(token, "GET", f"{hub.url}/hub/api/user").status_code in (401, 403)
    assert _with(users.token("carla"), "GET", f"{files}/plan.txt").json()["content"] == "v1"
    assert _with(token, "GET", f"{files}/plan.txt").status_code >= 400

    # His own server came back without the project, and he is told why.
    hub.wait_server_ready("dario", timeout=120)
    assert f"/mnt/projects/{PROJECT}" not in _mounts(users.container("dario"))
    code, _ = users.container("dario").exec_run(["ls", f"/home/jovyan/projects/{PROJECT}"], user="1000:100")
    assert code != 0
    notices = _projects(users, "GET", "user", "dario").json()["notices"]
    assert [n["project"] for n in notices] == [PROJECT]
    assert "carla removed you from the project ledger" in notices[0]["message"]
    page = requests.get(f"{hub.url}/services/projects/", headers={"Authorization": f"token {users.token('dario')}"})
    assert "carla removed you from the project ledger" in html.unescape(page.text)
    r = _projects(users, "DELETE", f"notices/{notices[0]['id']}", "dario")
    assert r.status_code == 204
    assert _projects(users, "GET", "user", "dario").json()["notices"] == []
    assert _projects(users, "DELETE", f"notices/{notices[0]['id']}", "carla").status_code == 404


def test_a_member_removed_on_the_hub_admin_page_is_put_out_too(users):
    """Removed from the member group behind the service's back (an admin on the hub), the same follows."""
    hub = users.hub
    r = _projects(users, "POST", "projects", "carla", json={"name": "atlas", "title": "Atlas", "description": ""})
    assert r.status_code == 201, r.text
    users.token("elsa")
    assert _projects(users, "PUT", "projects/atlas/members/elsa", "carla").status_code == 200
    users.start_server("elsa")
    assert "/mnt/projects/atlas" in _mounts(users.container("elsa"))
    r = hub.api("DELETE", "/groups/project-atlas/users", json={"users": ["elsa"]})
    assert r.status_code == 200, r.text

    def unmounted() -> bool:
        running = [
            c for c in hub.containers() if c.labels.get("org.statcommons.user") == "elsa" and c.status == "running"
        ]
        return not any("/mnt/projects/atlas" in _mounts(c) for c in running)

    wait_for(unmounted, 30, interval=0.5, what="elsa's server to lose the project's mount")
    hub.wait_server_ready("elsa", timeout=120)
    assert "/mnt/projects/atlas" not in _mounts(users.container("elsa"))
