"""nbgitpuller's links (``git-pull``), served with the rules of :mod:`.links`.

nbgitpuller 1.3.0 writes wherever ``targetpath`` points, absolute paths and ``../`` included,
and clones from any URL: one click on a link could replace the clicker's kernelspec with an
attacker's. Its own server extension is switched off in this package's server configuration
and its handlers are served here instead, each checking the link first: the repository's
origin against the allowed ones, and the folder against the home's rules. A refused link is a
403 page saying which origin or folder was refused and why (and which setting allows an origin).

The allowed origins are those of the library's published notebooks (``GET api/repositories`` of
the library, with this server's token, kept for a minute) and ``servers.git_origins``.
"""

from __future__ import annotations

import json
import os
import time

from jupyter_server.utils import url_path_join
from tornado import web
from tornado.httpclient import AsyncHTTPClient, HTTPRequest

from . import links

#: Seconds the library's list of origins is kept.
ORIGINS_MAX_AGE = 60.0
#: Seconds after which an origin not in the kept list makes the list be fetched again (a notebook
#: published a moment ago is allowed at once, yet refused links cannot make this server hammer the library).
ORIGINS_MIN_AGE = 3.0


class AllowedOrigins:
    """The origins links may clone from: the library's published notebooks' and the setting's."""

    def __init__(self, library_url: str, log, max_age: float = ORIGINS_MAX_AGE):
        self.library_url = library_url
        self.log = log
        self.max_age = max_age
        self._library: set[str] = set()
        self._fetched = 0.0

    async def __call__(self) -> set[str]:
        return links.origins_from_setting() | await self.library()

    async def check(self, url: str) -> str:
        """The URL's origin when it is allowed (asking the library again if it may have changed)."""
        try:
            return links.check_origin(url, await self())
        except links.LinkRefused:
            if time.monotonic() - self._fetched < ORIGINS_MIN_AGE:
                raise
            await self.library(fresh=True)
            return links.check_origin(url, await self())

    async def library(self, fresh: bool = False) -> set[str]:
        if not self.library_url or (not fresh and time.monotonic() - self._fetched < self.max_age):
            return self._library
        token = os.environ.get("JUPYTERHUB_API_TOKEN", "")
        request = HTTPRequest(
            self.library_url.rstrip("/") + "/api/repositories",
            headers={"Authorization": f"token {token}", "Accept": "application/json"},
            request_timeout=10,
        )
        try:
            response = await AsyncHTTPClient().fetch(request)
            origins = json.loads(response.body).get("origins") or []
            self._library = {o for o in origins if isinstance(o, str)}
            self._fetched = time.monotonic()
        except Exception as e:  # no library answer: the setting's origins (and the last list) still apply
            self.log.warning("statcommons_workspace: the library's repository origins are unknown: %s", e)
        return self._library


async def check_link(handler, default: str) -> None:
    """Refuse (403) a git-pull request whose repository or target folder is not allowed.

    ``default`` is the folder nbgitpuller's handler takes when the link names none.
    """
    repo = handler.get_argument("repo", "")
    relative = handler.get_argument("targetpath", None) or handler.get_argument("targetPath", None) or default
    if os.environ.get("NBGITPULLER_PARENTPATH"):
        relative = f"{os.environ['NBGITPULLER_PARENTPATH'].strip('/')}/{relative}"
    try:
        await handler.settings["statcommons_git_origins"].check(repo)
        links.target(handler.settings["server_root_dir"], relative)
    except links.LinkRefused as e:
        handler.log.warning("statcommons_workspace: refused a git-pull link: %s", e.message)
        raise web.HTTPError(e.status, "%s", e.message) from None


def setup_gitpull(server_app, library_url: str) -> None:
    """Serve nbgitpuller's routes with the link checks (its own extension is off)."""
    from nbgitpuller._compat import get_base_handler

    get_base_handler(server_app)
    from nbgitpuller import handlers

    class SyncHandler(handlers.SyncHandler):
        @web.authenticated
        async def get(self):
            await check_link(self, self.get_argument("repo", "").split("/")[-1])
            return await super().get()

    class UIHandler(handlers.UIHandler):
        @web.authenticated
        async def get(self):
            await check_link(self, self.get_argument("repo", "").rstrip("/").split("/")[-1])
            return await super().get()

    web_app = server_app.web_app
    web_app.settings["statcommons_git_origins"] = AllowedOrigins(library_url, server_app.log)
    web_app.settings["nbapp"] = server_app  # nbgitpuller's handlers read the server's settings through it
    base = url_path_join(web_app.settings["base_url"], "git-pull")
    static = os.path.join(os.path.dirname(handlers.__file__), "static")
    web_app.add_handlers(
        ".*$",
        [
            (url_path_join(base, "api"), SyncHandler),
            (base, UIHandler),
            (url_path_join(web_app.settings["base_url"], "git-sync"), handlers.LegacyGitSyncRedirectHandler),
            (url_path_join(base, "static", "(.*)"), web.StaticFileHandler, {"path": static}),
        ],
    )
