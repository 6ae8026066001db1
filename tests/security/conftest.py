"""One real hub for the attack tests: every service on, two people with running servers.

The tests here do what an ordinary signed-up user would do to another (JupyterHub's model:
users are semi-trusted) and assert that it now fails. Code "run by A" is run inside A's own
container as uid 1000, the user of A's kernel and terminals: the same processes' view and
rights as a cell A types.
"""

from __future__ import annotations

import pytest
import requests

from ..hubtools import RunningHub, wait_for


class Users:
    """People of the hub, with tokens, servers and their containers."""

    def __init__(self, hub: RunningHub):
        self.hub = hub

    def token(self, name: str) -> str:
        """A hub user (made on first use) and a token of theirs."""
        return self.hub.token(name)

    def start_server(self, name: str) -> None:
        self.token(name)
        if (self.hub.server(name) or {}).get("ready"):
            return
        r = self.hub.api("POST", f"/users/{name}/server")
        assert r.status_code in (201, 202, 400), r.text
        self.hub.wait_server_ready(name, timeout=120)

    def container(self, name: str):
        """The container of ``name``'s server (the spawner labels it with the user)."""
        found = [c for c in self.hub.containers() if c.labels.get("org.statcommons.user") == name]
        assert len(found) == 1, [c.name for c in self.hub.containers()]
        return found[0]

    def run_as(self, container, code: str, timeout: int = 60) -> str:
        """Run Python ``code`` in ``container`` as uid 1000 (what a user's cell runs as); its output."""
        result = container.exec_run(["timeout", str(timeout), "python", "-c", code], user="1000:100")
        output = result.output.decode(errors="replace")
        assert result.exit_code == 0, output
        return output

    def server_api(self, owner: str, method: str, path: str, as_user: str | None = None, **kwargs):
        headers = {"Authorization": f"token {self.token(as_user or owner)}"}
        url = f"{self.hub.url}/user/{owner}/{path}"
        return requests.request(method, url, headers=headers, timeout=60, allow_redirects=False, **kwargs)


@pytest.fixture(scope="package")
def users(engine, tmp_path_factory):
    """A hub with the library, the runner and projects, for the whole tier."""
    work = tmp_path_factory.mktemp("attackhub")
    hub = RunningHub(work, engine.docker_host)
    hub.start()
    try:
        wait_for(
            lambda: requests.get(f"{hub.url}/services/projects/api/openapi.json", timeout=5).status_code == 200,
            60,
            what="the projects service",
        )
        yield Users(hub)
    finally:
        hub.close(container_lines=40)
