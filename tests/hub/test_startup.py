"""Starting the hub the way `make run` does: progress, readiness and clear failures.

The failures before anything starts need nothing; the starts need the engine, or none at all
with ``engine.kind: none``.
"""

import os
import subprocess
import sys

import pytest
import yaml

from ..hubtools import ROOT, wait_for


def run_statcommons(tmp_path, settings: dict, env: dict | None = None, timeout: float = 60):
    path = tmp_path / "statcommons.yaml"
    path.write_text(yaml.safe_dump({"state_dir": str(tmp_path / "state"), **settings}))
    return subprocess.run(
        [sys.executable, "-m", "statcommons", "run"],
        cwd=ROOT,
        env={**os.environ, "STATCOMMONS_SETTINGS": str(path), **(env or {})},
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def test_missing_engine_socket_is_one_clear_line(tmp_path):
    result = run_statcommons(tmp_path, {"engine": {"docker_host": f"unix://{tmp_path}/nothing.sock"}})
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert lines == [
        f"statcommons: the container engine at unix://{tmp_path}/nothing.sock does not answer: is it running?"
    ]


def test_bad_settings_stop_before_anything_starts(tmp_path):
    result = run_statcommons(tmp_path, {"culler": {"timeout": "soon"}})
    assert result.returncode == 2
    assert "culler.timeout: 'soon' is not allowed: expected a whole number of seconds, at least 1" in result.stderr
    assert not (tmp_path / "state").exists()


def test_oauth_without_client_secret_is_refused(tmp_path):
    settings = {
        "auth": {
            "type": "oidc",
            "oidc": {
                "authorize_url": "http://127.0.0.1:1/auth",
                "token_url": "http://127.0.0.1:1/token",
                "userdata_url": "http://127.0.0.1:1/userinfo",
            },
        }
    }
    env = {k: v for k, v in os.environ.items() if not k.startswith("OAUTH_")}
    path = tmp_path / "statcommons.yaml"
    path.write_text(yaml.safe_dump(settings))
    result = subprocess.run(
        [sys.executable, "-m", "statcommons", "run"],
        cwd=ROOT,
        env={**env, "STATCOMMONS_SETTINGS": str(path)},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert "set OAUTH_CLIENT_ID and OAUTH_CLIENT_SECRET in the environment" in result.stderr


@pytest.mark.containers
def test_run_shows_progress_and_readiness(make_hub):
    hub = make_hub()
    wait_for(lambda: "==> hub ready" in hub.log(), 10, what="the ready line")
    log = hub.log()
    assert "==> container engine: podman at unix://" in log or "==> container engine: docker" in log
    assert f"==> hub ready at {hub.url}/" in log
    # A second start on the same state reuses everything and is ready again.
    hub.stop()
    hub.start()
    wait_for(lambda: hub.log().count("==> hub ready") == 2, 10, what="the second ready line")
    assert "==> building" not in hub.log()


@pytest.mark.hub
def test_second_hub_on_the_same_port_is_refused(make_bare_hub, tmp_path):
    hub = make_bare_hub()
    result = run_statcommons(tmp_path, {"hub": {"port": hub.port, "api_port": hub.api_port + 1}})
    assert result.returncode == 1
    assert f"127.0.0.1:{hub.port} (hub.port) is already in use: is a hub already running" in result.stderr


@pytest.mark.hub
def test_a_hub_without_an_engine_builds_nothing_and_refuses_servers_saying_why(make_bare_hub):
    hub = make_bare_hub()
    wait_for(lambda: "==> hub ready" in hub.log(), 10, what="the ready line")
    log = hub.log()
    assert "==> no container engine (engine.kind: none): no server can start" in log
    assert "==> container engine" not in log and "==> building" not in log
    assert hub.api("POST", "/users/ana").status_code == 201
    r = hub.api("POST", "/users/ana/server")
    assert r.status_code == 503, r.text
    assert "this hub has no container engine (engine.kind: none)" in r.json()["message"]
    assert hub.server("ana") is None
    assert hub.api("GET", "/users/ana").status_code == 200  # the hub is still well
