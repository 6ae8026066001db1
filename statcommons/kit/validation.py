"""Requests checked against their endpoint's models, and refused in the services' own words.

A handler reads its query with :func:`read_query` and its JSON body with :func:`read_body`, at
the point where it has checked who calls (a caller without the scope gets a 403 before a 422).
Both check the request against the models its declaration names (:mod:`.endpoints`) and answer
a 422 listing each problem as ``{"path", "message"}``: ``path`` names the field as a client
writes it (``links[0].url``, ``parameters.x``), ``message`` says what is allowed.

Models are :class:`Body` (JSON types taken as they are: ``"1"`` is no number) or :class:`Query`
(text, read by the field's type: :data:`Flag`, :func:`whole_number`). A validator refuses with
:func:`problem`, in its own words and, if need be, at a path of its own.
"""

from __future__ import annotations

import re
import typing
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError
from pydantic_core import PydanticCustomError

from .web import ApiError


class Body(BaseModel):
    """A JSON body: unknown fields are refused, and values must have the JSON type declared."""

    model_config = ConfigDict(extra="forbid", strict=True)


class Query(BaseModel):
    """Query parameters: unknown ones are refused; each value is text, read by the field's type."""

    model_config = ConfigDict(extra="forbid")


def problem(message: str, at: str | None = None) -> PydanticCustomError:
    """A validator's refusal: ``message`` as it is, at the field (or at ``at`` below it)."""
    return PydanticCustomError("problem", "{message}", {"message": message, "at": at})


def _flag(value: Any) -> Any:
    text = value.lower() if isinstance(value, str) else value
    if text in ("true", "1"):
        return True
    if text in ("false", "0"):
        return False
    raise problem(f"{value!r} is not allowed: use true or false")


#: A query parameter that is true or false (also 1 or 0).
Flag = Annotated[bool, BeforeValidator(_flag)]


def whole_number(at_least: int = 0, digits: int = 9) -> Any:
    """The type of a query parameter holding a whole number, at least ``at_least``, of ``digits`` digits at most."""

    def parse(value: Any) -> int:
        if isinstance(value, str) and re.fullmatch(rf"[0-9]{{1,{digits}}}", value) and int(value) >= at_least:
            return int(value)
        raise problem(f"{value!r} is not allowed: expected a whole number, at least {at_least}")

    return Annotated[int, Field(ge=at_least, le=10**digits - 1), BeforeValidator(parse)]


def read_query(handler) -> Any:
    """The request's query parameters as the endpoint's query model; a 422 naming each one that is wrong."""
    model = handler.endpoints[handler.request.method].query
    lists = {name for name, info in model.model_fields.items() if typing.get_origin(info.annotation) is list}
    values: dict[str, Any] = {}
    for name in handler.request.arguments:
        given = handler.get_arguments(name)
        values[name] = [v for v in given if v] if name in lists else given[-1]
    try:
        return model.model_validate(values)
    except ValidationError as e:
        raise _refusal(e, model, "parameter") from None


def read_body(handler, **context: Any) -> Any:
    """The request's JSON body as the endpoint's body model (a dict for a :class:`~.endpoints.Schema`).

    400 when it is not JSON, 413 when it is too large, 422 naming each field that is wrong.
    ``context`` goes to the model's validators (the limits of the moment, say).
    """
    endpoint = handler.endpoints[handler.request.method]
    data = handler.json_body() if endpoint.body_required or handler._received else {}
    return validate(endpoint.body, data, **context) if isinstance(endpoint.body, type) else data


def validate(model: type[BaseModel], data: Any, **context: Any) -> Any:
    """``data`` as a ``model``, or the 422 that names each field that is wrong."""
    try:
        return model.model_validate(data, context=context)
    except ValidationError as e:
        raise _refusal(e, model, "field") from None


def _refusal(error: ValidationError, model: type[BaseModel], kind: str) -> ApiError:
    found = sorted(error.errors(), key=lambda e: e["type"] != "extra_forbidden")
    allowed = [info.alias or name for name, info in model.model_fields.items()]
    errors = [{"path": _path(e, kind), "message": _wording(e, kind, allowed)} for e in found]
    first = errors[0]
    if kind == "parameter" and found[0]["type"] == "extra_forbidden":
        message = f"unknown parameter {first['path']!r}"
    else:
        message = f"{first['path']}: {first['message']}" if first["path"] else first["message"]
    if len(errors) > 1:
        message += f" (and {len(errors) - 1} more: see errors)"
    return ApiError(422, message, errors)


def _path(error: dict, kind: str) -> str:
    """``links[0].url``; a query parameter given several times is named once (``status``)."""
    loc = list(error["loc"][:1] if kind == "parameter" else error["loc"])
    at = (error.get("ctx") or {}).get("at")
    if at:
        loc.append(at)
    path = ""
    for part in loc:
        path += f"[{part}]" if isinstance(part, int) else f".{part}" if path else str(part)
    return path


_TYPES = {
    "string_type": "a string",
    "int_type": "a whole number",
    "int_parsing": "a whole number",
    "int_from_float": "a whole number",
    "float_type": "a number",
    "bool_type": "true or false",
    "dict_type": "an object",
    "model_type": "an object",
    "list_type": "a list",
}
_BOUNDS = {"greater_than_equal": "at least {ge}", "less_than_equal": "at most {le}"}
_BOUNDS |= {"greater_than": "more than {gt}", "less_than": "less than {lt}"}


def _wording(error: dict, kind: str, allowed: list[str]) -> str:
    """What is wrong, for people: the value, and what is allowed instead."""
    ctx, value = error.get("ctx") or {}, error.get("input")
    shown = repr(value) if len(repr(value)) <= 80 else repr(value)[:77] + "..."
    match error["type"]:
        case "problem":
            return ctx["message"]
        case "missing":
            return "missing: required"
        case "extra_forbidden":
            return f"unknown {kind}: allowed {kind}s are {', '.join(allowed)}"
        case "literal_error" | "enum":
            name = next((p for p in reversed(error["loc"]) if isinstance(p, str)), "value")
            return f"{shown} is not a {name}: use {ctx['expected'].replace(chr(39), '')}"
        case "string_too_long" | "too_long":
            unit = "characters" if error["type"].startswith("string") else "values"
            return f"{len(value)} {unit}: at most {ctx['max_length']} are allowed"
        case "string_too_short" | "too_short":
            unit = "characters" if error["type"].startswith("string") else "values"
            return f"{len(value)} {unit}: at least {ctx['min_length']} are required"
        case "string_pattern_mismatch":
            return f"{shown} is not allowed: it must match {ctx['pattern']}"
        case kind_ if kind_ in _TYPES:
            return f"expected {_TYPES[kind_]}, not {shown}"
        case kind_ if kind_ in _BOUNDS:
            return f"{shown} is not allowed: {_BOUNDS[kind_].format(**ctx)}"
    return error["msg"]
