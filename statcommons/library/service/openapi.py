"""The OpenAPI 3.1 document of the library API, built from the item JSON Schema.

OpenAPI 3.1 uses JSON Schema 2020-12, so the item schema of
:mod:`~statcommons.library.schema` is embedded as it is: clients and the service
validate with the same rules. Items as returned carry the service's fields too, among
them ``revision``, which a review must name.

Every operation about items may answer 503 with Retry-After while the service starts and
loads its curated items (:class:`~.app.WarmUp`); ``GET /api/status`` says how far it is.
"""

from __future__ import annotations

import copy

from ...kit.web import ERROR_SCHEMA
from .. import schema
from ..store import FACETS, MAX_PAGE, SORTS
from .api import RETRY_AFTER, SERVICE_FIELDS, SUBMITTABLE_STATUSES

_REVISION = {
    "type": "integer",
    "minimum": 1,
    "description": "1 when the item is added, one more at each change of its fields, notebook or video file; "
    "a review names the revision it judges",
}
_RATING = {
    "type": "object",
    "required": ["average", "count"],
    "properties": {"average": {"type": ["number", "null"]}, "count": {"type": "integer", "minimum": 0}},
}


def _item_schemas() -> dict:
    """``Item`` (as the service returns it), ``Submission`` (POST) and ``Changes`` (PATCH)."""
    base = {k: v for k, v in copy.deepcopy(schema.SCHEMA).items() if k not in ("$schema", "$id", "version")}
    submission = copy.deepcopy(base)
    for field in SERVICE_FIELDS:
        submission["properties"].pop(field, None)
    submission["properties"]["status"] = {"enum": list(SUBMITTABLE_STATUSES), "default": "submitted"}
    submission["properties"]["notebook_content"] = {
        "type": "object",
        "description": "the .ipynb JSON of a notebook sent with the submission (type notebook only)",
    }
    submission["required"] = ["type", "title", "summary"]
    submission["description"] = "an item to submit: the service assigns id, submitter, created and updated"
    changes = {
        "type": "object",
        "description": "fields to change (null removes one); status may go to draft or submitted. A change of "
        "a field or of the notebook makes a new revision, and a rejected item goes back to submitted",
        "properties": {
            k: ({"oneOf": [v, {"type": "null"}]} if k not in ("type", "title", "summary") else v)
            for k, v in submission["properties"].items()
        },
        "additionalProperties": False,
    }
    returned = {
        "type": "object",
        "required": ["id", "type", "title", "summary", "status", "revision", "rating"],
        "properties": {
            **{k: {"type": v["type"]} if "type" in v else {} for k, v in base["properties"].items()},
            "id": {"type": "string"},
            "type": {"enum": list(schema.TYPES)},
            "status": {"enum": list(schema.STATUSES)},
            "revision": _REVISION,
            "rating": _RATING,
            "submitter": {"type": ["string", "null"]},
            "status_reason": {"type": "string"},
            "maintained_in": {"type": ["string", "null"], "description": "the curated file of the item, if any"},
            "nbgitpuller_url": {"type": "string"},
            "notebook_url": {"type": "string"},
            "video_file_url": {"type": "string", "description": "where the stored video file plays, once uploaded"},
            "last_run": {"oneOf": [base["properties"]["last_run"], {"type": "null"}]},
            "highlight": {
                "type": "object",
                "properties": {"title": {"type": "string"}, "summary": {"type": "string"}},
                "description": "HTML-escaped text whose only markup is <mark> around the words found",
            },
        },
    }
    return {"Item": returned, "Submission": submission, "Changes": changes}


def _errors(*codes: int) -> dict:
    text = {
        400: "the body is not JSON",
        401: "no credentials: log in through the hub or send a hub token",
        403: "the caller lacks the permission",
        404: "no such item, or one the caller may not see",
        409: "the item's state does not allow it",
        413: "the body is too large",
        415: "the body's Content-Type is not the one the item's file needs",
        416: "the range is outside the file",
        422: "a field is wrong: errors names each one",
        503: "the service is starting and has not loaded its curated items yet: try again after Retry-After",
    }
    responses = {
        str(c): {
            "description": text[c],
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
        }
        for c in codes
    }
    if 503 in codes:
        responses["503"]["headers"] = {
            "Retry-After": {"schema": {"type": "integer"}, "description": f"seconds to wait: {RETRY_AFTER}"}
        }
    return responses


def _json(ref: str, description: str) -> dict:
    return {"description": description, "content": {"application/json": {"schema": {"$ref": ref}}}}


def _body(ref: str) -> dict:
    return {"required": True, "content": {"application/json": {"schema": {"$ref": ref}}}}


def _object(properties: dict, required: list[str]) -> dict:
    return {"type": "object", "properties": properties, "required": required, "additionalProperties": False}


# What the service answers before its curated items are loaded; every other operation may answer 503 then.
_ANSWERED_WHILE_LOADING = {"getSchema", "getVocabularies", "getUser", "getStatus"}
_ITEM_ID = {"name": "item_id", "in": "path", "required": True, "schema": {"type": "string", "minLength": 1}}
_ARRAY = {"type": "array", "items": {"type": "string"}}


def openapi(prefix: str = "/services/library/", version: str = "1") -> dict:
    """The OpenAPI document, with the server at ``prefix`` (the service's URL path)."""
    list_parameters = [
        {"name": "q", "in": "query", "schema": {"type": "string"}, "description": "words, each matched as a prefix"},
        *[
            {"name": f, "in": "query", "schema": _ARRAY, "style": "form", "explode": True,
             "description": f"filter by {f} (any of the values); gsbpm=5 matches all of phase 5"}
            for f in FACETS
        ],
        {"name": "status", "in": "query", "style": "form", "explode": True,
         "schema": {"type": "array", "items": {"enum": list(schema.STATUSES)}},
         "description": "published by default; unpublished items show to their submitter and curators"},
        {"name": "mine", "in": "query", "schema": {"type": "boolean"}, "description": "only the caller's items"},
        {"name": "facets", "in": "query", "schema": {"type": "boolean"},
         "description": "false leaves out the facet counts (faster); true by default"},
        {"name": "sort", "in": "query", "schema": {"enum": list(SORTS)}},
        {"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1},
         "description": f"page size, capped at {MAX_PAGE}"},
        {"name": "offset", "in": "query", "schema": {"type": "integer", "minimum": 0}},
    ]  # fmt: skip
    search_result = _object(
        {
            "items": {"type": "array", "items": {"$ref": "#/components/schemas/Item"}},
            "total": {"type": "integer", "minimum": 0},
            "facets": {
                "type": "object",
                "properties": {f: {"type": "object", "additionalProperties": {"type": "integer"}} for f in FACETS},
            },
            "limit": {"type": "integer"},
            "offset": {"type": "integer"},
            "index": {
                "enum": ["ready", "warming"],
                "description": "warming: the service is building its in-memory search index, and the database's "
                "full-text search answered (same matches; the service says ready when the index answers)",
            },
        },
        ["items", "total", "facets"],
    )
    status = _object(
        {
            "index": {
                "enum": ["loading", "warming", "ready"],
                "description": "loading: the curated items are being loaded into the database (requests about "
                "items wait, then get a 503); warming: the in-memory search index is being built (searches are "
                "answered by the database meanwhile); ready",
            },
            "search": {"enum": ["memory", "database"], "description": "the library.search setting"},
            "items": {
                "type": ["integer", "null"],
                "minimum": 0,
                "description": "published items in the in-memory index once it is ready; null before, and in "
                "database mode",
            },
        },
        ["index", "search", "items"],
    )
    comment = _object(
        {
            "id": {"type": "integer"},
            "author": {"type": "string"},
            "text": {"type": "string", "description": "Markdown as written"},
            "html": {"type": "string", "description": "the Markdown rendered and sanitised"},
            "hidden": {"type": "boolean"},
            "created": {"type": "string"},
        },
        ["id", "author", "text", "html", "hidden", "created"],
    )
    paths = {
        "/api/items": {
            "get": {
                "summary": "Search the catalogue",
                "operationId": "searchItems",
                "parameters": list_parameters,
                "responses": {
                    "200": _json("#/components/schemas/SearchResult", "a page of items"),
                    **_errors(401, 403, 422),
                },
            },
            "post": {
                "summary": "Submit an item (or save a draft)",
                "operationId": "submitItem",
                "requestBody": _body("#/components/schemas/Submission"),
                "responses": {
                    "201": _json("#/components/schemas/Item", "the item as stored"),
                    **_errors(400, 401, 403, 413, 422),
                },
            },
        },
        "/api/items/{item_id}": {
            "parameters": [_ITEM_ID],
            "get": {
                "summary": "One item",
                "operationId": "getItem",
                "responses": {"200": _json("#/components/schemas/Item", "the item"), **_errors(401, 403, 404)},
            },
            "patch": {
                "summary": "Change an item (its submitter while unpublished, or a curator)",
                "operationId": "changeItem",
                "requestBody": _body("#/components/schemas/Changes"),
                "responses": {
                    "200": _json("#/components/schemas/Item", "the changed item"),
                    **_errors(400, 401, 403, 404, 409, 413, 422),
                },
            },
        },
        "/api/items/{item_id}/review": {
            "parameters": [_ITEM_ID],
            "post": {
                "summary": "Publish, reject (with a reason) or retire the revision of an item a curator read",
                "operationId": "reviewItem",
                "requestBody": _body("#/components/schemas/Review"),
                "responses": {
                    "200": _json("#/components/schemas/Item", "the reviewed item"),
                    **_errors(400, 401, 403, 404, 409, 413, 422),
                    "409": {
                        "description": "the item changed since the revision named (read it again), or its status "
                        "does not allow the decision; nothing was changed",
                        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
                    },
                },
            },
        },
        "/api/items/{item_id}/rating": {
            "parameters": [_ITEM_ID],
            "put": {
                "summary": "Rate a published item from 1 to 5 stars (a new rating replaces the caller's)",
                "operationId": "rateItem",
                "requestBody": _body("#/components/schemas/Stars"),
                "responses": {
                    "200": _json("#/components/schemas/Rating", "the item's rating"),
                    **_errors(400, 401, 403, 404, 409, 413, 422),
                },
            },
        },
        "/api/items/{item_id}/comments": {
            "parameters": [_ITEM_ID],
            "get": {
                "summary": "Comments on an item, oldest first (curators also get hidden ones)",
                "operationId": "listComments",
                "responses": {
                    "200": _json("#/components/schemas/Comments", "the comments"),
                    **_errors(401, 403, 404),
                },
            },
            "post": {
                "summary": "Comment on an item (Markdown)",
                "operationId": "addComment",
                "requestBody": _body("#/components/schemas/NewComment"),
                "responses": {
                    "201": _json("#/components/schemas/Comment", "the comment"),
                    **_errors(400, 401, 403, 404, 413, 422),
                },
            },
        },
        "/api/items/{item_id}/comments/{comment_id}": {
            "parameters": [_ITEM_ID, {**_ITEM_ID, "name": "comment_id"}],
            "patch": {
                "summary": "Hide or show a comment: curators",
                "operationId": "hideComment",
                "requestBody": _body("#/components/schemas/Hidden"),
                "responses": {
                    "200": _json("#/components/schemas/Comment", "the comment"),
                    **_errors(400, 401, 403, 404, 413, 422),
                },
            },
        },
        "/api/items/{item_id}/notebook": {
            "parameters": [_ITEM_ID],
            "get": {
                "summary": "The notebook file a submission carried",
                "operationId": "getNotebook",
                "responses": {
                    "200": {
                        "description": "the .ipynb file",
                        "content": {"application/x-ipynb+json": {"schema": {"type": "object"}}},
                    },  # noqa: E501
                    **_errors(401, 403, 404),
                },
            },
        },
        "/api/items/{item_id}/video": {
            "parameters": [_ITEM_ID],
            "get": {
                "summary": "Play the video file the library stores for a video item (HTTP range requests)",
                "operationId": "getVideo",
                "parameters": [
                    {
                        "name": "Range",
                        "in": "header",
                        "required": False,
                        "schema": {"type": "string", "pattern": "^bytes=[0-9]*-[0-9]*$"},
                        "description": "one byte range, such as bytes=0-1023 (206), or none for the whole file",
                    }
                ],
                "responses": {
                    "200": {"description": "the whole video file", "content": {"video/*": {}}},
                    "206": {"description": "the requested bytes of the video file", "content": {"video/*": {}}},
                    **_errors(401, 403, 404, 416),
                },
            },
            "put": {
                "summary": "Upload the video file named by the item's video.file (a new revision): its submitter "
                "or a curator",
                "operationId": "putVideo",
                "requestBody": {
                    "required": True,
                    "content": {
                        "video/mp4": {"schema": {"type": "string", "format": "binary"}},
                        "video/webm": {"schema": {"type": "string", "format": "binary"}},
                        "video/ogg": {"schema": {"type": "string", "format": "binary"}},
                    },
                },
                "responses": {
                    "200": _json("#/components/schemas/VideoFile", "the stored file"),
                    **_errors(401, 403, 404, 409, 413, 415, 422),
                },
            },
        },
        "/api/items/{item_id}/last-run": {
            "parameters": [_ITEM_ID],
            "put": {
                "summary": "Record the latest run of a notebook item: the runner",
                "operationId": "recordRun",
                "requestBody": _body("#/components/schemas/LastRun"),
                "responses": {
                    "200": _json("#/components/schemas/Item", "the item"),
                    **_errors(400, 401, 403, 404, 409, 413, 422),
                },
            },
        },
        "/api/failing": {
            "get": {
                "summary": "The notebooks whose latest run failed or timed out, newest failure first: curators",
                "operationId": "getFailingNotebooks",
                "responses": {
                    "200": {
                        "description": "the failing notebooks",
                        "content": {
                            "application/json": {
                                "schema": {
                                    "type": "object",
                                    "properties": {
                                        "items": {
                                            "type": "array",
                                            "items": {
                                                "type": "object",
                                                "properties": {
                                                    "id": {"type": "string"},
                                                    "title": {"type": "string"},
                                                    "status": {"type": "string"},
                                                    "last_run": {"$ref": "#/components/schemas/LastRun"},
                                                },
                                                "required": ["id", "title", "status", "last_run"],
                                            },
                                        }
                                    },
                                    "required": ["items"],
                                }
                            }
                        },
                    },
                    **_errors(401, 403),
                },
            }
        },
        "/api/schema": {
            "get": {
                "summary": "The item JSON Schema",
                "operationId": "getSchema",
                "responses": {
                    "200": {
                        "description": "JSON Schema 2020-12",
                        "content": {"application/json": {"schema": {"type": "object"}}},
                    },
                    **_errors(401, 403),
                },  # noqa: E501
            }
        },
        "/api/vocabularies": {
            "get": {
                "summary": "Labels of types, GSBPM codes, topics, statuses and sort orders",
                "operationId": "getVocabularies",
                "responses": {
                    "200": {
                        "description": "the vocabularies",
                        "content": {"application/json": {"schema": {"type": "object"}}},
                    },
                    **_errors(401, 403),
                },  # noqa: E501
            }
        },
        "/api/repositories": {
            "get": {
                "summary": "Origins (scheme://host[:port]) of published notebooks' git repositories: "
                "where users' servers may clone from",
                "operationId": "getRepositoryOrigins",
                "responses": {
                    "200": {
                        "description": "the origins",
                        "content": {
                            "application/json": {
                                "schema": {
                                    "type": "object",
                                    "properties": {"origins": {"type": "array", "items": {"type": "string"}}},
                                    "required": ["origins"],
                                }
                            }
                        },
                    },
                    **_errors(401, 403),
                },
            }
        },
        "/api/dcat.jsonld": {
            "get": {
                "summary": "The published catalogue as DCAT-AP 3.0 in JSON-LD",
                "operationId": "getDcatJsonld",
                "responses": {
                    "200": {
                        "description": "DCAT-AP 3.0",
                        "content": {"application/ld+json": {"schema": {"type": "object"}}},
                    },
                    **_errors(401, 403),
                },  # noqa: E501
            }
        },
        "/api/dcat.ttl": {
            "get": {
                "summary": "The published catalogue as DCAT-AP 3.0 in Turtle",
                "operationId": "getDcatTurtle",
                "responses": {
                    "200": {"description": "DCAT-AP 3.0", "content": {"text/turtle": {"schema": {"type": "string"}}}},
                    **_errors(401, 403),
                },  # noqa: E501
            }
        },
        "/api/user": {
            "get": {
                "summary": "The caller and what they may do",
                "operationId": "getUser",
                "responses": {"200": _json("#/components/schemas/User", "the caller"), **_errors(401)},
            }
        },
        "/api/status": {
            "get": {
                "summary": "Whether the service has loaded its curated items and built its search index "
                "(no login needed)",
                "operationId": "getStatus",
                "security": [],
                "responses": {"200": _json("#/components/schemas/Status", "where the start is")},
            }
        },
    }
    for operations in paths.values():
        for method, operation in operations.items():
            if method != "parameters" and operation["operationId"] not in _ANSWERED_WHILE_LOADING:
                operation["responses"].update(_errors(503))
    schemas = {
        **_item_schemas(),
        "Error": ERROR_SCHEMA,
        "Rating": {**_RATING, "properties": {**_RATING["properties"], "stars": {"type": "integer"}}},
        "SearchResult": search_result,
        "Status": status,
        "Comment": comment,
        "Comments": _object(
            {"comments": {"type": "array", "items": {"$ref": "#/components/schemas/Comment"}}}, ["comments"]
        ),  # noqa: E501
        "NewComment": _object({"text": {"type": "string", "minLength": 1, "maxLength": 10000}}, ["text"]),
        "Hidden": _object({"hidden": {"type": "boolean"}}, ["hidden"]),
        "Stars": _object({"stars": {"type": "integer", "minimum": 1, "maximum": 5}}, ["stars"]),
        "Review": _object(
            {
                "decision": {"enum": ["publish", "reject", "retire"]},
                "revision": {**_REVISION, "description": "the revision of the item the curator read"},
                "reason": {"type": "string", "maxLength": 2000, "description": "required to reject or retire"},
            },
            ["decision", "revision"],
        ),
        "LastRun": copy.deepcopy(schema.LAST_RUN_SCHEMA),
        "VideoFile": _object(
            {
                "file": {"type": "string"},
                "content_type": {"type": "string"},
                "size": {"type": "integer"},
                "sha256": {"type": "string"},
            },
            ["file", "content_type", "size", "sha256"],
        ),
        "User": _object(
            {
                "name": {"type": "string"},
                "kind": {"type": "string"},
                "can_submit": {"type": "boolean"},
                "curator": {"type": "boolean"},
                "admin": {"type": "boolean"},
            },
            ["name", "kind", "can_submit", "curator", "admin"],
        ),
    }
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "StatCommons library",
            "version": version,
            "description": "The catalogue of publications, experiences, datasets, videos, algorithms and notebooks.",
        },
        "servers": [{"url": prefix.rstrip("/")}],
        "security": [{"hubToken": []}, {"hubCookie": []}],
        "paths": paths,
        "components": {
            "schemas": schemas,
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
                    "name": "library-oauth",
                    "description": "the hub's OAuth",
                },
            },
        },
    }
