"""The part of the hub's REST API the projects service uses: users, their servers, and groups with their properties."""

from __future__ import annotations

import asyncio
import time
from urllib.parse import quote

from ..kit.client import ServiceClient, ServiceError


class Hub(ServiceClient):
    """The hub's API at ``api_url`` (``http://127.0.0.2:8081/hub/api``), called with ``token``."""

    def __init__(self, api_url: str, token: str, timeout: float = 30):
        super().__init__(api_url, token, name="the hub", timeout=timeout)

    @property
    def api(self) -> str:
        return self.base_url

    async def user(self, name: str) -> dict | None:
        status, model = await self.call("GET", f"users/{quote(name, safe='')}", allow=(404,))
        return None if status == 404 else model

    async def group(self, name: str) -> dict | None:
        status, model = await self.call("GET", f"groups/{quote(name, safe='')}", allow=(404,))
        return None if status == 404 else model

    async def groups(self) -> list[dict]:
        """Every group with its users and properties (all pages)."""
        found, offset = [], 0
        while True:
            _, page = await self.call("GET", f"groups?offset={offset}&limit=200")
            found += page
            if len(page) < 200:
                return found
            offset += len(page)

    async def create_group(self, name: str, users: list[str], properties: dict) -> None:
        await self.call("POST", f"groups/{quote(name, safe='')}", {"users": users})
        await self.call("PUT", f"groups/{quote(name, safe='')}/properties", properties)

    async def add_users(self, group: str, users: list[str]) -> None:
        await self.call("POST", f"groups/{quote(group, safe='')}/users", {"users": users})

    async def remove_users(self, group: str, users: list[str]) -> None:
        await self.call("DELETE", f"groups/{quote(group, safe='')}/users", {"users": users})

    async def delete_group(self, name: str) -> None:
        await self.call("DELETE", f"groups/{quote(name, safe='')}", allow=(404,))

    async def server(self, user: str) -> dict | None:
        """``user``'s default server (its model: ``ready``, ``pending``, ``user_options``...), or None."""
        model = await self.user(user)
        return ((model or {}).get("servers") or {}).get("")

    async def stop_server(self, user: str, timeout: float = 60) -> dict | None:
        """Stop ``user``'s server and wait until it is gone; the model it had (None if none ran)."""
        server = await self.server(user)
        if server is None:
            return None
        await self.call("DELETE", f"users/{quote(user, safe='')}/server", allow=(400, 404))
        deadline = time.monotonic() + timeout
        while await self.server(user) is not None:
            if time.monotonic() > deadline:
                raise ServiceError(504, f"{user}'s server did not stop within {timeout:.0f} s")
            await asyncio.sleep(0.2)
        return server

    async def start_server(self, user: str, options: dict | None = None) -> None:
        """Ask the hub to start ``user``'s server with ``options`` (the spawn options it had); it starts on its own."""
        await self.call("POST", f"users/{quote(user, safe='')}/server", options or {}, allow=(400,))
