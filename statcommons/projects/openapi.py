"""The OpenAPI 3.1 document of the projects API."""

from __future__ import annotations

from ..kit.web import ERROR_SCHEMA
from ..platform import names
from .core import MAX_DESCRIPTION, MAX_TITLE, ROLES

_NAME = {
    "type": "string",
    "pattern": names.NAME_PATTERN,
    "maxLength": names.MAX_NAME_LENGTH,
    "description": "lowercase letters, digits and inner hyphens (a DNS label)",
}
_TIME = {"type": "string", "format": "date-time"}
PROJECT = {
    "type": "object",
    "required": ["name", "title", "description", "owners", "members", "role"],
    "properties": {
        "name": _NAME,
        "title": {"type": "string", "maxLength": MAX_TITLE},
        "description": {"type": "string", "maxLength": MAX_DESCRIPTION},
        "created": _TIME,
        "created_by": {"type": "string"},
        "owners": {"type": "array", "items": {"type": "string"}},
        "members": {
            "type": "array",
            "description": "everyone in the project, owners included, each with their role",
            "items": {
                "type": "object",
                "properties": {"name": {"type": "string"}, "role": {"enum": list(ROLES)}},
            },
        },
        "role": {"enum": [*ROLES, None], "description": "the caller's role (null: an admin who is not a member)"},
        "folder": {"type": "string", "description": "where members find the files: ~/projects/<name>"},
    },
}
NEW_PROJECT = {
    "type": "object",
    "additionalProperties": False,
    "required": ["name"],
    "properties": {
        "name": _NAME,
        "title": {"type": "string", "minLength": 1, "maxLength": MAX_TITLE, "description": "default: the name"},
        "description": {"type": "string", "maxLength": MAX_DESCRIPTION},
    },
}
CHANGE = {
    "type": "object",
    "additionalProperties": False,
    "properties": {k: v for k, v in NEW_PROJECT["properties"].items() if k != "name"},
}
ROLE = {
    "type": "object",
    "additionalProperties": False,
    "properties": {"role": {"enum": list(ROLES), "default": "member"}},
}
SERVER = {
    "type": "object",
    "required": ["running", "url"],
    "properties": {
        "running": {"type": "boolean"},
        "url": {"type": "string", "description": "the server's URL path, e.g. /user/<name>-collab/"},
    },
}


def _json(schema: dict) -> dict:
    return {"content": {"application/json": {"schema": schema}}}


def _errors(*codes: int) -> dict:
    texts = {
        400: "not JSON",
        401: "no hub token or session",
        403: "not allowed: not an owner, or not allowed to use or create projects",
        404: "no such project among the caller's (non-members get 404 too), or no such user",
        409: "a conflict: name taken, the last owner, the folder still mounted, the limit of projects",
        413: "body too large",
        422: "a field is wrong: the message and errors name it",
        503: "the hub, the engine or the project servers are not available",
    }
    return {str(c): {"description": texts[c], **_json({"$ref": "#/components/schemas/Error"})} for c in codes}


def openapi(prefix: str) -> dict:
    project = {"$ref": "#/components/schemas/Project"}
    name = {"name": "name", "in": "path", "required": True, "schema": _NAME}
    user = {"name": "user", "in": "path", "required": True, "schema": {"type": "string"}}
    common = (401, 403, 404, 503)
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "StatCommons projects",
            "version": "1",
            "description": "Project spaces: members, shared folders (~/projects/<name>) and collaboration servers. "
            "Send a hub token (Authorization: token ...). A project the caller is not a member of answers 404.",
        },
        "servers": [{"url": f"{prefix}api"}],
        "components": {
            "schemas": {"Project": PROJECT, "Error": ERROR_SCHEMA},
            "securitySchemes": {"token": {"type": "apiKey", "in": "header", "name": "Authorization"}},
        },
        "security": [{"token": []}],
        "paths": {
            "/projects": {
                "get": {
                    "summary": "The caller's projects (every project for admins)",
                    "responses": {
                        "200": {
                            "description": "projects by name",
                            **_json(
                                {"type": "object", "properties": {"projects": {"type": "array", "items": project}}}
                            ),
                        },
                        **_errors(401, 403, 503),
                    },
                },
                "post": {
                    "summary": "Create a project; the caller owns it",
                    "requestBody": {"required": True, **_json(NEW_PROJECT)},
                    "responses": {
                        "201": {"description": "created", **_json(project)},
                        **_errors(400, 409, 413, 422, *common),
                    },
                },
            },
            "/projects/{name}": {
                "parameters": [name],
                "get": {
                    "summary": "One project",
                    "responses": {"200": {"description": "the project", **_json(project)}, **_errors(*common)},
                },
                "patch": {
                    "summary": "Change the title or description (owners)",
                    "requestBody": {"required": True, **_json(CHANGE)},
                    "responses": {
                        "200": {"description": "changed", **_json(project)},
                        **_errors(400, 413, 422, *common),
                    },
                },
                "delete": {
                    "summary": "Archive the files, then remove the project (owners)",
                    "responses": {
                        "200": {
                            "description": "deleted; the archive's file name",
                            **_json(
                                {
                                    "type": "object",
                                    "properties": {"name": _NAME, "archive": {"type": ["string", "null"]}},
                                }
                            ),
                        },
                        **_errors(409, *common),
                    },
                },
            },
            "/projects/{name}/members/{user}": {
                "parameters": [name, user],
                "put": {
                    "summary": "Add a member, or change a member's role (owners)",
                    "requestBody": {"required": False, **_json(ROLE)},
                    "responses": {
                        "200": {"description": "the project", **_json(project)},
                        **_errors(400, 409, 413, 422, *common),
                    },
                },
                "delete": {
                    "summary": "Remove a member (owners), or leave (the member)",
                    "responses": {"204": {"description": "removed"}, **_errors(409, *common)},
                },
            },
            "/projects/{name}/server": {
                "parameters": [name],
                "get": {
                    "summary": "The collaboration server's state",
                    "responses": {"200": {"description": "state", **_json(SERVER)}, **_errors(*common)},
                },
                "post": {
                    "summary": "Start the collaboration server (members)",
                    "responses": {"200": {"description": "running", **_json(SERVER)}, **_errors(409, *common)},
                },
                "delete": {
                    "summary": "Stop the collaboration server (members)",
                    "responses": {"204": {"description": "stopped"}, **_errors(*common)},
                },
            },
            "/user": {
                "get": {
                    "summary": "Who the caller is, what they may do, and their notices",
                    "responses": {"200": {"description": "the caller"}, **_errors(401)},
                },
            },
            "/notices/{id}": {
                "parameters": [
                    {"name": "id", "in": "path", "required": True, "schema": {"type": "string", "pattern": "^[0-9]+$"}}
                ],
                "delete": {
                    "summary": "Dismiss one of the caller's notices (a server restarted without a project, say)",
                    "responses": {"204": {"description": "dismissed"}, **_errors(401, 404)},
                },
            },
        },
    }
