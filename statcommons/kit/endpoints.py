"""Each endpoint of a service declared once, on the handler method that answers it.

A service makes one :class:`Api` and declares each method of its handlers with it::

    API = Api("runner", title="StatCommons notebook runner", description="...")

    class RunHandler(BaseHandler):
        @API.get("/runs/{id}", "one run", scope=RUN, responses={200: Run, 404: "no run of yours"})
        def get(self, run_id): ...

The declaration is all there is to say about the endpoint: it routes the path to the handler's
class (:meth:`Api.routes`), it holds the models that :func:`~.validation.read_query` and
:func:`~.validation.read_body` check the request with, and it describes the operation in the
service's OpenAPI document (:func:`.openapi.document`). Models are pydantic models; a body or an
answer that has a JSON Schema of its own (the library's item schema) is a :class:`Schema`, and
one that is not JSON (a notebook file, a video) is :class:`Content`.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from jupyterhub.utils import url_path_join
from pydantic import BaseModel

from .web import ERROR_SCHEMA, JsonApiHandler

METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE")


@dataclass(frozen=True)
class Schema:
    """A component of the document given as JSON Schema rather than as a model."""

    name: str
    schema: dict


@dataclass(frozen=True)
class Content:
    """A body by media type: each a model, a :class:`Schema`, a JSON Schema, or None (any)."""

    description: str
    media: dict[str, Any]
    headers: dict[str, dict] = field(default_factory=dict)


#: The errors' body: ``{"status", "message", "errors": [{"path", "message"}]}``.
ERROR = Schema("Error", ERROR_SCHEMA)

#: What an answer is declared as: a model or Schema (JSON), Content, or a description: of an
#: error (status 400 and above, answered as :data:`ERROR`) or of an answer without a body.
Answer = type[BaseModel] | Schema | Content | str


@dataclass
class Endpoint:
    """One operation: ``method`` on ``path`` (under the API's root, ``{name}`` for a path parameter)."""

    method: str
    path: str
    summary: str
    operation_id: str
    responses: dict[int, Answer]
    #: The hub scope the caller needs (None: any logged-in caller); public ones need no login.
    scope: str | None = None
    public: bool = False
    query: type[BaseModel] | None = None
    body: type[BaseModel] | Schema | Content | None = None
    body_required: bool = True
    #: Types (or JSON Schemas) of the path parameters, for the document; strings by default.
    parameters: dict[str, Any] = field(default_factory=dict)
    #: Request headers the endpoint reads (``Range``), for the document: each one's ``schema`` and ``description``.
    headers: dict[str, dict] = field(default_factory=dict)
    handler: type | None = None

    @property
    def route(self) -> str:
        """The tornado pattern of the path, relative to the service's prefix: ``api/runs/([^/]+)``."""
        parts = re.split(r"(\{[^}]+\})", self.path.lstrip("/"))
        return "".join("([^/]+)" if part.startswith("{") else re.escape(part) for part in parts)

    @property
    def json_body(self) -> bool:
        return self.body is not None and not isinstance(self.body, Content)


class Api:
    """The endpoints of one service, and the OpenAPI document they make."""

    def __init__(
        self,
        service: str,
        *,
        title: str,
        description: str,
        version: str = "1",
        root: str = "/api",
        extra_responses: Callable[[Endpoint], dict[int, Answer]] | None = None,
    ):
        self.service = service
        self.title = title
        self.description = description
        self.version = version
        self.root = root
        #: Answers some endpoints give besides their own (the library's 503 while it starts).
        self.extra_responses = extra_responses or (lambda endpoint: {})
        self.endpoints: list[Endpoint] = []
        document = Content("this document", {"application/json": {"type": "object"}})
        self._add(Endpoint("GET", "/openapi.json", "The OpenAPI document of this API", "getOpenAPI",
                           {200: document}, public=True, handler=OpenAPIHandler))  # fmt: skip

    def endpoint(
        self,
        method: str,
        path: str,
        summary: str,
        *,
        responses: dict[int, Answer],
        operation_id: str | None = None,
        **details: Any,
    ) -> Callable[[Callable], Any]:
        """Declare the handler method below it as ``method path``; ``details`` are :class:`Endpoint`'s fields."""

        def declare(function: Callable) -> _Declared:
            owner, _, name = function.__qualname__.rpartition(".")
            assert name == method.lower(), f"{function.__qualname__} cannot answer {method}"
            named = operation_id or method.lower() + owner.split(".")[-1].removesuffix("Handler")
            endpoint = Endpoint(method, path, summary, named, responses, **details)
            self._add(endpoint)
            return _Declared(endpoint, function)

        return declare

    def get(self, path: str, summary: str, **kwargs: Any):
        return self.endpoint("GET", path, summary, **kwargs)

    def head(self, path: str, summary: str, **kwargs: Any):
        return self.endpoint("HEAD", path, summary, **kwargs)

    def post(self, path: str, summary: str, **kwargs: Any):
        return self.endpoint("POST", path, summary, **kwargs)

    def put(self, path: str, summary: str, **kwargs: Any):
        return self.endpoint("PUT", path, summary, **kwargs)

    def patch(self, path: str, summary: str, **kwargs: Any):
        return self.endpoint("PATCH", path, summary, **kwargs)

    def delete(self, path: str, summary: str, **kwargs: Any):
        return self.endpoint("DELETE", path, summary, **kwargs)

    def _add(self, endpoint: Endpoint) -> None:
        endpoint.path = self.root + endpoint.path
        taken = [e for e in self.endpoints if (e.method, e.path) == (endpoint.method, endpoint.path)]
        assert not taken, f"{endpoint.method} {endpoint.path} is declared twice"
        self.endpoints.append(endpoint)

    def find(self, method: str, path: str) -> Endpoint | None:
        """The endpoint answering ``method path`` (relative to the prefix: ``api/runs/7``), if any."""
        for endpoint in self.endpoints:
            if endpoint.method == method and re.fullmatch(endpoint.route, path):
                return endpoint
        return None

    def routes(self, prefix: str) -> list[tuple[str, type]]:
        """The tornado routes of the declared endpoints, one per path, under ``prefix``."""
        handlers: dict[str, type] = {}
        for endpoint in self.endpoints:
            assert endpoint.handler is not None, f"{endpoint.method} {endpoint.path} has no handler class"
            other = handlers.setdefault(endpoint.route, endpoint.handler)
            assert other is endpoint.handler, f"{endpoint.path} is answered by {other} and {endpoint.handler}"
        return [(url_path_join(prefix, route), handler) for route, handler in handlers.items()]


class _Declared:
    """A declared handler method until its class is made: then the class knows its endpoints."""

    def __init__(self, endpoint: Endpoint, function: Callable):
        self.endpoint = endpoint
        self.function = function

    def __set_name__(self, owner: type, name: str) -> None:
        self.endpoint.handler = owner
        if "endpoints" not in owner.__dict__:
            owner.endpoints = {}
        owner.endpoints[self.endpoint.method] = self.endpoint
        setattr(owner, name, self.function)


class OpenAPIHandler(JsonApiHandler):
    """``GET api/openapi.json``: readable without logging in, like the description of any public API."""

    def get(self) -> None:
        self.write_json(self.settings["openapi"])
