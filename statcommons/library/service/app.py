"""The library service's tornado application and its start.

The hub starts it (``python -m statcommons.library.service``, as
:mod:`statcommons.library.registration` registers it); it reads its options from the settings
file the hub names in ``STATCOMMONS_SETTINGS``. It serves the API and the web pages
under ``JUPYTERHUB_SERVICE_PREFIX`` at once, and meanwhile loads the curated folder into
the database (idempotent) and builds the in-memory search index (:class:`WarmUp`).
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from jupyterhub.services.auth import HubOAuth
from jupyterhub.utils import url_path_join
from tornado import web

from ...kit import openapi
from ...kit.web import NotFoundHandler, OAuthCallbackHandler, run_service, serve, service_hub_auth
from .. import registration
from ..registration import Options
from ..store import Attachments, Store
from . import api

log = logging.getLogger("statcommons.library")

# JSON around a notebook: ids, text, links. The notebook itself has its own cap.
BODY_MARGIN = 256 * 1024


class WarmUp:
    """What the service does once it listens: load the curated folder, then build the search index.

    The hub gives a managed service about ten seconds to answer before it gives up and exits,
    and the in-memory index takes about a second per 10,000 items to build (more than a
    minute at a million): so the service listens first and does both in a thread of its own,
    while the event loop goes on answering. ``phase`` says where it is:

    * ``loading``: the curated folder is being loaded into the database, in one transaction that
      holds the store's write lock, then SQLite's planner statistics are made if need be
      (:meth:`Store.analyze <statcommons.library.store.Store.analyze>`: without them a search
      with SQL would take seconds). Requests about items wait for it (:meth:`wait_loaded`, in
      their handler's ``prepare``, without holding up the event loop) and get a 503 with
      Retry-After if it takes longer than :data:`~.api.LOADING_WAIT`: a fresh database does not
      hold the curated items yet, and a write would wait for the lock on the event loop.
    * ``warming``: the in-memory index is being built. Everything is served; searches are
      answered with the database's full-text search, in a thread, and say ``"index": "warming"``.
      Writes go on: :meth:`Store.reindex <statcommons.library.store.Store.reindex>` journals
      those committed during the build and replays them onto the new index.
    * ``ready``: searches use the in-memory index (or the database, with ``--search=database``).

    If loading or building fails, the service logs why and stops, with exit status 1; the hub
    starts it again.
    """

    def __init__(self, store: Store, folder: Path | None):
        self.store = store
        self.folder = folder
        self.phase = "loading"
        self.failed = False
        self._loaded = asyncio.Event()
        store.defer_index()

    async def run(self) -> None:
        try:
            if self.folder:
                report = await _in_thread(self.store.load_folder, self.folder)
                counts = ", ".join(f"{len(report[k])} {k}" for k in ("added", "updated", "unchanged"))
                log.info("loaded %s: %s", self.folder, counts)
                for problem in report["problems"]:
                    log.warning("not loaded: %s", problem)
            if await _in_thread(self.store.analyze):
                log.info("the database's query planner statistics were made again")
            self.phase = "warming"
            self._loaded.set()
            if self.store.search_mode == "memory":
                log.info("building the search index; searches use the database meanwhile")
                started = time.monotonic()
                count = await _in_thread(self.store.reindex)
                log.info("search index of %d items built in %.1fs", count, time.monotonic() - started)
            self.phase = "ready"
        except Exception:
            step = "load its folder" if self.phase == "loading" else "build its search index"
            log.exception("the library service could not %s: stopping", step)
            self.failed = True
            os.kill(os.getpid(), signal.SIGTERM)  # serve() stops on it

    async def wait_loaded(self, timeout: float) -> bool:
        """Wait until the curated folder is loaded, at most ``timeout`` seconds; whether it is."""
        if not self._loaded.is_set():
            try:
                await asyncio.wait_for(self._loaded.wait(), timeout)
            except TimeoutError:
                return False
        return True


async def _in_thread(function: Callable[..., Any], *args: Any) -> Any:
    """``function(*args)`` in a daemon thread of its own.

    Not in the loop's executor: asyncio.run waits for that executor's threads when the service
    stops, and an index build can run for minutes. A daemon thread ends with the process.
    """
    loop = asyncio.get_running_loop()
    future = loop.create_future()

    def settle(method: Callable, value: Any) -> None:
        if not future.done():
            method(value)

    def work() -> None:
        try:
            result = function(*args)
        except BaseException as e:  # noqa: BLE001  (handed to the awaiting coroutine)
            outcome = (future.set_exception, e)
        else:
            outcome = (future.set_result, result)
        try:
            loop.call_soon_threadsafe(settle, *outcome)
        except RuntimeError:  # the loop has closed: the service is stopping
            pass

    threading.Thread(target=work, name="library-warm-up", daemon=True).start()
    return await future


def handlers(prefix: str) -> list[tuple]:
    routes = [
        (url_path_join(prefix, "oauth_callback"), OAuthCallbackHandler),
        *api.API.routes(prefix),
        (url_path_join(prefix, r"api/.*"), NotFoundHandler),
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
    warm_up: WarmUp | None = None,
):
    """The application serving the catalogue in ``store`` under ``prefix``; ``warm_up`` says when it is loaded."""
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
        warm_up=warm_up,
        attachments=Attachments(store.db),
        library=options,
        hub_auth=hub_auth,
        openapi=openapi.document(api.API, prefix),
        cookie_secret=os.urandom(32),
        template_path=str(Path(__file__).with_name("templates")),
        static_path=str(Path(__file__).with_name("static")),
        static_url_prefix=url_path_join(prefix, "static/"),
        xsrf_cookies=False,  # HubOAuth checks XSRF for cookie-authenticated requests itself
    )


async def _serve(options: Options) -> int:
    store = Store(options.database, search=options.search)
    if store.migrated:
        log.info("library database schema: %s", ", ".join(store.migrated))
    warm_up = WarmUp(store, options.folder)
    prefix = os.environ.get("JUPYTERHUB_SERVICE_PREFIX", "/services/library/")
    app = make_app(
        store,
        prefix=prefix,
        hub_url=options.hub_url,
        max_notebook_size=options.max_notebook_size,
        max_video_size=options.max_video_size,
        warm_up=warm_up,
    )
    # Handlers stream bodies and set their own limit; this one only bounds what tornado accepts at all.
    max_body_size = max(1024**3, 2 * options.max_video_size)
    # Starts once serve() listens and waits: the hub gets its answer before the folder and the index.
    warming = asyncio.ensure_future(warm_up.run())
    await serve(app, default_url="http://127.0.0.1:8082", prefix=prefix, max_body_size=max_body_size, log=log)
    log.info("library service stopping")
    warming.cancel()
    store.close()
    return 1 if warm_up.failed else 0


def main() -> None:
    run_service("statcommons.library.service", registration.options, _serve)
