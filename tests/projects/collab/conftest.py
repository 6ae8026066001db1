"""One real hub for the whole tier, a project with members, and its collaboration server started by ProjectServers.

The hub's projects service is off: the tests play its part with the ops token (an admin), making
the member group as it does (marked with the project in its properties) and calling ProjectServers.
"""

from __future__ import annotations

import asyncio
import shutil
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests

from statcommons.platform import names
from statcommons.projects.collab import ProjectServers
from statcommons.projects.registration import SERVICE_SCOPES as PROJECTS_SERVICE_SCOPES

from ...chromium import CHROMIUM, CHROMIUM_ARGS
from ...hubtools import Person, RunningHub

PROJECT = "alpha"
MEMBERS = ("ana", "ben", "cai", "dan")
OUTSIDER = "eve"


class Project:
    """The project of the tier: its hub, members with tokens and passwords, and its servers object."""

    def __init__(self, hub: RunningHub):
        self.hub = hub
        self.name = PROJECT
        self.collab = names.collab_user(PROJECT)
        self.group = names.member_group(PROJECT)
        # As the projects service calls it: the hub's own API port, the proxy to reach servers, and
        # a token with the scopes of the service's role and nothing else (one of the admin's, narrowed).
        api = hub.api_url
        scopes = {"scopes": sorted(PROJECTS_SERVICE_SCOPES), "note": "the projects service's scopes"}
        r = hub.api("POST", "/users/admin/tokens", json=scopes)
        r.raise_for_status()
        self.service_token = r.json()["token"]
        self.servers = ProjectServers(api, self.service_token, public_url=f"{hub.url}/")
        self.people: dict[str, Person] = {}
        self.tokens: dict[str, str] = {}
        self.url = ""

    def run(self, coroutine):
        """Run a coroutine to its end, in a thread of its own (Playwright's sync API holds this one's loop)."""
        with ThreadPoolExecutor(1) as pool:
            return pool.submit(asyncio.run, coroutine).result()

    def person(self, name: str) -> Person:
        """A hub account with a password (signed up, approved) and an API token."""
        if name not in self.people:
            person = Person(self.hub, name)
            person.sign_up()
            admin = Person(self.hub, "admin", self.hub.admin_password)
            admin.log_in()
            admin.approve(name)
            person.log_in()  # the hub account exists from the first login
            assert person.logged_in, name
            self.tokens[name] = self.hub.token(name)
            self.people[name] = person
        return self.people[name]

    def server_url(self, path: str = "") -> str:
        return f"{self.hub.url}/user/{self.collab}/{path}"

    def get(self, as_user: str, path: str, **kwargs) -> requests.Response:
        headers = {"Authorization": f"token {self.tokens[as_user]}"}
        return requests.get(self.server_url(path), headers=headers, timeout=30, allow_redirects=False, **kwargs)

    def put_notebook(self, path: str, sources: list[str]) -> None:
        cells = [
            {"cell_type": "code", "id": f"c{i}", "source": s, "metadata": {}, "outputs": [], "execution_count": None}
            for i, s in enumerate(sources)
        ]
        kernel = {"name": "python3", "display_name": "Python 3", "language": "python"}
        nb = {"nbformat": 4, "nbformat_minor": 5, "metadata": {"kernelspec": kernel}, "cells": cells}
        r = requests.put(
            self.server_url(f"api/contents/{path}"),
            headers={"Authorization": f"token {self.hub.ops_token}"},
            json={"type": "notebook", "format": "json", "content": nb},
            timeout=30,
        )
        r.raise_for_status()

    def make_group(self, name: str) -> None:
        """A project's member group as the projects service makes it: the spawner trusts only such groups."""
        group = names.member_group(name)
        self.hub.api("POST", f"/groups/{group}").raise_for_status()
        properties = {names.GROUP_PROPERTY: name}
        self.hub.api("PUT", f"/groups/{group}/properties", json=properties).raise_for_status()

    def add_members(self, *people: str) -> None:
        self.hub.api("POST", f"/groups/{self.group}/users", json={"users": list(people)}).raise_for_status()

    def remove_members(self, *people: str) -> None:
        self.hub.api("DELETE", f"/groups/{self.group}/users", json={"users": list(people)}).raise_for_status()

    def container(self):
        found = [c for c in self.hub.containers() if f"JUPYTERHUB_USER={self.collab}" in c.attrs["Config"]["Env"]]
        assert len(found) == 1, [c.name for c in self.hub.containers()]
        return found[0]


def start_project(hub: RunningHub) -> Project:
    """Members with passwords and tokens, the project's group, and its server started by ProjectServers."""
    project = Project(hub)
    for name in (*MEMBERS, OUTSIDER):
        project.person(name)
    project.make_group(PROJECT)
    project.add_members(*MEMBERS)
    project.url = project.run(project.servers.start(PROJECT))
    return project


@pytest.fixture(scope="package")
def project(engine, tmp_path_factory):
    """One hub for the tier (no library, runner or projects service), and the project's started server."""
    work = tmp_path_factory.mktemp("collabhub")
    settings = {"library": {"enabled": False}, "runner": {"enabled": False}, "projects": {"enabled": False}}
    hub = RunningHub(work, engine.docker_host, extra_settings=settings)
    hub.start()
    try:
        yield start_project(hub)
    finally:
        hub.close(container_lines=80)


@pytest.fixture(scope="package")
def browser():
    """One headless chromium for the tier; each test opens its own contexts (one per person)."""
    if not shutil.which(CHROMIUM):
        pytest.fail(f"{CHROMIUM} is missing: run `make browser-deps` (installs Debian's chromium)")
    from playwright.sync_api import sync_playwright

    playwright = sync_playwright().start()
    browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
    yield browser
    browser.close()
    playwright.stop()


@pytest.fixture(scope="session")
def collab_artifacts(artifacts) -> Path:
    folder = artifacts / "collab"
    folder.mkdir(exist_ok=True)
    return folder
