"""The library as the runner uses it: notebook items, their attached files, and recording ``last_run``.

The runner calls the library service directly on its loopback port with its own hub token
(``JUPYTERHUB_API_TOKEN``, which the hub gives every service it manages). Its role grants
``custom:library:read`` and ``custom:library:runs`` and nothing else, so it sees the
published catalogue and records runs.
"""

from __future__ import annotations

import json
import logging
from urllib.parse import quote

from tornado.httpclient import AsyncHTTPClient, HTTPClientError, HTTPRequest

log = logging.getLogger("statcommons.runner")

# Where a library notebook is, as its item's notebook block says; what a run records of it.
SOURCE_KEYS = ("shared_path", "attached", "repository", "branch", "path")


class LibraryError(Exception):
    """The library refused or could not be reached; ``status`` is its HTTP status (0: no answer)."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status


class Library:
    def __init__(self, url: str, token: str, timeout: float = 30):
        self.url = url if url.endswith("/") else url + "/"
        self.token = token
        self.timeout = timeout

    async def _fetch(self, method: str, path: str, body: dict | None = None) -> bytes:
        request = HTTPRequest(
            self.url + path,
            method=method,
            headers={"Authorization": f"token {self.token}", "Content-Type": "application/json"},
            body=json.dumps(body) if body is not None else None,
            request_timeout=self.timeout,
            follow_redirects=False,
        )
        try:
            response = await AsyncHTTPClient().fetch(request)
        except HTTPClientError as e:
            message = e.message or str(e)
            if e.response is not None and e.response.body:
                try:
                    message = json.loads(e.response.body).get("message", message)
                except (ValueError, AttributeError):
                    pass
            raise LibraryError(e.code, message) from None
        except OSError as e:
            raise LibraryError(0, f"the library service does not answer: {e}") from None
        return response.body

    async def item(self, item_id: str) -> dict:
        return json.loads(await self._fetch("GET", f"api/items/{quote(item_id, safe='')}"))

    async def notebook(self, item_id: str) -> bytes:
        return await self._fetch("GET", f"api/items/{quote(item_id, safe='')}/notebook")

    async def record(self, item_id: str, last_run: dict) -> None:
        await self._fetch("PUT", f"api/items/{quote(item_id, safe='')}/last-run", last_run)


def notebook_source(item: dict) -> dict:
    """The notebook block of a library item, reduced to where the notebook is. Raises ValueError."""
    if item.get("type") != "notebook":
        raise ValueError(f"{item.get('id')!r} is a {item.get('type')}, not a notebook")
    block = item.get("notebook") or {}
    source = {k: block[k] for k in SOURCE_KEYS if k in block}
    if not ({"shared_path", "attached"} & set(source) or "repository" in source):
        raise ValueError(f"{item.get('id')!r} does not say where its notebook is")
    return source
