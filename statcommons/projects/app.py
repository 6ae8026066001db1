"""The projects service's tornado application and its start.

The hub starts it (``python -m statcommons.projects``, see :func:`statcommons.hub.config.update_services`)
with its database in ``STATCOMMONS_PROJECTS_DB``, the engine in ``DOCKER_HOST``, its own hub
token in ``JUPYTERHUB_API_TOKEN`` and the settings as options; it serves the API and the
projects page under ``JUPYTERHUB_SERVICE_PREFIX``.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys
from pathlib import Path

from jupyterhub.services.auth import HubOAuth
from jupyterhub.utils import url_path_join
from tornado import web
from tornado.log import enable_pretty_logging

from ..kit.web import NotFoundHandler, OAuthCallbackHandler, serve, service_hub_auth
from ..platform.units import parse_size, parse_ulimits
from . import api, pages
from .core import Options, Projects
from .hub import Hub
from .openapi import openapi
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

    project = r"api/projects/([^/]+)"
    return [
        (route("oauth_callback"), OAuthCallbackHandler),
        (route("api/openapi.json"), api.OpenAPIHandler),
        (route("api/projects"), api.ProjectsHandler),
        (route(project), api.ProjectHandler),
        (route(project + r"/members/([^/]+)"), api.MemberHandler),
        (route(project + "/server"), api.ServerHandler),
        (route("api/user"), api.UserHandler),
        (route(r"api/notices/([^/]+)"), api.NoticeHandler),
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
        openapi=openapi(prefix),
        cookie_secret=os.urandom(32),
        template_path=str(Path(__file__).with_name("templates")),
        static_path=str(Path(__file__).with_name("static")),
        static_url_prefix=url_path_join(prefix, "static/"),
        xsrf_cookies=False,  # HubOAuth checks XSRF for cookie-authenticated requests itself
    )


def _arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m statcommons.projects", description=__doc__.splitlines()[0])
    parser.add_argument("--name-prefix", default="statcommons", help="prefix of container and volume names")
    parser.add_argument("--image", default="statcommons/lab:latest", help="the image of helper containers")
    parser.add_argument("--ulimits", type=parse_ulimits, default={"nofile": 20000, "nproc": 4096})
    parser.add_argument("--archive-folder", type=Path, required=True, help="where deleted projects are archived")
    parser.add_argument("--create-group", default=None, help="only this hub group's members create projects")
    parser.add_argument("--max-projects-per-user", type=int, default=20)
    parser.add_argument("--proxy-url", default=None, help="the hub's proxy, to reach collaboration servers")
    parser.add_argument("--volume-size", type=parse_size, default=None, help="a project volume's cap, e.g. 20G")
    parser.add_argument("--volume-images", type=Path, default=None, help="where capped volumes' images live")
    return parser.parse_args(argv)


def options_from(args: argparse.Namespace) -> Options:
    return Options(
        name_prefix=args.name_prefix,
        image=args.image,
        ulimits=args.ulimits,
        archive_folder=args.archive_folder,
        create_group=args.create_group or None,
        max_projects_per_user=args.max_projects_per_user,
        proxy_url=args.proxy_url,
        volume_size=args.volume_size,
        volume_images=args.volume_images,
    )


async def _serve(args: argparse.Namespace) -> None:
    url = os.environ.get("STATCOMMONS_PROJECTS_DB")
    if not url:
        sys.exit("statcommons.projects: STATCOMMONS_PROJECTS_DB is not set: give the projects' database URL")
    store = Store(url)
    hub = Hub(os.environ.get("JUPYTERHUB_API_URL", "http://127.0.0.1:8081/hub/api"), os.environ["JUPYTERHUB_API_TOKEN"])
    projects = Projects(store, hub, options_from(args))
    prefix = os.environ.get("JUPYTERHUB_SERVICE_PREFIX", "/services/projects/")
    app = make_app(projects, prefix=prefix)
    enforcing = asyncio.ensure_future(_keep_in_step(projects, ENFORCE_EVERY))
    await serve(app, default_url="http://127.0.0.1:8084", prefix=prefix, max_body_size=1024**2, log=log)
    enforcing.cancel()
    log.info("projects service stopping")
    store.close()


def main(argv: list[str] | None = None) -> None:
    enable_pretty_logging()
    logging.getLogger().setLevel(logging.INFO)
    asyncio.run(_serve(_arguments(argv)))
