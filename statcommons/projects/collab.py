"""The collaboration servers of projects, driven through the hub's REST API.

Each project has a hub account ``<project>-collab`` (:func:`names.collab_user`) in the group
:data:`names.COLLAB_GROUP`; its server is the project's real-time collaboration server, shared
with the project's member group through JupyterHub's sharing API (``/hub/api/shares``), so
membership changes apply at run time without touching the hub's roles.

JupyterHub 5.5 leaves a group's shares out of its members' *tokens* (``scopes.get_scopes_for``
adds only the token owner's own shares), and browsers and programs alike reach a server with
tokens. So the server is also shared with each member by name: :meth:`ProjectServers.sync`
makes those shares match the member group (``start`` calls it; call it after adding members),
and :meth:`ProjectServers.revoke` withdraws one. The project server itself admits members of
the group only (the ``statcommons_project_server`` extension of the lab image), keeps the hub's
answers a few seconds, and re-checks its open websockets every few seconds; ``revoke`` asks it
to re-check at once.

The token used needs, on the hub: ``admin:users`` (create and delete collab accounts),
``groups`` and ``read:groups`` (the collab group, the member groups), ``servers`` (start and
stop), ``shares`` and ``read:groups:name`` (share with a member group), and
``access:servers!group=collaboration-accounts`` (call the collab servers).
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import time
from urllib.parse import quote, urlsplit

from tornado.httpclient import AsyncHTTPClient, HTTPClientError, HTTPRequest

from ..kit.client import ServiceClient, ServiceError, answer_message
from ..platform import names


class ProjectServers:
    """The collaboration servers of projects, driven through the hub's REST API."""

    #: Seconds a server may take to become ready in :meth:`start` (the hub's own limit may be shorter).
    start_timeout: float = 180
    #: Seconds :meth:`stop` waits for the server to be gone.
    stop_timeout: float = 60
    #: Seconds for one HTTP request.
    request_timeout: float = 30

    def __init__(self, hub_api_url: str, api_token: str, log=None, public_url: str | None = None):
        """``hub_api_url``: the hub's API (``http://127.0.0.1:8081/hub/api``, as services get it in
        ``JUPYTERHUB_API_URL``). ``public_url``: where the proxy serves ``/user/...``, to reach the
        collab servers (default: ``JUPYTERHUB_PUBLIC_URL``, else the hub API's own origin and base
        URL, which is right when that goes through the proxy).
        """
        self.api = hub_api_url.rstrip("/") + "/"
        self.token = api_token
        self.client = ServiceClient(self.api, api_token, name="the hub", timeout=self.request_timeout)
        self.log = log or logging.getLogger("statcommons.projects.collab")
        parts = urlsplit(self.api)
        # The hub's base URL: the API is at <base>hub/api/.
        base_path = parts.path[: -len("hub/api/")] if parts.path.endswith("hub/api/") else "/"
        self.base_url = base_path
        public = public_url or os.environ.get("JUPYTERHUB_PUBLIC_URL") or f"{parts.scheme}://{parts.netloc}{base_path}"
        self.public_url = public.rstrip("/") + "/"

    # --- HTTP ----------------------------------------------------------------
    async def _fetch(self, method: str, url: str, body=None, allow=(), timeout=None):
        """One request to ``url``; ``(status, parsed JSON or None)``. Statuses in ``allow`` are not errors."""
        return await self.client.request(method, url, body, allow, timeout or self.request_timeout)

    async def _hub(self, method: str, path: str, body=None, allow=(), timeout=None):
        return await self._fetch(method, self.api + path.lstrip("/"), body, allow, timeout)

    # --- pieces ----------------------------------------------------------------
    async def _user(self, name: str) -> dict | None:
        status, user = await self._hub("GET", f"users/{quote(name, safe='')}", allow=(404,))
        return None if status == 404 else user

    async def _ensure_account(self, name: str) -> dict:
        user = await self._user(name)
        if user is None:
            status, user = await self._hub("POST", f"users/{quote(name, safe='')}", allow=(409,))
            if status == 409:  # created meanwhile
                user = await self._user(name)
            self.log.info("Created the collaboration account %s", name)
        if names.COLLAB_GROUP not in (user.get("groups") or []):
            group = f"groups/{quote(names.COLLAB_GROUP, safe='')}"
            status, _ = await self._hub("GET", group, allow=(404,))
            if status == 404:
                await self._hub("POST", group, allow=(409,))
            await self._hub("POST", f"{group}/users", {"users": [name]})
        return user

    def _server_path(self, name: str) -> str:
        return f"{self.base_url}user/{quote(name, safe='')}/"

    async def _wait_ready(self, name: str) -> dict:
        """Wait for the server through the hub's progress stream; raise with its last message."""
        deadline = time.monotonic() + self.start_timeout
        last = "no progress reported"
        buffer = b""
        events: list[dict] = []

        def on_chunk(chunk: bytes) -> None:
            nonlocal buffer
            buffer += chunk
            while b"\n\n" in buffer:
                block, buffer = buffer.split(b"\n\n", 1)
                for line in block.splitlines():
                    if line.startswith(b"data:"):
                        try:
                            events.append(json.loads(line[5:]))
                        except ValueError:
                            pass

        request = HTTPRequest(
            f"{self.api}users/{quote(name, safe='')}/server/progress",
            headers={"Authorization": f"token {self.token}", "Accept": "text/event-stream"},
            streaming_callback=on_chunk,
            request_timeout=self.start_timeout,
        )
        try:
            await AsyncHTTPClient().fetch(request)
        except HTTPClientError as e:
            if e.code != 599:  # 599: our own timeout, judged below
                raise ServiceError(e.code, f"progress of {name}'s server: {e.code} {answer_message(e)}") from None
        except OSError as e:
            raise ServiceError(0, f"progress of {name}'s server: no answer from the hub: {e}") from None
        for event in events:
            last = event.get("message") or last
            if event.get("failed"):
                raise ServiceError(500, f"{name}'s server failed to start: {last}")
        # The stream ends when the spawn ends; confirm with the user model (it may also have
        # ended because the server was already running).
        while True:
            user = await self._user(name)
            server = (user or {}).get("servers", {}).get("")
            if server and server.get("ready"):
                return server
            if not server or not server.get("pending"):
                raise ServiceError(500, f"{name}'s server is not running after its start: {last}")
            if time.monotonic() > deadline:
                raise ServiceError(504, f"{name}'s server was not ready within {self.start_timeout:.0f} s: {last}")
            await asyncio.sleep(0.25)

    # --- the interface -----------------------------------------------------------
    async def start(self, project: str) -> str:
        """Create the collab account if missing, start its server, share it with the members.

        Returns the server's URL path (``/user/<project>-collab/``).
        """
        name = names.collab_user(project)
        group = names.member_group(project)
        status, _ = await self._hub("GET", f"groups/{quote(group, safe='')}", allow=(404,))
        if status == 404:
            raise ServiceError(404, f"project {project} has no member group {group}: create it first")
        user = await self._ensure_account(name)
        server = (user.get("servers") or {}).get("")
        if not (server and server.get("ready")):
            status, _ = await self._hub("POST", f"users/{quote(name, safe='')}/server", {}, allow=(400,))
            if status == 400:
                # The hub answers 400 when the server is already running or stopping.
                current = ((await self._user(name)) or {}).get("servers", {}).get("")
                if current and current.get("pending") == "stop":
                    raise ServiceError(409, f"{name}'s server is stopping; start it again once it has stopped")
                if not current:
                    raise ServiceError(400, f"the hub refused to start {name}'s server")
            server = await self._wait_ready(name)
            self.log.info("The collaboration server of %s is ready", project)
        await self.sync(project)
        return server.get("url") or self._server_path(name)

    async def sync(self, project: str) -> None:
        """Share the server with the member group and with each member by name; withdraw other names.

        Call it after adding members to the project's group (``start`` calls it too; before the
        first start there is nothing to share and it does nothing). A running server forgets
        its cached answers, so that those just added get in at once and those withdrawn are
        put out.
        """
        name = names.collab_user(project)
        group = names.member_group(project)
        shares = f"shares/{quote(name, safe='')}/"
        _, model = await self._hub("GET", f"groups/{quote(group, safe='')}")
        members = set(model.get("users", []))
        if await self._user(name) is None:
            return  # no server yet: start() shares it
        status, _ = await self._hub("POST", shares, {"group": group}, allow=(404,))
        if status == 404:
            return  # the account has never had a server: start() shares it
        _, listed = await self._hub("GET", shares)
        shared = {s["user"]["name"] for s in listed.get("items", []) if s.get("user")}
        for user in sorted(members - shared):
            await self._hub("POST", shares, {"user": user})
        for user in sorted(shared - members):
            await self._hub("PATCH", shares, {"user": user})
        await self._recheck(name, sorted(shared - members))

    async def _recheck(self, name: str, users: list[str]) -> list[dict]:
        """Ask a running collab server to drop its cached answers and re-check ``users``' connections."""
        user = await self._user(name)
        server = ((user or {}).get("servers") or {}).get("")
        if not (server and server.get("ready")):
            return []
        url = self.public_url + server["url"][len(self.base_url) :] + "api/statcommons/connections"
        _, result = await self._fetch("POST", url, {"users": users})
        return (result or {}).get("closed", [])

    async def stop(self, project: str) -> None:
        """Stop the project's server (the account and its share stay)."""
        name = names.collab_user(project)
        status, _ = await self._hub("DELETE", f"users/{quote(name, safe='')}/server", allow=(400, 404))
        if status == 404:
            return
        deadline = time.monotonic() + self.stop_timeout
        while ((await self._user(name)) or {}).get("servers", {}).get(""):
            if time.monotonic() > deadline:
                raise ServiceError(504, f"{name}'s server did not stop within {self.stop_timeout:.0f} s")
            await asyncio.sleep(0.25)
        self.log.info("Stopped the collaboration server of %s", project)

    async def status(self, project: str) -> dict:
        """``{"running": bool, "url": str}``: ready or not, and where the server is (or would be)."""
        name = names.collab_user(project)
        user = await self._user(name)
        server = (user or {}).get("servers", {}).get("")
        return {
            "running": bool(server and server.get("ready")),
            "url": (server or {}).get("url") or self._server_path(name),
        }

    async def revoke(self, project: str, username: str) -> None:
        """Refuse ``username`` on the project's server now, and close their open connections.

        Call it after removing them from the member group: their share is withdrawn and the
        server re-checks its open connections. Raises :class:`ServiceError` (409) when they are
        still a member.
        """
        name = names.collab_user(project)
        group = names.member_group(project)
        status, model = await self._hub("GET", f"groups/{quote(group, safe='')}", allow=(404,))
        if status != 404 and username in (model or {}).get("users", []):
            raise ServiceError(409, f"{username} is still in the group {group}: remove them first")
        if await self._user(name) is None:
            return
        await self._hub("PATCH", f"shares/{quote(name, safe='')}/", {"user": username}, allow=(404,))
        closed = await self._recheck(name, [username])
        self.log.info("Revoked %s on %s's server: %d connection(s) closed", username, project, len(closed))

    async def remove(self, project: str) -> None:
        """Stop the server and delete the collab account (its shares go with it)."""
        name = names.collab_user(project)
        if await self._user(name) is None:
            return
        await self.stop(project)
        await self._hub("DELETE", f"users/{quote(name, safe='')}", allow=(404,))
        self.log.info("Removed the collaboration account of %s", project)
