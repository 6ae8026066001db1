"""The library as the runner uses it: notebook items, their attached files, and recording ``last_run``.

The runner calls the library service directly on its loopback port with its own hub token
(``JUPYTERHUB_API_TOKEN``, which the hub gives every service it manages). Its role grants
``custom:library:read`` and ``custom:library:runs`` and nothing else, so it sees the
published catalogue and records runs.
"""

from __future__ import annotations

import logging
from urllib.parse import quote

from ..kit.client import ServiceClient

log = logging.getLogger("statcommons.runner")

# Where a library notebook is, as its item's notebook block says; what a run records of it.
SOURCE_KEYS = ("shared_path", "attached", "repository", "branch", "path")


class Library(ServiceClient):
    """The library's API at ``url`` (``.../services/library/``), called with the runner's token."""

    def __init__(self, url: str, token: str, timeout: float = 30):
        super().__init__(url, token, name="the library service", timeout=timeout)

    async def item(self, item_id: str) -> dict:
        _, item = await self.call("GET", f"api/items/{quote(item_id, safe='')}")
        return item

    async def notebooks(self) -> list[dict]:
        """Every published notebook item, with its ``last_run`` (all pages)."""
        found: list[dict] = []
        while True:
            query = f"api/items?type=notebook&status=published&sort=title&facets=false&limit=100&offset={len(found)}"
            _, page = await self.call("GET", query)
            found += page["items"]
            if not page["items"] or len(found) >= page["total"]:
                return found

    async def notebook(self, item_id: str) -> bytes:
        return await self.raw("GET", f"api/items/{quote(item_id, safe='')}/notebook")

    async def record(self, item_id: str, last_run: dict) -> None:
        await self.call("PUT", f"api/items/{quote(item_id, safe='')}/last-run", last_run)


def notebook_source(item: dict) -> dict:
    """The notebook block of a library item, reduced to where the notebook is. Raises ValueError."""
    if item.get("type") != "notebook":
        raise ValueError(f"{item.get('id')!r} is a {item.get('type')}, not a notebook")
    block = item.get("notebook") or {}
    source = {k: block[k] for k in SOURCE_KEYS if k in block}
    if not ({"shared_path", "attached"} & set(source) or "repository" in source):
        raise ValueError(f"{item.get('id')!r} does not say where its notebook is")
    return source
