"""Jupyter server extension of a project's collaboration server (inactive elsewhere).

A project's collaboration server is the server of the account ``<project>-collab``, shared
with the project's member group through JupyterHub's sharing API. Members come and go while
it runs, so this extension admits the project's members only and makes a removal take effect
quickly:

- a visitor needs the hub's access to this server (its shares) *and* membership of the
  project's member group (``project-<project>``, as the hub reports the visitor's groups);
  services (the projects service), hub admins (who may reach every server anyway) and the
  collab account itself need the access only;
- the hub's answers about a visitor's token are cached for ``auth_cache_max_age`` seconds
  (JupyterHub's default is five minutes), so a removed member's requests are refused soon;
- every open websocket (Y document rooms of real-time collaboration, kernel channels,
  terminals, events) is remembered with the token that opened it, and re-checked with the
  hub every ``recheck_interval`` seconds; a connection whose token lost access is closed;
- ``POST api/statcommons/connections/check`` re-checks at once (the projects service calls
  it right after removing a member); ``GET api/statcommons/connections`` lists who is
  connected. Anyone with access to the server may call both: a check never closes the
  connection of someone who still has access.

Kernels started without a notebook path run in the project folder (the server's root), like
the others.

Visitors are identified by the hub (JupyterHub's single-user identity provider), so each
collaborator appears under their own hub name, never as "Anonymous".

It is active only when ``STATCOMMONS_PROJECT`` is set, as the spawner does for project servers.
"""

from __future__ import annotations

import asyncio
import json
import os
import time
import weakref
from dataclasses import dataclass, field

from jupyter_server.base.handlers import APIHandler
from jupyter_server.utils import url_path_join
from tornado import web
from tornado.websocket import WebSocketHandler
from traitlets import Float, Integer, Unicode, default
from traitlets.config import LoggingConfigurable

#: Close code sent to a websocket whose user lost access (RFC 6455: policy violation).
CLOSE_REVOKED = 1008
_SETTINGS_KEY = "statcommons_project_connections"


def _jupyter_server_extension_points():
    return [{"module": "statcommons_project_server"}]


@dataclass(eq=False)
class Connection:
    """An open websocket: whose it is, and the token the hub vouched for when it opened."""

    handler: WebSocketHandler
    user: str
    token: str
    kind: str
    path: str
    opened: float = field(default_factory=time.time)

    def model(self) -> dict:
        return {"user": self.user, "kind": self.kind, "path": self.path, "opened": self.opened}


def _kind(handler: WebSocketHandler) -> str:
    name = type(handler).__name__
    if "YDoc" in name:
        return "document"
    if "Kernel" in name:
        return "kernel"
    if "Term" in name:
        return "terminal"
    return name


class ProjectConnections(LoggingConfigurable):
    """The open websockets of a project server, and the checks that close those of removed members."""

    auth_cache_max_age = Integer(
        5,
        help="""Seconds the hub's answer about a visitor's token is kept (JupyterHub's default: 300).

        A member removed from the project is refused at most this long after the removal,
        even when nobody asks this server to check.""",
    ).tag(config=True)

    recheck_interval = Float(
        5.0,
        help="""Seconds between checks of every open websocket's token with the hub (0: never).

        Closes the connections of members removed without the projects service telling
        this server (by an admin on the hub's pages, say). One hub request per distinct
        token per interval.""",
    ).tag(config=True)

    member_group = Unicode(
        help="""The hub group whose members may use this server (default: ``project-<STATCOMMONS_PROJECT>``,
        the projects service's naming).""",
    ).tag(config=True)

    @default("member_group")
    def _default_member_group(self):
        return os.environ.get("STATCOMMONS_PROJECT_GROUP") or f"project-{os.environ['STATCOMMONS_PROJECT']}"

    def __init__(self, identity_provider, **kwargs):
        super().__init__(**kwargs)
        self.identity_provider = identity_provider
        self.open: weakref.WeakKeyDictionary[WebSocketHandler, Connection] = weakref.WeakKeyDictionary()
        self._lock = asyncio.Lock()
        self._periodic: asyncio.Task | None = None

    @property
    def hub_auth(self):
        return self.identity_provider.hub_auth

    def admit_members_only(self) -> None:
        """Narrow the hub's access check (used by the identity provider and the authorizer alike)."""
        hub_auth = self.hub_auth
        check_scopes = hub_auth.check_scopes
        owner = os.environ.get("JUPYTERHUB_USER")

        def members_only(required, user):
            allowed = check_scopes(required, user)
            if not allowed or user.get("kind") != "user" or user.get("name") == owner or user.get("admin"):
                return allowed
            if self.member_group in (user.get("groups") or ()):
                return allowed
            self.log.warning("Refusing %s: not in the group %s", user.get("name"), self.member_group)
            return set()

        hub_auth.check_scopes = members_only

    def lower_auth_cache(self) -> None:
        hub_auth = self.hub_auth
        hub_auth.cache_max_age = self.auth_cache_max_age
        # The cache was made with the old age when the identity provider started.
        hub_auth.cache = type(hub_auth.cache)(self.auth_cache_max_age)

    def _ensure_periodic(self) -> None:
        # Started with the first connection, from inside the server's event loop.
        if self.recheck_interval > 0 and (self._periodic is None or self._periodic.done()):
            self._periodic = asyncio.ensure_future(self._recheck_forever())

    async def _recheck_forever(self) -> None:
        while True:
            await asyncio.sleep(self.recheck_interval)
            if self.connections():
                try:
                    await self.check()
                except Exception:
                    self.log.exception("Re-checking the open connections failed")

    def track(self, handler: WebSocketHandler) -> Connection | None:
        user = getattr(handler, "current_user", None)
        hub_user = getattr(user, "hub_user", None)
        if not hub_user:
            return None
        token = self.hub_auth.get_token(handler) or ""
        connection = Connection(handler, hub_user["name"], token, _kind(handler), handler.request.path)
        self.open[handler] = connection
        self._ensure_periodic()
        self.log.info("%s opened a %s connection to %s", connection.user, connection.kind, connection.path)
        return connection

    def forget(self, handler: WebSocketHandler) -> None:
        self.open.pop(handler, None)

    def connections(self) -> list[Connection]:
        return [c for c in list(self.open.values()) if c.handler.ws_connection is not None]

    async def _allowed(self, token: str) -> bool | None:
        """Whether the hub still gives this token access to the server (None: the hub did not answer)."""
        if not token:  # not seen with JupyterLab, whose websockets carry the token or the cookie
            return None
        try:
            model = await self.hub_auth.user_for_token(token, use_cache=False, sync=False)
        except Exception as e:  # the hub restarting, say: nobody is closed for that
            self.log.warning("Could not check a connection's access with the hub: %s", e)
            return None
        return bool(model and self.hub_auth.check_scopes(self.hub_auth.access_scopes, model))

    async def check(self, users: set[str] | None = None) -> dict:
        """Ask the hub about the token of every open connection (of ``users`` only, if given).

        The cached answers are dropped as well, so that the next HTTP request of a removed
        member is asked about afresh and refused. Returns what was checked and closed.
        """
        async with self._lock:
            targets = [c for c in self.connections() if users is None or c.user in users]
            tokens = {c.token for c in targets}
            # Forget every cached answer: an HTTP request without a websocket must be refused too.
            self.hub_auth.cache = type(self.hub_auth.cache)(self.auth_cache_max_age)
            verdicts = dict(zip(tokens, await asyncio.gather(*(self._allowed(t) for t in tokens)), strict=True))
            closed = []
            for connection in targets:
                if verdicts[connection.token] is False:
                    self.log.warning(
                        "Closing the %s connection of %s to %s: access revoked",
                        connection.kind,
                        connection.user,
                        connection.path,
                    )
                    connection.handler.close(CLOSE_REVOKED, "access to this project server was revoked")
                    self.forget(connection.handler)
                    closed.append(connection.model())
            return {"checked": len(targets), "closed": closed}


class ConnectionsHandler(APIHandler):
    """``GET``: the open connections; ``POST {"users": [...]}``: re-check them with the hub now."""

    @property
    def registry(self) -> ProjectConnections:
        return self.settings[_SETTINGS_KEY]

    @web.authenticated
    async def get(self):
        self.finish(json.dumps({"connections": [c.model() for c in self.registry.connections()]}))

    @web.authenticated
    async def post(self):
        users = None
        if self.request.body:
            try:
                body = json.loads(self.request.body)
            except ValueError:
                raise web.HTTPError(400, "the body is not JSON") from None
            if not isinstance(body, dict) or set(body) - {"users"}:
                raise web.HTTPError(400, 'the body must be {"users": [<name>, ...]} or empty')
            if "users" in body:
                names = body["users"]
                if not isinstance(names, list) or not all(isinstance(n, str) and n for n in names):
                    raise web.HTTPError(400, "users must be a list of user names")
                users = set(names)
        self.finish(json.dumps(await self.registry.check(users)))


_original_get = WebSocketHandler.get


async def _tracked_get(self, *args, **kwargs):
    # tornado's WebSocketHandler.get lasts as long as the connection: every websocket handler
    # of Jupyter (Y rooms, kernels, terminals, events) calls it, so one wrapper sees them all.
    registry = self.settings.get(_SETTINGS_KEY)
    if registry is None:
        return await _original_get(self, *args, **kwargs)
    registry.track(self)
    try:
        return await _original_get(self, *args, **kwargs)
    finally:
        registry.forget(self)


def _load_jupyter_server_extension(serverapp):
    project = os.environ.get("STATCOMMONS_PROJECT")
    if not project:
        return
    identity_provider = serverapp.identity_provider
    if not hasattr(identity_provider, "hub_auth"):
        serverapp.log.warning("statcommons_project_server: not under JupyterHub, inactive")
        return
    # Kernels started without a notebook path (and their code) run in the server's own folder:
    # make it the project folder, not the image's home.
    os.chdir(serverapp.root_dir)
    registry = ProjectConnections(identity_provider, parent=serverapp)
    registry.admit_members_only()
    registry.lower_auth_cache()
    serverapp.web_app.settings[_SETTINGS_KEY] = registry
    WebSocketHandler.get = _tracked_get
    base_url = serverapp.web_app.settings["base_url"]
    serverapp.web_app.add_handlers(
        ".*$", [(url_path_join(base_url, "api/statcommons/connections"), ConnectionsHandler)]
    )
    serverapp.log.info(
        "statcommons_project_server: project %s, members of %s only; hub answers kept %ss, "
        "connections re-checked every %ss",
        project,
        registry.member_group,
        registry.auth_cache_max_age,
        registry.recheck_interval,
    )
