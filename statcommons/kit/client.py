"""One HTTP client for the hub's API and sibling services: JSON in and out, errors mapped once.

:class:`ServiceClient` sends a request with a hub token (``Authorization: token ...``), JSON bodies,
no redirects followed and a timeout; a refusal becomes a :class:`ServiceError` carrying the
status and the answer's own ``message`` (the hub and our services answer JSON errors), an
unanswered request a ``ServiceError`` with status 0. Idempotent requests (GET, HEAD) that get no
answer are tried once more after a short pause: a service restarting by the hub is back in
moments. Statuses a caller expects (404 for "no such user") are returned, not raised.
"""

from __future__ import annotations

import asyncio
import json
from urllib.parse import urlsplit

from tornado.httpclient import AsyncHTTPClient, HTTPClientError, HTTPRequest

#: Methods that may be sent again when the first try got no answer.
SAFE_METHODS = ("GET", "HEAD")


class ServiceError(Exception):
    """The hub or a service refused or did not answer; ``status`` is the HTTP status (0: no answer)."""

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


class ServiceClient:
    """The API at ``base_url`` (``http://127.0.0.2:8081/hub/api/``, ``.../services/library/``), called with ``token``.

    ``name`` says who answers in error messages ("the hub", "the library service").
    """

    def __init__(self, base_url: str, token: str, *, name: str, timeout: float = 30, retry_pause: float = 0.5):
        self.base_url = base_url.rstrip("/") + "/"
        self.token = token
        self.name = name
        self.timeout = timeout
        self.retry_pause = retry_pause

    async def fetch(self, method: str, url: str, body=None, allow: tuple[int, ...] = (), timeout: float | None = None):
        """One request to ``url`` (absolute); the response, or None for a status in ``allow``."""
        request = HTTPRequest(
            url,
            method=method,
            headers={"Authorization": f"token {self.token}", "Content-Type": "application/json"},
            body=json.dumps(body) if body is not None else (b"" if method in ("POST", "PUT", "PATCH") else None),
            allow_nonstandard_methods=True,
            request_timeout=timeout or self.timeout,
            follow_redirects=False,
        )
        path = urlsplit(url).path
        tries = 2 if method in SAFE_METHODS else 1
        for attempt in range(tries):
            try:
                return await AsyncHTTPClient().fetch(request)
            except HTTPClientError as e:
                if e.code in allow:
                    return _Refused(e.code)
                if e.code == 599 and attempt + 1 < tries:
                    await asyncio.sleep(self.retry_pause)
                    continue
                message = f"{self.name} answered {method} {path} with {e.code}: {answer_message(e)}"
                raise ServiceError(e.code, message) from None
            except OSError as e:
                if attempt + 1 < tries:
                    await asyncio.sleep(self.retry_pause)
                    continue
                raise ServiceError(0, f"{self.name} does not answer at {urlsplit(url).netloc}: {e}") from None
        raise AssertionError("unreachable")

    async def call(self, method: str, path: str, body=None, allow: tuple[int, ...] = (), timeout: float | None = None):
        """A request to ``path`` under the base URL; ``(status, parsed JSON or None)``."""
        return await self.request(method, self.base_url + path.lstrip("/"), body, allow, timeout)

    async def request(self, method: str, url: str, body=None, allow: tuple[int, ...] = (), timeout=None):
        """A request to the absolute ``url``; ``(status, parsed JSON or None)``."""
        response = await self.fetch(method, url, body, allow, timeout)
        if isinstance(response, _Refused):
            return response.code, None
        try:
            data = json.loads(response.body) if response.body else None
        except ValueError:
            path = urlsplit(url).path
            raise ServiceError(502, f"{self.name} answered {method} {path} with something that is not JSON") from None
        return response.code, data

    async def raw(self, method: str, path: str, body=None) -> bytes:
        """A request to ``path`` whose answer is not JSON (a notebook file, say): its bytes."""
        response = await self.fetch(method, self.base_url + path.lstrip("/"), body)
        return response.body


class _Refused:
    """An expected refusal (a status in ``allow``)."""

    def __init__(self, code: int):
        self.code = code
