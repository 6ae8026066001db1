"""What StatCommons' hub services share: hub authentication, JSON errors, streamed bodies, serving.

:class:`JsonApiHandler` authenticates with the hub (a token, or the hub's OAuth cookie) in
``prepare`` without refusing anyone there, so each handler answers a missing scope with a 403
and a reason, and an API client without credentials with a 401, never a redirect. Errors are
JSON ``{"status", "message"}``, plus ``errors`` (each ``{"path", "message"}``) when fields are
wrong (:class:`ApiError`, described for OpenAPI documents by :data:`ERROR_SCHEMA`).

Bodies are streamed: past :attr:`JsonApiHandler.max_body` they are read and dropped, then
refused with a 413. Answering before the body is read would make tornado drop the
connection, which the proxy in front reports as a 503.

:func:`service_hub_auth` makes a service's HubOAuth and :func:`serve` runs its application
until the hub stops it.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import signal
import sys
from collections.abc import Awaitable, Callable
from http.client import responses
from typing import Any

from jupyterhub.services.auth import HubOAuth, HubOAuthCallbackHandler, HubOAuthenticated
from tornado import web
from tornado.httpserver import HTTPServer
from tornado.log import enable_pretty_logging

from .. import settings
from ..platform import clientaddress, logs
from .caller import Caller

ERROR_SCHEMA = {
    "type": "object",
    "required": ["status", "message"],
    "properties": {
        "status": {"type": "integer"},
        "message": {"type": "string"},
        "errors": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["path", "message"],
                "properties": {"path": {"type": "string"}, "message": {"type": "string"}},
            },
        },
    },
}


#: How deeply a request's JSON may nest: no item, run or project needs more.
MAX_DEPTH = 32


def json_problem(value: Any, path: str = "", depth: int = 0) -> tuple[str, str] | None:
    """(path, what is wrong) for JSON that parsed but cannot be taken: nested too deeply, or text
    with a lone surrogate (``"\ud800"`` parses, but is no text any database or file can hold)."""
    if depth > MAX_DEPTH:
        return path, f"nested more than {MAX_DEPTH} levels deep"
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return path, "not valid text: it holds a lone surrogate (\\ud800-\\udfff)"
        return None
    if isinstance(value, dict):
        for key, item in value.items():
            where = f"{path}.{key}" if path else str(key)
            found = json_problem(key, where, depth + 1) or json_problem(item, where, depth + 1)
            if found is not None:
                return found
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found = json_problem(item, f"{path}[{index}]", depth + 1)
            if found is not None:
                return found
    return None


class ApiError(web.HTTPError):
    """An error answered as JSON, with field-level ``errors`` when there are some."""

    def __init__(self, status: int, message: str, errors: list[dict] | None = None):
        super().__init__(status, reason=None)
        self.message = message
        self.errors = errors


def service_hub_auth(cache_max_age: float) -> HubOAuth:
    """A service's HubOAuth: the hub's answer about a token kept ``cache_max_age`` seconds.

    Tokens are taken from headers and the OAuth cookie only: tokens in URLs end up in logs
    and browser history.
    """
    hub_auth = HubOAuth(api_url=os.environ.get("JUPYTERHUB_API_URL"), cache_max_age=cache_max_age)
    hub_auth.allow_token_in_url = False
    return hub_auth


async def serve(
    app: web.Application, *, default_url: str, prefix: str, max_body_size: int, log: logging.Logger
) -> None:
    """Serve ``app`` where the hub says (``JUPYTERHUB_SERVICE_URL``) until SIGINT, SIGTERM or the hub's end.

    A hub that exits while starting (or is killed) does not always stop the services it started:
    one whose parent is gone stops by itself rather than keep running on its own, orphaned.
    """
    clientaddress.install_from_environment()
    logs.install()
    app.settings.setdefault("log_function", logs.log_request)
    bind = os.environ.get("JUPYTERHUB_SERVICE_URL", default_url)
    host, port = bind.split("://", 1)[1].split("/", 1)[0].rsplit(":", 1)
    server = HTTPServer(app, xheaders=True, max_body_size=max_body_size)
    server.listen(int(port), host.strip("[]"))
    log.info("serving at %s%s", bind.rstrip("/"), prefix)
    stop = asyncio.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        asyncio.get_running_loop().add_signal_handler(signum, stop.set)
    watching = asyncio.ensure_future(_stop_when_orphaned(stop, log))
    await stop.wait()
    watching.cancel()
    server.stop()


async def _stop_when_orphaned(stop: asyncio.Event, log: logging.Logger, every: float = 2.0) -> None:
    parent = os.getppid()
    while not stop.is_set():
        await asyncio.sleep(every)
        if os.getppid() != parent:
            log.warning("the hub that started this service is gone: stopping")
            stop.set()


class ServiceHubAuth:
    """Use the HubOAuth the service made (its cache time, no tokens in URLs).

    JupyterHub's mixin would otherwise take its own shared instance with the defaults. Every
    handler of a service must use the same instance: it keeps the OAuth states of logins in
    progress (where to go back to) in memory.
    """

    @property
    def hub_auth(self):
        return self.settings.get("hub_auth") or HubOAuthenticated.hub_auth.fget(self)


class OAuthCallbackHandler(ServiceHubAuth, HubOAuthCallbackHandler):
    """The end of a hub OAuth login, with the service's own HubOAuth."""


#: The answer to a request with neither a hub token nor a hub login.
NOT_LOGGED_IN = "not logged in: log in through the hub, or send a hub token (Authorization: token ...)"


@web.stream_request_body
class JsonApiHandler(ServiceHubAuth, HubOAuthenticated, web.RequestHandler):
    """The base of a service's API handlers.

    ``self.hub_user`` is the hub's model of the caller and ``self.caller`` the same as the
    service's :attr:`caller_class` (its ``access.Caller``), both None when nobody is logged in;
    :meth:`logged_in` is the caller or a 401.
    """

    max_body = 64 * 1024
    caller_class: type[Caller] = Caller

    # Methods tornado does not know are refused before the body is read, and the proxy in front
    # then sees the connection close mid-request (a 503): these are refused the ordinary way.
    SUPPORTED_METHODS = (*web.RequestHandler.SUPPORTED_METHODS, "QUERY", "TRACE")

    def query(self, *args) -> None:
        raise ApiError(405, f"{self.request.method} is not supported here")

    trace = query

    def check_hub_user(self, model: dict) -> dict:
        # Scopes are checked per request, so that a missing scope is a 403 with a reason.
        return model

    async def prepare(self) -> None:
        self._chunks: list[bytes] = []
        self._received = 0
        self.hub_user = await self.hub_auth.get_user(self, sync=False)
        self.current_user = self.hub_user
        self.caller = self.caller_class.from_model(self.hub_user) if self.hub_user else None

    def logged_in(self):
        """The caller, or a 401 when nobody is logged in."""
        if self.caller is None:
            raise ApiError(401, NOT_LOGGED_IN)
        return self.caller

    def set_default_headers(self) -> None:
        self.set_header("Cache-Control", "no-store")
        self.set_header("X-Content-Type-Options", "nosniff")

    def write_json(self, data: Any, status: int = 200) -> None:
        self.set_status(status)
        self.set_header("Content-Type", "application/json; charset=utf-8")
        self.finish(json.dumps(data, ensure_ascii=False))

    def write_error(self, status_code: int, **kwargs) -> None:
        error = kwargs.get("exc_info", (None, None, None))[1]
        body: dict[str, Any] = {"status": status_code}
        if isinstance(error, ApiError):
            body["message"] = error.message
            if error.errors:
                body["errors"] = error.errors
        elif isinstance(error, web.HTTPError) and error.log_message:
            body["message"] = error.log_message % error.args if error.args else error.log_message
        else:
            body["message"] = responses.get(status_code, "error")
        self.clear_header("Content-Disposition")
        self.set_header("Content-Type", "application/json; charset=utf-8")
        self.finish(json.dumps(body))

    def data_received(self, chunk: bytes) -> None:
        self._received += len(chunk)
        if self._received <= self.max_body:
            self._chunks.append(chunk)
        else:
            self._chunks.clear()

    def json_body(self) -> dict:
        """The request's JSON object; 413 above the limit, 400 when it is not JSON, 422 when it is not an object."""
        if self._received > self.max_body:
            raise ApiError(413, f"the request body is {self._received} bytes: at most {self.max_body} are accepted")
        try:
            data = json.loads(b"".join(self._chunks) or b"null")
        except ValueError as e:
            raise ApiError(400, f"the request body is not valid JSON: {e}") from None
        except RecursionError:
            raise ApiError(400, f"the request body is nested too deeply: at most {MAX_DEPTH} levels") from None
        problem = json_problem(data)
        if problem is not None:
            path, message = problem
            raise ApiError(422, f"{path or 'the body'}: {message}", [{"path": path, "message": message}])
        if not isinstance(data, dict):
            raise ApiError(422, "expected a JSON object", [{"path": "", "message": "expected a JSON object"}])
        return data


class NotFoundHandler(JsonApiHandler):
    """A path under ``api/`` that no handler serves: a JSON 404.

    Refused in the method, not in ``prepare``: a handler that answers before the request is
    read closes the connection, and the proxy, reusing it for the next request, answers 503.
    """

    def _not_found(self, *args) -> None:
        raise ApiError(404, f"no such API endpoint: {self.request.path}")

    get = post = put = patch = delete = head = options = query = trace = _not_found


class PageHeaders:
    """A mixin for a service's HTML pages: a strict Content-Security-Policy (:attr:`csp`), no referrer elsewhere."""

    csp: str

    def set_default_headers(self) -> None:
        super().set_default_headers()
        self.set_header("Content-Type", "text/html; charset=UTF-8")
        self.set_header("Content-Security-Policy", self.csp)
        self.set_header("Referrer-Policy", "same-origin")


def run_service(name: str, options: Callable[[dict, dict], Any], serve: Callable[[Any], Awaitable[int | None]]) -> None:
    """A service's ``main``: its options from the settings file the hub names, then ``serve`` until it ends.

    ``options(settings, environment)`` is the service's registration's; a wrong settings file
    ends the process with one line naming the service and the problem.
    """
    enable_pretty_logging()
    logging.getLogger().setLevel(logging.INFO)
    try:
        chosen = options(settings.load(), dict(os.environ))
    except settings.SettingsError as e:
        sys.exit(f"{name}: {e}")
    sys.exit(asyncio.run(serve(chosen)) or 0)
