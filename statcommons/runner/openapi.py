"""The OpenAPI 3.1 document of the runner API."""

from __future__ import annotations

from ..kit.web import ERROR_SCHEMA
from .api import LIST_PARAMETERS, MAX_PAGE
from .store import STATUSES

_PARAMETERS = {
    "type": "object",
    "description": "papermill parameters: Python names and JSON values, injected after the cell tagged parameters",
    "propertyNames": {"pattern": "^[A-Za-z_][A-Za-z0-9_]*$"},
}
_TARGET = {
    "item": {"type": "string", "description": "the id of a published library notebook"},
    "path": {"type": "string", "description": "a notebook in the caller's home, relative to it (no ..)"},
}
_CELL = {
    "type": ["object", "null"],
    "description": "the cell that failed or was running when the run stopped (index: 0 is the notebook's first cell)",
    "properties": {
        "index": {"type": "integer"},
        "execution_count": {"type": ["integer", "null"]},
        "source": {"type": "string"},
        "error": {"type": "string"},
    },
}
_TIME = {"type": ["string", "null"], "format": "date-time"}
RUN = {
    "type": "object",
    "required": ["id", "user", "status", "started", "duration", "error", "retry_of"],
    "properties": {
        "id": {"type": "integer"},
        "user": {"type": "string"},
        "item": {"type": ["string", "null"]},
        "path": {"type": ["string", "null"]},
        "parameters": _PARAMETERS,
        "status": {"enum": list(STATUSES)},
        "created": _TIME,
        "started": _TIME,
        "finished": _TIME,
        "duration": {"type": ["number", "null"], "description": "seconds from the container's start to its end"},
        "error": {"type": ["string", "null"], "description": "why a run did not succeed"},
        "failing_cell": _CELL,
        "image": {"type": "string"},
        "image_id": {"type": ["string", "null"], "description": "the id (digest) of the image the run used"},
        "time_limit": {"type": "integer", "description": "seconds"},
        "mem_limit": {"type": "integer", "description": "bytes, swap included"},
        "retry_of": {"type": ["integer", "null"], "description": "the interrupted run this one retries"},
        "schedule": {"type": ["integer", "null"]},
        "notebook_url": {"type": ["string", "null"], "description": "the executed notebook, once there is one"},
    },
}
NEW_RUN = {
    "type": "object",
    "additionalProperties": False,
    "description": "give item or path",
    "properties": {
        **_TARGET,
        "parameters": _PARAMETERS,
        "time_limit": {"type": "integer", "minimum": 1, "description": "seconds, at most runner.time_limit"},
        "mem_limit": {"type": "string", "description": "a size from 64M to runner.mem_limit, such as 512M"},
    },
}
SCHEDULE = {
    "type": "object",
    "properties": {
        "id": {"type": "integer"},
        "user": {"type": "string"},
        **{k: {"type": ["string", "null"]} for k in _TARGET},
        "cron": {"type": "string"},
        "parameters": _PARAMETERS,
        "created": _TIME,
        "next_run": _TIME,
        "last_run": {"type": ["integer", "null"]},
    },
}
NEW_SCHEDULE = {
    "type": "object",
    "additionalProperties": False,
    "required": ["cron"],
    "description": "give item or path",
    "properties": {
        **_TARGET,
        "cron": {"type": "string", "description": "five fields: minute hour day month weekday, in UTC"},
        "parameters": _PARAMETERS,
    },
}


def _json(schema: dict) -> dict:
    return {"content": {"application/json": {"schema": schema}}}


def _answers(ok: int, schema: dict | None, *errors: int) -> dict:
    answers = {str(ok): {"description": "done", **(_json(schema) if schema else {})}}
    for status in (401, 403, *errors):
        answers[str(status)] = {"description": "refused", **_json({"$ref": "#/components/schemas/Error"})}
    return answers


def openapi(prefix: str) -> dict:
    """The document, with the service's path prefix as its server."""
    run_ref, schedule_ref = {"$ref": "#/components/schemas/Run"}, {"$ref": "#/components/schemas/Schedule"}
    run_id = {"name": "id", "in": "path", "required": True, "schema": {"type": "integer"}}
    listing = [
        {"name": name, "in": "query", "required": False, "schema": {"type": "string"}} for name in LIST_PARAMETERS
    ]
    runs_page = {
        "type": "object",
        "properties": {
            "runs": {"type": "array", "items": run_ref},
            "total": {"type": "integer"},
            "limit": {"type": "integer", "maximum": MAX_PAGE},
            "offset": {"type": "integer"},
        },
    }
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "StatCommons notebook runner",
            "version": "1",
            "description": "Run notebooks with papermill in fresh containers, now or on cron schedules. "
            "Send a hub token (Authorization: token ...).",
        },
        "servers": [{"url": f"{prefix}api"}],
        "paths": {
            "/runs": {
                "get": {
                    "summary": "runs, newest first: the caller's, every one for curators and admins; "
                    "failing=true gives the library notebooks whose latest run failed or timed out",
                    "parameters": listing,
                    "responses": _answers(200, runs_page, 422),
                },
                "post": {
                    "summary": "start a run now (it waits in the queue when every slot is taken)",
                    "requestBody": {"required": True, **_json(NEW_RUN)},
                    "responses": _answers(201, run_ref, 404, 413, 422, 429),
                },
            },
            "/runs/{id}": {
                "parameters": [run_id],
                "get": {"summary": "one run", "responses": _answers(200, run_ref, 404)},
                "delete": {"summary": "cancel a queued or running run", "responses": _answers(200, run_ref, 404, 409)},
            },
            "/runs/{id}/notebook": {
                "parameters": [run_id],
                "get": {
                    "summary": "the executed notebook",
                    "responses": {
                        "200": {"description": "the notebook", "content": {"application/x-ipynb+json": {}}},
                        **{k: v for k, v in _answers(200, None, 404).items() if k != "200"},
                    },
                },
            },
            "/schedules": {
                "get": {
                    "summary": "the caller's schedules, every one for curators and admins",
                    "responses": _answers(
                        200, {"type": "object", "properties": {"schedules": {"type": "array", "items": schedule_ref}}}
                    ),
                },
                "post": {
                    "summary": "run a notebook on a cron schedule",
                    "requestBody": {"required": True, **_json(NEW_SCHEDULE)},
                    "responses": _answers(201, schedule_ref, 404, 422),
                },
            },
            "/schedules/{id}": {
                "parameters": [run_id],
                "get": {"summary": "one schedule", "responses": _answers(200, schedule_ref, 404)},
                "delete": {"summary": "remove a schedule", "responses": _answers(204, None, 404)},
            },
            "/user": {"get": {"summary": "who is calling, and the limits of a run", "responses": _answers(200, None)}},
        },
        "components": {
            "schemas": {"Error": ERROR_SCHEMA, "Run": RUN, "NewRun": NEW_RUN, "Schedule": SCHEDULE},
            "securitySchemes": {"token": {"type": "apiKey", "in": "header", "name": "Authorization"}},
        },
        "security": [{"token": []}],
    }
