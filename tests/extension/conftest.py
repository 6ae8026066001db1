"""One real hub with the real lab image for the extension tier, and chromium pages logged in to it.

The hub, its library and runner, and the people's servers are shared by the module (servers
start once); each test gets fresh browser pages of the people it needs.
"""

from __future__ import annotations

import re
import shutil
from dataclasses import dataclass, field

import pytest
import requests
from playwright.sync_api import expect, sync_playwright

from ..chromium import CHROMIUM, CHROMIUM_ARGS
from ..hubtools import Person, RunningHub, wait_for

LAB_TIMEOUT_MS = 90_000


@dataclass
class User:
    """A hub user with a password (for the browser) and a token (for setting things up)."""

    name: str
    password: str
    token: str
    hub: RunningHub
    pages: list = field(default_factory=list)
    console: list = field(default_factory=list)

    def server_url(self, path: str = "") -> str:
        return f"{self.hub.url}/user/{self.name}/{path}"

    def contents(self, method: str, path: str, **kwargs) -> requests.Response:
        """The Jupyter contents API of the user's own server."""
        return requests.request(
            method,
            self.server_url(f"api/contents/{path}"),
            headers={"Authorization": f"token {self.token}"},
            timeout=30,
            **kwargs,
        )


class ExtensionHub:
    """A running hub, people on it with running servers, and a browser to use it with."""

    def __init__(self, hub: RunningHub, browser):
        self.hub = hub
        self.browser = browser
        self.users: dict[str, User] = {}

    def user(self, name: str, curator: bool = False) -> User:
        """A person who signed up (authorized by the admin), with a running server; a curator if asked."""
        if name in self.users:
            return self.users[name]
        if name == "admin":
            person = Person(self.hub, "admin", self.hub.admin_password)
        else:
            person = Person(self.hub, name)
            assert person.sign_up().status_code < 400
            admin = Person(self.hub, "admin", self.hub.admin_password)
            admin.log_in()
            admin.approve(name)
            r = self.hub.api("POST", f"/users/{name}")
            assert r.status_code in (201, 409), r.text
        if curator:
            self.hub.api("POST", "/groups/curators/users", json={"users": [name]}).raise_for_status()
        r = self.hub.api("POST", f"/users/{name}/server", json={"profile": "python"})
        assert r.status_code in (201, 202), r.text
        self.hub.wait_server_ready(name)
        user = self.users[name] = User(name, person.password, self.hub.token(name), self.hub)
        return user

    def lab(self, user: User, path: str = "lab"):
        """A new browser page logged in as ``user``, showing JupyterLab."""
        context = self.browser.new_context(viewport={"width": 1400, "height": 900})
        context.set_default_timeout(30_000)
        page = context.new_page()
        page.on("console", lambda m: m.type in ("error", "warning") and user.console.append(f"{m.type}: {m.text}"))
        page.on("pageerror", lambda e: user.console.append(f"pageerror: {e}"))
        page.goto(f"{self.hub.url}/hub/login")
        page.fill("#username_input", user.name)
        page.fill("#password_input", user.password)
        page.click("#login_submit")
        page.wait_for_load_state()
        page.goto(user.server_url(path))
        page.wait_for_url(re.compile(rf"/user/{user.name}/lab"), timeout=LAB_TIMEOUT_MS)
        expect(page.locator("#jp-main-dock-panel")).to_be_visible(timeout=LAB_TIMEOUT_MS)
        expect(page.locator(".lm-DockPanel-tabBar .lm-TabBar-tab").first).to_be_visible(timeout=LAB_TIMEOUT_MS)
        page.wait_for_load_state("networkidle")
        user.pages.append(page)
        return page


@pytest.fixture(scope="module")
def lab_hub(engine, tmp_path_factory):
    """A hub with the library, the runner and the lab image with the extension; chromium to drive it."""
    yield from extension_hub(engine, tmp_path_factory.mktemp("exthub"))


def extension_hub(engine, work, settings: dict | None = None):
    """A running hub with chromium (an :class:`ExtensionHub`); stopped and cleaned up after."""
    if not shutil.which(CHROMIUM):
        pytest.fail(f"{CHROMIUM} is missing: run `make browser-deps` (installs Debian's chromium)")
    hub = RunningHub(work, engine.docker_host, extra_settings=settings)
    hub.start()
    playwright = sync_playwright().start()
    browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
    try:
        wait_for(
            lambda: requests.get(f"{hub.url}/services/library/api/openapi.json", timeout=5).status_code == 200,
            60,
            what="the library service",
        )
        yield ExtensionHub(hub, browser)
    finally:
        browser.close()
        playwright.stop()
        hub.close(log_chars=8000)


@pytest.fixture(autouse=True)
def screenshots_on_failure(request, artifacts):
    """When a test fails, every page it opened is saved under test-artifacts/extension/failed-*."""
    yield
    report = getattr(request.node, "rep_call", None)
    hubs = [name for name in ("lab_hub", "living_hub") if name in request.fixturenames]
    if report is None or not report.failed or not hubs:
        return
    out = artifacts / "extension"
    out.mkdir(exist_ok=True)
    for user in request.getfixturevalue(hubs[0]).users.values():
        print(f"--- {user.name}'s browser console ---\n" + "\n".join(user.console[-40:]))
        for n, page in enumerate(user.pages):
            try:
                page.screenshot(path=str(out / f"failed-{request.node.name}-{user.name}-{n}.png"))
            except Exception as e:  # a closed page has nothing to show
                print(f"no screenshot of {user.name}'s page {n}: {e}")
