"""The projects service's tornado application and its start.

The hub starts it (``python -m statcommons.projects``, as :mod:`statcommons.projects.registration`
registers it) with the engine in ``DOCKER_HOST`` and its own hub token in ``JUPYTERHUB_API_TOKEN``;
it reads its options from the settings file the hub names in ``STATCOMMONS_SETTINGS`` and serves
the API and the projects page under ``JUPYTERHUB_SERVICE_PREFIX``.
"""

from __future__ import annotations

import asyncio
import logging
import os
from pathlib import Path

from jupyterhub.services.auth import HubOAuth
from jupyterhub.utils import url_path_join
from tornado import web

from ..kit import openapi
from ..kit.web import NotFoundHandler, OAuthCallbackHandler, run_service, serve, service_hub_auth
from . import api, pages, registration
from .core import Options, Projects
from .hub import Hub
from .store import Store

log = logging.getLogger("statcommons.projects")

#: Seconds between looks for servers that hold a project their user is no longer a member of.
ENFORCE_EVERY = 10.0


async def _keep_in_step(projects: Projects, seconds: float) -> None:
    """Bring the hub's groups to this release's names, then put out removed members (every ``seconds``)."""
    upgraded = False
    while True:
        try:
            if not upgraded:
                await projects.upgrade()
                upgraded = True
            await projects.enforce()
        except Exception as e:  # the hub or the engine did not answer: look again later
            log.warning("checking project members' servers failed: %s", e)
        await asyncio.sleep(seconds)


def handlers(prefix: str) -> list[tuple]:
    def route(path: str) -> str:
        return url_path_join(prefix, path)

    return [
        (route("oauth_callback"), OAuthCallbackHandler),
        *api.API.routes(route(api.ROOT)),
        (route(r"api/.*"), NotFoundHandler),
        *pages.handlers(prefix),
    ]


def make_app(projects: Projects, *, prefix: str, hub_auth: HubOAuth | None = None) -> web.Application:
    hub_auth = hub_auth or service_hub_auth(cache_max_age=10)
    return web.Application(
        handlers(prefix),
        projects=projects,
        prefix=prefix,
        hub_auth=hub_auth,
        openapi=openapi.document(api.API, url_path_join(prefix, api.ROOT)),
        cookie_secret=os.urandom(32),
        template_path=str(Path(__file__).with_name("templates")),
        static_path=str(Path(__file__).with_name("static")),
        static_url_prefix=url_path_join(prefix, "static/"),
        xsrf_cookies=False,  # HubOAuth checks XSRF for cookie-authenticated requests itself
    )


async def _serve(options: Options, database: str) -> None:
    store = Store(database)
    hub = Hub(os.environ.get("JUPYTERHUB_API_URL", "http://127.0.0.1:8081/hub/api"), os.environ["JUPYTERHUB_API_TOKEN"])
    projects = Projects(store, hub, options)
    prefix = os.environ.get("JUPYTERHUB_SERVICE_PREFIX", "/services/projects/")
    app = make_app(projects, prefix=prefix)
    enforcing = asyncio.ensure_future(_keep_in_step(projects, ENFORCE_EVERY))
    await serve(app, default_url="http://127.0.0.1:8084", prefix=prefix, max_body_size=1024**2, log=log)
    enforcing.cancel()
    log.info("projects service stopping")
    store.close()


def _options(loaded: dict, env: dict) -> tuple[Options, str]:
    return registration.options(loaded, env), registration.database(loaded, env)


def main() -> None:
    run_service("statcommons.projects", _options, lambda chosen: _serve(*chosen))
