"""The part of the hub's REST API the projects service uses: users, their servers, and groups with their properties."""

from __future__ import annotations

import asyncio
import json
import time
from urllib.parse import quote, urlsplit

from tornado.httpclient import AsyncHTTPClient, HTTPClientError, HTTPRequest


class HubError(Exception):
    """The hub (or a project server) refused or did not answer; ``status`` is the HTTP status (0: no answer)."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status
        self.message = message


def answer_message(error: HTTPClientError) -> str:
    """The message of a refusal: the JSON body's ``message`` (as the hub and our services send it), else the reason."""
    body = error.response.body if error.response is not None else b""
    try:
        data = json.loads(body) if body else None
    except ValueError:
        data = None
    if isinstance(data, dict) and data.get("message"):
        return str(data["message"])
    return error.message or str(error)


class Hub:
    """The hub's API at ``api_url`` (``http://127.0.0.1:8081/hub/api``), called with ``token``."""

    def __init__(self, api_url: str, token: str, timeout: float = 30):
        self.api = api_url.rstrip("/") + "/"
        self.token = token
        self.timeout = timeout

    async def call(self, method: str, path: str, body=None, allow: tuple[int, ...] = ()) -> tuple[int, object]:
        """One request; ``(status, parsed JSON or None)``; statuses in ``allow`` are not errors."""
        request = HTTPRequest(
            self.api + path,
            method=method,
            headers={"Authorization": f"token {self.token}", "Content-Type": "application/json"},
            body=json.dumps(body) if body is not None else (b"" if method in ("POST", "PUT", "PATCH") else None),
            allow_nonstandard_methods=True,
            request_timeout=self.timeout,
            follow_redirects=False,
        )
        try:
            response = await AsyncHTTPClient().fetch(request)
        except HTTPClientError as e:
            if e.code in allow:
                return e.code, None
            raise HubError(
                e.code, f"the hub answered {method} {urlsplit(request.url).path} with {e.code}: {answer_message(e)}"
            ) from None
        except OSError as e:
            raise HubError(0, f"the hub does not answer at {urlsplit(self.api).netloc}: {e}") from None
        return response.code, json.loads(response.body) if response.body else None

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
                raise HubError(504, f"{user}'s server did not stop within {timeout:.0f} s")
            await asyncio.sleep(0.2)
        return server

    async def start_server(self, user: str, options: dict | None = None) -> None:
        """Ask the hub to start ``user``'s server with ``options`` (the spawn options it had); it starts on its own."""
        await self.call("POST", f"users/{quote(user, safe='')}/server", options or {}, allow=(400,))
