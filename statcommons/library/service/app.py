"""The library service's tornado application and its start.

The hub starts it (``python -m statcommons.library.service``, see
:func:`statcommons.config.update_services`) with the catalogue's database in
``STATCOMMONS_LIBRARY_DB`` and the rest as options. At start it loads the curated
folder into the database (idempotent) and then serves the API and the web pages
under ``JUPYTERHUB_SERVICE_PREFIX``.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys
import time
from pathlib import Path

from jupyterhub.services.auth import HubOAuth
from jupyterhub.utils import url_path_join
from tornado import web
from tornado.log import enable_pretty_logging

from ...hubservice import NotFoundHandler, OAuthCallbackHandler, serve, service_hub_auth
from ...serverspec import parse_size
from ..store import Store
from . import api
from .attachments import Attachments
from .openapi import openapi

log = logging.getLogger("statcommons.library")

# JSON around a notebook: ids, text, links. The notebook itself has its own cap.
BODY_MARGIN = 256 * 1024


class OpenAPIHandler(api.BaseHandler):
    """``GET /api/openapi.json``: readable without logging in, like the schema of any public API."""

    def get(self) -> None:
        self.write_json(self.settings["openapi"])


def handlers(prefix: str) -> list[tuple]:
    def route(path: str) -> str:
        return url_path_join(prefix, path)

    item = r"api/items/([^/]+)"
    routes = [
        (route("oauth_callback"), OAuthCallbackHandler),
        (route("api/openapi.json"), OpenAPIHandler),
        (route("api/items"), api.ItemsHandler),
        (route(item), api.ItemHandler),
        (route(item + "/review"), api.ReviewHandler),
        (route(item + "/rating"), api.RatingHandler),
        (route(item + "/comments"), api.CommentsHandler),
        (route(item + r"/comments/([^/]+)"), api.CommentHandler),
        (route(item + "/notebook"), api.NotebookHandler),
        (route(item + "/video"), api.VideoHandler),
        (route(item + "/last-run"), api.LastRunHandler),
        (route("api/schema"), api.SchemaHandler),
        (route("api/vocabularies"), api.VocabulariesHandler),
        (route("api/user"), api.UserHandler),
        (route("api/repositories"), api.RepositoriesHandler),
        (route(r"api/dcat\.(jsonld|ttl)"), api.DcatHandler),
        (route(r"api/.*"), NotFoundHandler),
    ]
    try:
        from . import pages
    except ImportError:
        return routes
    return routes[:-1] + pages.handlers(prefix) + routes[-1:]


def make_app(
    store: Store,
    *,
    prefix: str,
    hub_url: str,
    max_notebook_size: int,
    max_video_size: int = 500 * 1024**2,
    hub_auth: HubOAuth | None = None,
):
    """The application serving the catalogue in ``store`` under ``prefix``."""
    hub_auth = hub_auth or service_hub_auth(cache_max_age=60)
    options = {
        "prefix": prefix,
        "hub_url": hub_url,
        "max_notebook_size": max_notebook_size,
        "max_body": max_notebook_size * 2 + BODY_MARGIN,
        "max_video_size": max_video_size,
    }
    return web.Application(
        handlers(prefix),
        store=store,
        attachments=Attachments(store.engine),
        library=options,
        hub_auth=hub_auth,
        openapi=openapi(prefix),
        cookie_secret=os.urandom(32),
        template_path=str(Path(__file__).with_name("templates")),
        static_path=str(Path(__file__).with_name("static")),
        static_url_prefix=url_path_join(prefix, "static/"),
        xsrf_cookies=False,  # HubOAuth checks XSRF for cookie-authenticated requests itself
    )


def _arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m statcommons.library.service", description=__doc__)
    parser.add_argument("--folder", type=Path, help="the curated items to load at start")
    parser.add_argument("--search", choices=("memory", "database"), default="memory")
    parser.add_argument("--max-notebook-size", default="5M", help="the largest notebook a submission carries")
    parser.add_argument("--max-video-size", default="500M", help="the largest video file the library stores")
    parser.add_argument("--hub-url", default="http://127.0.0.1:8000/", help="the hub's public URL, for links")
    return parser.parse_args(argv)


async def _serve(args: argparse.Namespace) -> None:
    url = os.environ.get("STATCOMMONS_LIBRARY_DB")
    if not url:
        sys.exit("statcommons.library.service: STATCOMMONS_LIBRARY_DB is not set: give the catalogue's database URL")
    store = Store(url, search=args.search)
    if store.migrated:
        log.info("library database schema: %s", ", ".join(store.migrated))
    if args.folder:
        report = store.load_folder(args.folder)
        counts = ", ".join(f"{len(report[k])} {k}" for k in ("added", "updated", "unchanged"))
        log.info("loaded %s: %s", args.folder, counts)
        for problem in report["problems"]:
            log.warning("not loaded: %s", problem)
    if args.search == "memory":
        # Built before serving, so that no reader's first search waits for it.
        started = time.monotonic()
        count = store.reindex()
        log.info("search index of %d items built in %.1fs", count, time.monotonic() - started)
    prefix = os.environ.get("JUPYTERHUB_SERVICE_PREFIX", "/services/library/")
    app = make_app(
        store,
        prefix=prefix,
        hub_url=args.hub_url,
        max_notebook_size=parse_size(args.max_notebook_size),
        max_video_size=parse_size(args.max_video_size),
    )
    # Handlers stream bodies and set their own limit; this one only bounds what tornado accepts at all.
    max_body_size = max(1024**3, 2 * parse_size(args.max_video_size))
    await serve(app, default_url="http://127.0.0.1:8082", prefix=prefix, max_body_size=max_body_size, log=log)
    log.info("library service stopping")
    store.close()


def main(argv: list[str] | None = None) -> None:
    enable_pretty_logging()
    logging.getLogger().setLevel(logging.INFO)
    asyncio.run(_serve(_arguments(argv)))
