"""One real hub for the projects tier: the projects service, real users, real servers in real containers."""

from __future__ import annotations

import pytest
import requests

from ..hubtools import RunningHub, wait_for


class Workspace:
    """A running hub driven the way people and their programs drive it: hub tokens, the contents API."""

    def __init__(self, hub: RunningHub):
        self.hub = hub
        self.api_url = f"{hub.url}/services/projects/api"

    def user(self, name: str) -> str:
        """A hub user (made on first use) and a token of theirs."""
        return self.hub.token(name)

    def call(self, method: str, path: str, as_user: str, **kwargs) -> requests.Response:
        headers = {"Authorization": f"token {self.user(as_user)}"}
        return requests.request(
            method, f"{self.api_url}{path}", headers=headers, timeout=120, allow_redirects=False, **kwargs
        )

    def start_server(self, name: str) -> None:
        """Start ``name``'s server (stopping it first when it runs) and wait until it is ready."""
        self.user(name)
        if self.hub.server(name):
            self.stop_server(name)
        r = self.hub.api("POST", f"/users/{name}/server")
        assert r.status_code in (201, 202), r.text
        self.hub.wait_server_ready(name, timeout=120)

    def stop_server(self, name: str) -> None:
        r = self.hub.api("DELETE", f"/users/{name}/server")
        assert r.status_code in (202, 204), r.text
        self.hub.wait_server_stopped(name)

    def contents(self, name: str, method: str, path: str, as_user: str | None = None, **kwargs) -> requests.Response:
        """The Jupyter contents API of ``name``'s server, called by ``as_user`` (default: ``name``)."""
        headers = {"Authorization": f"token {self.user(as_user or name)}"}
        url = f"{self.hub.url}/user/{name}/api/contents/{path}"
        return requests.request(method, url, headers=headers, timeout=60, allow_redirects=False, **kwargs)

    def listing(self, name: str, path: str = "", as_user: str | None = None) -> set[str]:
        r = self.contents(name, "GET", path, as_user=as_user, params={"content": 1})
        assert r.status_code == 200, r.text
        return {entry["name"] for entry in r.json()["content"]}

    def container(self, name: str):
        """The container of ``name``'s server (found by the label the spawner gives it)."""
        [container] = [c for c in self.hub.containers() if c.labels.get("org.statcommons.user") == name]
        return container

    def exec(self, name: str, command: list[str]) -> tuple[int, str]:
        result = self.container(name).exec_run(command, user="1000:100")
        return result.exit_code, result.output.decode(errors="replace")


@pytest.fixture(scope="package")
def workspace(engine, tmp_path_factory):
    """One hub for the whole tier (its modules share it, and its users' servers)."""
    work = tmp_path_factory.mktemp("projectshub")
    hub = RunningHub(work, engine.docker_host, extra_settings={"projects": {"max_projects_per_user": 2}})
    hub.start()
    space = Workspace(hub)
    try:
        wait_for(
            lambda: requests.get(f"{space.api_url}/openapi.json", timeout=5).status_code == 200,
            60,
            what="the projects service",
        )
        yield space
    finally:
        hub.close(container_lines=40)
