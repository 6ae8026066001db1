"""The projects service's ``open/<name>`` page without a hub: the tornado application with a stand-in hub login.

HubOAuth is the real one (its session cookie and XSRF checks), save for asking the hub who a
token belongs to; the projects are stand-ins that record what was started. What a real hub
adds (the OAuth login, the project server itself) is in ``test_projects.py``.
"""

from __future__ import annotations

import asyncio
import re
from html import unescape
from http.cookies import SimpleCookie
from urllib.parse import urlencode

import pytest
from jupyterhub.services.auth import HubOAuth
from tornado.httpclient import AsyncHTTPClient
from tornado.httpserver import HTTPServer
from tornado.web import create_signed_value

from statcommons.projects import app as projects_app
from statcommons.projects import registration
from statcommons.projects.access import USE
from statcommons.projects.core import ProjectError
from statcommons.settings import validate

from ..hubtools import free_port

PREFIX = "/services/projects/"
PEOPLE = {"token-of-ana": "ana", "token-of-carol": "carol"}


class StandInHubOAuth(HubOAuth):
    """HubOAuth that knows the tokens of :data:`PEOPLE` instead of asking the hub about them."""

    def user_for_token(self, token, use_cache=True, session_id="", *, sync=True):
        name = PEOPLE.get(token)
        model = {"kind": "user", "name": name, "scopes": [USE]} if name else None
        if sync:
            return model

        async def answer():
            return model

        return answer()


class StandInProjects:
    """ana is a member of survey; carol of nothing. Records the starts."""

    options = registration.options(validate({}), {})

    def __init__(self, running: bool = False, start_error: ProjectError | None = None):
        self.running = running
        self.start_error = start_error
        self.started: list[tuple[str, str]] = []

    def _check(self, caller, name):
        if not (name == "survey" and caller.name == "ana"):
            raise ProjectError(404, f"there is no project {name!r} that you are a member of")

    async def get(self, caller, name):
        self._check(caller, name)
        return {"name": name, "title": "Labour <force> survey", "description": "", "members": [], "role": "owner"}

    async def server_status(self, caller, name):
        self._check(caller, name)
        return {"running": self.running, "url": f"/user/{name}-collab/"}

    async def start_server(self, caller, name):
        self._check(caller, name)
        self.started.append((caller.name, name))
        if self.start_error:
            raise self.start_error
        self.running = True
        return {"running": True, "url": f"/user/{name}-collab/"}


class Browser:
    """A browser's requests to the service: a cookie jar, navigation headers, no redirects followed."""

    def __init__(self, url: str, secret: bytes, cookie_name: str, token: str | None):
        self.url = url
        self.cookies: dict[str, str] = {}
        if token:
            self.cookies[cookie_name] = create_signed_value(secret, cookie_name, token).decode()

    async def request(self, method: str, path: str, form: dict | None = None):
        headers = {"Sec-Fetch-Mode": "navigate", "Sec-Fetch-Site": "same-origin"}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        body = None
        if form is not None:
            body = urlencode(form)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        response = await AsyncHTTPClient().fetch(
            self.url + path, method=method, headers=headers, body=body, follow_redirects=False, raise_error=False
        )
        for line in response.headers.get_list("Set-Cookie"):
            for name, morsel in SimpleCookie(line).items():
                self.cookies[name] = morsel.value
        return response


def scenario(projects: StandInProjects, steps, token: str | None = "token-of-ana"):
    """Run ``steps(browser)`` against the service's application on a loopback port."""

    async def run():
        # The handlers use HubOAuth's shared instance (HubOAuth.instance()): the stand-in becomes it.
        hub_auth = StandInHubOAuth.instance(
            api_token="service-token",
            api_url="http://127.0.0.1:1/hub/api",
            oauth_client_id="service-projects",
            base_url=PREFIX,
            hub_prefix="/hub/",
            cache_max_age=10,
        )
        assert HubOAuth.instance() is hub_auth
        application = projects_app.make_app(projects, prefix=PREFIX, hub_auth=hub_auth)
        port = free_port()
        server = HTTPServer(application)
        server.listen(port, "127.0.0.1")
        try:
            browser = Browser(
                f"http://127.0.0.1:{port}", application.settings["cookie_secret"], hub_auth.cookie_name, token
            )
            return await steps(browser)
        finally:
            server.stop()
            StandInHubOAuth.clear_instance()

    return asyncio.run(run())


def text(response) -> str:
    return response.body.decode()


def form_token(page: str) -> str:
    match = re.search(r'<input type="hidden" name="_xsrf" value="([^"]+)">', page)
    assert match, page
    return unescape(match[1])


def test_a_running_server_is_a_redirect_to_its_jupyterlab():
    projects = StandInProjects(running=True)

    async def steps(browser):
        return await browser.request("GET", f"{PREFIX}open/survey")

    response = scenario(projects, steps)
    assert response.code == 302
    assert response.headers["Location"] == "/user/survey-collab/lab"
    assert projects.started == []


def test_a_stopped_server_is_started_by_the_pages_form_then_opened():
    projects = StandInProjects(running=False)

    async def steps(browser):
        page = await browser.request("GET", f"{PREFIX}open/survey")
        started_by_the_get = list(projects.started)
        opened = await browser.request("POST", f"{PREFIX}open/survey", {"_xsrf": form_token(text(page))})
        return page, started_by_the_get, opened

    page, started_by_the_get, opened = scenario(projects, steps)
    assert page.code == 200 and started_by_the_get == []  # a GET changes nothing
    html = text(page)
    assert '<form id="open-server" method="post" action="/services/projects/open/survey"' in html
    assert "Start and open the project server" in html
    assert "Labour &lt;force&gt; survey" in html and "<force>" not in html
    assert "script-src 'self'" in page.headers["Content-Security-Policy"]
    assert opened.code == 303
    assert opened.headers["Location"] == "/user/survey-collab/lab"
    assert projects.started == [("ana", "survey")]


@pytest.mark.parametrize(
    "form",
    [
        {},  # no token: a form posted from another site
        {"_xsrf": "xsrf-of-the-hubs-home-page"},  # another application's token
    ],
)
def test_a_start_without_this_services_xsrf_token_is_refused(form):
    projects = StandInProjects(running=False)

    async def steps(browser):
        await browser.request("GET", f"{PREFIX}open/survey")  # the session and the XSRF cookie
        return await browser.request("POST", f"{PREFIX}open/survey", form)

    response = scenario(projects, steps)
    assert response.code == 403
    assert response.headers["Content-Type"].startswith("text/html")
    assert "could not be confirmed as yours" in text(response)
    assert projects.started == []


@pytest.mark.parametrize("name", ["census", "..", "x" * 300])
def test_anyone_but_a_member_gets_a_404_page(name):
    projects = StandInProjects(running=True)

    async def steps(browser):
        return await browser.request("GET", f"{PREFIX}open/{name}")

    response = scenario(projects, steps)
    assert response.code == 404
    assert "<h1>404 Not Found</h1>" in text(response)
    assert "that you are a member of" in text(response)

    carol = scenario(projects, steps, token="token-of-carol")
    assert carol.code == 404
    assert projects.started == []


def test_a_server_that_cannot_start_is_a_page_saying_why():
    projects = StandInProjects(running=False, start_error=ProjectError(503, "the hub does not answer"))

    async def steps(browser):
        page = await browser.request("GET", f"{PREFIX}open/survey")
        return await browser.request("POST", f"{PREFIX}open/survey", {"_xsrf": form_token(text(page))})

    response = scenario(projects, steps)
    assert response.code == 503
    assert response.headers["Content-Type"].startswith("text/html")
    assert "The project server of survey could not be started: the hub does not answer" in text(response)


def test_without_a_session_the_hub_login_comes_first():
    projects = StandInProjects(running=True)

    async def steps(browser):
        return await browser.request("GET", f"{PREFIX}open/survey")

    response = scenario(projects, steps, token=None)
    assert response.code == 302
    assert "/hub/api/oauth2/authorize" in response.headers["Location"]
    assert "state=" in response.headers["Location"]
