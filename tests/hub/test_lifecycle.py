"""A real hub with real containers, driven like a newcomer and an admin would."""

import json
import time

import pytest

from ..hubtools import Person, wait_for

pytestmark = pytest.mark.containers

NOTEBOOK = {
    "cells": [{"cell_type": "markdown", "metadata": {}, "source": "# Unemployment rate by region"}],
    "metadata": {},
    "nbformat": 4,
    "nbformat_minor": 5,
}


def admin(hub) -> Person:
    person = Person(hub, "admin", hub.admin_password)
    person.log_in()
    assert person.logged_in
    return person


def approved_person(hub, name) -> Person:
    person = Person(hub, name)
    person.sign_up()
    admin(hub).approve(name)
    person.log_in()
    assert person.logged_in
    return person


def put_notebook(person, token, path="analysis.ipynb", nb=NOTEBOOK):
    return person.http.put(
        person.server_url(f"api/contents/{path}"),
        headers={"Authorization": f"token {token}"},
        json={"type": "notebook", "format": "json", "content": nb},
        timeout=30,
    )


def get_contents(person, token, path="analysis.ipynb"):
    return person.http.get(
        person.server_url(f"api/contents/{path}"), headers={"Authorization": f"token {token}"}, timeout=30
    )


def spawn_from_form(person, profile="python"):
    return person.hub_post(f"/spawn/{person.name}", data={"profile": profile})


def test_signup_approval_spawn_and_persistent_home(make_hub):
    hub = make_hub()
    ana = Person(hub, "ana")
    signup = ana.sign_up()
    assert signup.status_code == 200
    assert "information has been sent to the admin" in signup.text.lower()

    # Not approved yet: the form refuses the login.
    refused = ana.log_in()
    assert not ana.logged_in
    assert "User ana has not been authorized by an administrator yet." in refused.text

    admin(hub).approve("ana")
    ana.log_in()
    assert ana.logged_in

    # The spawn form offers the profiles from the allowlist.
    form = ana.http.get(f"{hub.url}/hub/spawn", timeout=30).text
    assert 'value="python"' in form and 'value="r"' in form
    spawn_from_form(ana)
    server = hub.wait_server_ready("ana")
    assert server["user_options"] == {"profile": "python"}
    token = ana.new_token()

    assert put_notebook(ana, token).status_code == 201
    [container] = hub.containers()
    # A network namespace of its own; only the server's port is published, on the host's loopback.
    assert container.attrs["HostConfig"]["NetworkMode"] == "slirp4netns"
    [binding] = container.attrs["HostConfig"]["PortBindings"]["8888/tcp"]
    assert binding["HostIp"] == "127.0.0.2"  # the internal address, which no container reaches
    assert server["url"] == "/user/ana/"
    assert container.attrs["HostConfig"]["Memory"] == 4 * 1024**3
    uid = container.exec_run(["stat", "-c", "%u:%g", "/home/jovyan"]).output.decode().strip()
    assert uid == "1000:100"
    assert container.exec_run(["id", "-u"]).output.decode().strip() == "1000"
    assert container.attrs["HostConfig"]["CapDrop"]  # no capabilities to abuse
    status = container.exec_run(["grep", "NoNewPrivs", "/proc/1/status"]).output.decode()
    assert status.split()[-1] == "1"

    # Stop and start: the notebook is still there.
    assert hub.api("DELETE", "/users/ana/server").status_code in (202, 204)
    hub.wait_server_stopped("ana")
    assert hub.containers() == []  # the container went; the home volume stays
    spawn_from_form(ana)
    hub.wait_server_ready("ana")
    got = get_contents(ana, token)
    assert got.status_code == 200
    assert got.json()["content"]["cells"][0]["source"] == "# Unemployment rate by region"

    # Remove the container behind the hub's back, start again: still there.
    [container] = hub.containers()
    container.remove(force=True)
    wait_for(lambda: hub.server("ana") is None, 30, what="the hub to notice the container is gone")
    spawn_from_form(ana)
    hub.wait_server_ready("ana")
    assert get_contents(ana, token).status_code == 200


def test_isolation_between_users(make_hub):
    hub = make_hub()
    ana = approved_person(hub, "ana")
    ben = approved_person(hub, "ben")
    spawn_from_form(ana)
    hub.wait_server_ready("ana")
    ana_token = ana.new_token()
    ben_token = ben.new_token()
    assert put_notebook(ana, ana_token, "private.ipynb").status_code == 201

    # Ben's token cannot reach Ana's server.
    r = ben.http.get(
        ana.server_url("api/contents/private.ipynb"), headers={"Authorization": f"token {ben_token}"}, timeout=30
    )
    assert r.status_code == 403
    # Ben's browser session cannot either.
    r = ben.http.get(ana.server_url("lab"), timeout=30)
    assert "private.ipynb" not in r.text
    assert r.status_code == 403 or "/hub/login" in r.url or "403" in r.text
    # Nor can he start or stop Ana's server, or read her through the hub API.
    # (the hub answers 404 for users one may not see, so as not to reveal who exists)
    assert hub.api("DELETE", "/users/ana/server", token=ben_token).status_code in (403, 404)
    assert hub.api("GET", "/users/ana", token=ben_token).status_code in (403, 404)
    assert hub.server("ana")["ready"]
    # Ana's home is her own volume; Ben's would be another.
    [container] = hub.containers()
    mounts = {m["Destination"]: m.get("Name") for m in container.attrs["Mounts"]}
    assert mounts["/home/jovyan"] == f"{hub.prefix}-home-ana"


def test_arbitrary_image_is_refused(make_hub):
    hub = make_hub()
    ana = approved_person(hub, "ana")
    token = ana.new_token()
    r = hub.api("POST", "/users/ana/server", token=token, json={"image": "docker.io/evil/miner:latest"})
    assert r.status_code == 400
    assert "spawn option 'image' is not allowed" in r.json()["message"]
    r = hub.api("POST", "/users/ana/server", token=token, json={"profile": "julia"})
    assert r.status_code == 400
    assert "profile 'julia' is not allowed: choose one of python, r" in r.json()["message"]
    assert hub.containers() == []
    # The form refuses an unknown profile with a message, and starts nothing.
    page = spawn_from_form(ana, profile="julia")
    assert "profile &#39;julia&#39; is not allowed" in page.text or "profile 'julia' is not allowed" in page.text
    assert hub.containers() == []


def test_unapproved_signup_cannot_log_in(make_hub):
    hub = make_hub()
    eve = Person(hub, "eve")
    eve.sign_up()
    eve.log_in()
    assert not eve.logged_in
    assert eve.http.get(f"{hub.url}/hub/spawn", timeout=30, allow_redirects=False).status_code == 302
    # An admin approval page lists her as waiting.
    page = admin(hub).http.get(f"{hub.url}/hub/authorize", timeout=30).text
    assert "eve" in page


def test_hub_restart_keeps_servers_running(make_hub):
    hub = make_hub()
    ana = approved_person(hub, "ana")
    spawn_from_form(ana)
    hub.wait_server_ready("ana")
    token = ana.new_token()
    [before] = hub.containers()
    hub.stop()
    assert before.reload() is None and before.status == "running"
    hub.start()
    assert hub.wait_server_ready("ana", timeout=30)
    r = get_contents(ana, token, "")
    assert r.status_code == 200
    [after] = hub.containers()
    assert after.id == before.id


def test_killed_container_is_shown_stopped_and_starts_again(make_hub):
    hub = make_hub()
    ana = approved_person(hub, "ana")
    spawn_from_form(ana)
    hub.wait_server_ready("ana")
    [container] = hub.containers()
    container.kill()
    wait_for(lambda: hub.server("ana") is None, 30, what="the hub to show the server stopped")
    home = ana.http.get(f"{hub.url}/hub/home", timeout=30).text
    assert "Stop My Server" not in home
    assert "Start" in home
    spawn_from_form(ana)
    hub.wait_server_ready("ana")
    assert ana.http.get(ana.server_url("api/status"), headers={"Authorization": f"token {ana.new_token()}"}).ok


def test_ops_token_is_admin_and_culler_has_its_role(make_hub):
    hub = make_hub(extra_settings={"culler": {"enabled": True, "timeout": 600}})
    me = hub.api("GET", "/user").json()
    assert me["kind"] == "service" and me["name"] == "ops"
    assert "admin:users" in me["scopes"]
    services = hub.api("GET", "/services").json()
    assert "idle-culler" in services
    roles = {r["name"]: r for r in hub.api("GET", "/roles").json()} if hub.api("GET", "/roles").ok else {}
    if roles:
        assert "delete:servers" in roles["idle-culler"]["scopes"]
        assert "admin:users" not in roles["idle-culler"]["scopes"]
    # The token never shows in the hub's log.
    time.sleep(0.5)
    assert hub.ops_token not in hub.log()
    assert hub.admin_password not in hub.log()
    json.dumps(me)


def test_r_profile_has_the_r_kernel(make_hub):
    hub = make_hub()
    ana = approved_person(hub, "ana")
    spawn_from_form(ana, profile="r")
    server = hub.wait_server_ready("ana")
    assert server["user_options"] == {"profile": "r"}
    specs = ana.http.get(
        ana.server_url("api/kernelspecs"), headers={"Authorization": f"token {ana.new_token()}"}, timeout=30
    ).json()
    assert {"ir", "python3"} <= set(specs["kernelspecs"])
    [container] = hub.containers()
    assert container.attrs["Config"]["Image"].endswith("statcommons/lab-r:latest")


def test_a_profile_whose_server_cannot_start_fails_clearly(make_hub):
    # An operator's mistake: an image without JupyterHub's single-user server.
    profiles = {
        "python": {"display_name": "Python", "image": "statcommons/lab:latest"},
        "broken": {"display_name": "Broken", "image": "statcommons/base:bookworm"},
    }
    hub = make_hub(extra_settings={"profiles": profiles})
    ana = approved_person(hub, "ana")
    token = ana.new_token()
    hub.api("POST", "/users/ana/server", token=token, json={"profile": "broken"})
    wait_for(lambda: hub.server("ana") is None, 60, what="the failed spawn to be cleaned up")
    # The container's command begins with the start hook that images built FROM statcommons/lab have.
    assert '"statcommons-start": executable file not found' in hub.log()
    # The user can start a working profile right after.
    assert hub.api("POST", "/users/ana/server", token=token, json={"profile": "python"}).status_code in (201, 202)
    hub.wait_server_ready("ana")


def test_idle_server_is_culled_and_home_kept(make_hub):
    hub = make_hub(extra_settings={"culler": {"enabled": True, "timeout": 5, "every": 2}})
    ana = approved_person(hub, "ana")
    spawn_from_form(ana)
    hub.wait_server_ready("ana")
    hub.wait_server_stopped("ana", timeout=60)
    assert "Culling server ana (inactive for" in hub.log()
    volumes = [v.name for v in hub.engine().volumes.list() if v.name.startswith(hub.prefix)]
    assert volumes == [f"{hub.prefix}-home-ana"]
