"""A service's OpenAPI 3.1 document, made from its declared endpoints (:mod:`.endpoints`).

The components are the JSON Schemas pydantic makes of the models (bodies as they are validated,
answers as they are written), the schemas declared as JSON Schema, and ``Error``. Each operation
answers what its declaration lists and what follows from the declaration: a 401 unless it is
public, a 403 when it needs a scope, a 422 when it has a query or a JSON body, and a 400 and a
413 with a JSON body.
"""

from __future__ import annotations

import re
from typing import Any

from pydantic import BaseModel, TypeAdapter
from pydantic.json_schema import GenerateJsonSchema, models_json_schema

from .endpoints import ERROR, Api, Content, Endpoint, Schema

REF = "#/components/schemas/{model}"

STANDARD = {
    400: "the body is not JSON",
    401: "not logged in: no hub token (Authorization: token ...) or hub login",
    403: "the caller lacks the permission",
    413: "the body is too large",
    422: "a field or parameter is wrong: errors names each one",
}


class _Schemas(GenerateJsonSchema):
    """Pydantic's JSON Schemas without a title on every property."""

    def field_title_should_be_set(self, schema) -> bool:
        return False


def document(api: Api, prefix: str) -> dict:
    """The document of ``api`` served under ``prefix``."""
    schemas = _Components(api)
    paths: dict[str, dict] = {}
    for endpoint in api.endpoints:
        paths.setdefault(endpoint.path, {})[endpoint.method.lower()] = _operation(api, endpoint, schemas)
    return {
        "openapi": "3.1.0",
        "info": {"title": api.title, "version": api.version, "description": api.description},
        "servers": [{"url": prefix.rstrip("/")}],
        "security": [{"hubToken": []}, {"hubCookie": []}],
        "paths": paths,
        "components": {
            "schemas": dict(sorted(schemas.components.items())),
            "securitySchemes": {
                "hubToken": {
                    "type": "apiKey",
                    "in": "header",
                    "name": "Authorization",
                    "description": "a JupyterHub token: Authorization: token <token>",
                },
                "hubCookie": {
                    "type": "apiKey",
                    "in": "cookie",
                    "name": f"service-{api.service}",
                    "description": "the hub's OAuth login, in a browser",
                },
            },
        },
    }


class _Components:
    """The schemas of every model the endpoints name, made at once (shared parts appear once)."""

    def __init__(self, api: Api):
        declared = list(_declared(api))
        models = sorted({(d, mode) for d, mode in declared if isinstance(d, type)}, key=lambda p: (p[0].__name__, p[1]))
        self.refs, defs = models_json_schema(models, ref_template=REF, schema_generator=_Schemas)
        self.components: dict[str, Any] = _without_null_defaults(defs.get("$defs", {}))
        self.components.update({d.name: d.schema for d, _ in declared if isinstance(d, Schema)})
        self.components[ERROR.name] = ERROR.schema
        #: Query models become parameters, not components.
        queries = {e.query for e in api.endpoints if e.query is not None}
        self.queries = {model: self.components.pop(self.name(model, "validation")) for model in queries}

    def name(self, model: type[BaseModel], mode: str) -> str:
        return self.refs[(model, mode)]["$ref"].rsplit("/", 1)[1]

    def schema(self, declared: Any, mode: str) -> dict:
        """The JSON Schema of a model, a :class:`Schema` (both referred to) or a JSON Schema."""
        if isinstance(declared, type):
            return self.refs[(declared, mode)]
        if isinstance(declared, Schema):
            return {"$ref": REF.format(model=declared.name)}
        return declared

    def content(self, media: dict[str, Any], mode: str) -> dict:
        return {t: {"schema": self.schema(s, mode)} if s is not None else {} for t, s in media.items()}


def _declared(api: Api):
    """(model, Schema, JSON Schema or None; mode) of every query, body and answer the endpoints declare."""
    for endpoint in api.endpoints:
        answers = [*endpoint.responses.values(), *api.extra_responses(endpoint).values()]
        pairs = [(endpoint.query, "validation"), (endpoint.body, "validation")]
        pairs += [(answer, "serialization") for answer in answers]
        for declared, mode in pairs:
            for part in declared.media.values() if isinstance(declared, Content) else [declared]:
                yield part, mode


def _operation(api: Api, endpoint: Endpoint, schemas: _Components) -> dict:
    operation: dict[str, Any] = {"operationId": endpoint.operation_id, "summary": endpoint.summary}
    if endpoint.scope:
        operation["description"] = f"Needs the hub scope {endpoint.scope}."
    if endpoint.public:
        operation["security"] = []
    parameters = [_path_parameter(endpoint, name) for name in re.findall(r"\{(\w+)\}", endpoint.path)]
    parameters += [{"name": name, "in": "header", "required": False, **h} for name, h in endpoint.headers.items()]
    if endpoint.query is not None:
        parameters += _query_parameters(endpoint.query, schemas)
    if parameters:
        operation["parameters"] = parameters
    if endpoint.body is not None:
        if isinstance(endpoint.body, Content):
            content = schemas.content(endpoint.body.media, "validation")
        else:
            content = {"application/json": {"schema": schemas.schema(endpoint.body, "validation")}}
        operation["requestBody"] = {"required": endpoint.body_required, "content": content}
    answers = {**_standard(endpoint), **api.extra_responses(endpoint), **endpoint.responses}
    operation["responses"] = {str(s): _answer(s, answers[s], schemas) for s in sorted(answers)}
    return operation


def _standard(endpoint: Endpoint) -> dict[int, str]:
    statuses = [] if endpoint.public else [401]
    if endpoint.scope:
        statuses.append(403)
    if endpoint.json_body:
        statuses += [400, 413]
    if endpoint.query is not None or endpoint.json_body:
        statuses.append(422)
    return {status: STANDARD[status] for status in statuses}


def _answer(status: int, answer: Any, schemas: _Components) -> dict:
    if isinstance(answer, str):
        if status < 400:
            return {"description": answer}
        answer = Content(answer, {"application/json": ERROR})
    elif not isinstance(answer, Content):
        doc = (answer.__doc__ or "").strip().splitlines() if isinstance(answer, type) else []
        answer = Content(doc[0] if doc else answer.name, {"application/json": answer})
    described = {"description": answer.description, "content": schemas.content(answer.media, "serialization")}
    if answer.headers:
        described["headers"] = answer.headers
    return described


def _path_parameter(endpoint: Endpoint, name: str) -> dict:
    declared = endpoint.parameters.get(name, {"type": "string"})
    schema = declared if isinstance(declared, dict) else TypeAdapter(declared).json_schema()
    return {"name": name, "in": "path", "required": True, "schema": schema}


def _query_parameters(model: type[BaseModel], schemas: _Components) -> list[dict]:
    schema = schemas.queries[model]
    required = set(schema.get("required", ()))
    parameters = []
    for name, field in schema["properties"].items():
        field = dict(field)
        parameter = {"name": name, "in": "query", "required": name in required, "schema": field}
        if "description" in field:
            parameter["description"] = field.pop("description")
        if field.get("type") == "array":
            parameter.update(style="form", explode=True)
        parameters.append(parameter)
    return parameters


def _without_null_defaults(schema: Any) -> Any:
    """A JSON Schema without ``"default": null``: a field left out is unset, whatever its type."""
    if isinstance(schema, dict):
        return {k: _without_null_defaults(v) for k, v in schema.items() if not (k == "default" and v is None)}
    if isinstance(schema, list):
        return [_without_null_defaults(v) for v in schema]
    return schema
