"""The library API's models: what a request may hold (checked) and what an answer holds (documented).

Items are not models: the store checks their fields against the library's item JSON Schema
(:mod:`statcommons.library.schema`), which names each problem the same way as the models do.
:data:`ITEM`, :data:`SUBMISSION`, :data:`CHANGES` and :data:`LAST_RUN` give that schema to the
OpenAPI document as it is (OpenAPI 3.1 is JSON Schema 2020-12), so that clients and the service
validate with the same rules. Items as returned carry the service's fields too, among them
``revision``, which a review must name.
"""

from __future__ import annotations

import copy
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, Field, ValidationInfo, WithJsonSchema, field_validator

from ...kit.endpoints import Schema
from ...kit.openapi import REF
from ...kit.validation import Body, Flag, Query, problem, whole_number
from .. import schema, search
from ..store import FACETS, MAX_COMMENT_LENGTH, MAX_PAGE, SORTS

#: Fields the service sets; a client sending one is told so.
SERVICE_FIELDS = ("id", "submitter", "created", "updated", "revision", "rating", "last_run", "status_reason")
#: The statuses a submitter gives an item: a draft, or submitted for review.
SUBMITTABLE_STATUSES = ("draft", "submitted")
MAX_REASON = 2000

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


def _item_schemas() -> tuple[dict, dict, dict]:
    """``Item`` (as the service returns it), ``Submission`` (POST) and ``Changes`` (PATCH)."""
    base = {k: v for k, v in copy.deepcopy(schema.SCHEMA).items() if k not in ("$schema", "$id", "version")}
    submission = copy.deepcopy(base)
    for name in SERVICE_FIELDS:
        submission["properties"].pop(name, None)
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
    return returned, submission, changes


_returned, _submission, _changes = _item_schemas()
ITEM = Schema("Item", _returned)
SUBMISSION = Schema("Submission", _submission)
CHANGES = Schema("Changes", _changes)
LAST_RUN = Schema("LastRun", copy.deepcopy(schema.LAST_RUN_SCHEMA))


def _refers_to(declared: Schema) -> Any:
    """A value of an answer model that is described by a :class:`Schema` component.

    In ``allOf``: pydantic looks up a field's bare ``$ref`` among its own models' schemas.
    """
    return WithJsonSchema({"allOf": [{"$ref": REF.format(model=declared.name)}]})


AnItem = Annotated[dict[str, Any], _refers_to(ITEM)]
ALastRun = Annotated[dict[str, Any], _refers_to(LAST_RUN)]


# Requests


def _facet(name: str) -> Any:
    described = "any of the values; gsbpm=5 matches all of phase 5" if name == "gsbpm" else "any of the values"
    return Field(default_factory=list, description=f"filter by {name} ({described})")


class ItemQuery(Query):
    """What to search for, and which page of the results."""

    q: str = Field(None, description="words, each matched as a prefix")
    type: list[str] = _facet("type")
    gsbpm: list[str] = _facet("gsbpm")
    topic: list[str] = _facet("topic")
    organisation: list[str] = _facet("organisation")
    language: list[str] = _facet("language")
    licence: list[str] = _facet("licence")
    status: list[Literal[schema.STATUSES]] = Field(
        default_factory=list,
        description="published by default; unpublished items show to their submitter and curators",
    )
    mine: Flag = Field(False, description="only the caller's items")
    facets: Flag = Field(True, description="false leaves out the facet counts (faster); true by default")
    sort: Literal[SORTS] = Field(None, description="relevance when q is given, else newest")
    limit: whole_number(at_least=1) = Field(20, description=f"page size, capped at {MAX_PAGE}")
    offset: whole_number(at_least=0) = 0


assert set(FACETS) <= set(ItemQuery.model_fields), "every facet is a parameter of the search"


def _a_revision(revision: Any) -> Any:
    if isinstance(revision, bool) or not isinstance(revision, int) or revision < 1:
        raise problem(f"{revision!r} is not allowed: expected the item's revision, a whole number from 1")
    return revision


class Review(Body):
    """A curator's decision about the revision of an item they read."""

    decision: Literal["publish", "reject", "retire"]
    revision: Annotated[int, BeforeValidator(_a_revision)] = Field(
        ge=1, description="the revision of the item the curator read"
    )
    reason: str | None = Field(
        None, max_length=MAX_REASON, validate_default=True, description="required to reject or retire"
    )

    @field_validator("reason")
    @classmethod
    def _given_to_reject_or_retire(cls, reason: str | None, info: ValidationInfo) -> str | None:
        decision = info.data.get("decision")
        if decision in ("reject", "retire") and not (reason or "").strip():
            raise problem(f"missing: required to {decision} an item, for its submitter")
        return reason


def _stars(stars: Any) -> Any:
    if isinstance(stars, bool) or not isinstance(stars, int) or not 1 <= stars <= 5:
        raise problem(f"{stars!r} is not allowed: expected a whole number from 1 to 5")
    return stars


class Stars(Body):
    """A rating: one per user per item, averaged."""

    stars: Annotated[int, BeforeValidator(_stars)] = Field(ge=1, le=5)


def _markdown_text(text: Any) -> Any:
    if not isinstance(text, str) or not search.clean(text).strip() or len(text) > MAX_COMMENT_LENGTH:
        raise problem(f"expected a Markdown text of 1 to {MAX_COMMENT_LENGTH} characters")
    return text


class NewComment(Body):
    """A comment, in Markdown."""

    text: Annotated[str, BeforeValidator(_markdown_text)] = Field(min_length=1, max_length=MAX_COMMENT_LENGTH)


class Hidden(Body):
    """Whether curators hide a comment."""

    hidden: bool


# Answers


class SearchResult(BaseModel):
    """A page of items."""

    items: list[AnItem]
    total: int = Field(ge=0)
    facets: dict[str, dict[str, int]] = Field(
        description="the count of items of each value of each facet; empty when facets=false"
    )
    limit: int
    offset: int
    index: Literal["ready", "warming"] = Field(
        description="warming: the service is building its in-memory search index, and the database's "
        "full-text search answered (same matches; the service says ready when the index answers)"
    )


class Rating(BaseModel):
    """The item's rating, and the caller's stars."""

    average: float | None
    count: int = Field(ge=0)
    stars: int


class Comment(BaseModel):
    """One comment."""

    id: int
    author: str
    text: str = Field(description="Markdown as written")
    html: str = Field(description="the Markdown rendered and sanitised")
    hidden: bool
    created: str


class Comments(BaseModel):
    """The comments on an item, oldest first."""

    comments: list[Comment]


class VideoFile(BaseModel):
    """The stored video file."""

    file: str
    content_type: str
    size: int
    sha256: str


class FailingNotebook(BaseModel):
    """A notebook whose latest run failed or timed out."""

    id: str
    title: str
    status: str
    last_run: ALastRun


class Failing(BaseModel):
    """The failing notebooks, newest failure first."""

    items: list[FailingNotebook]


class Origins(BaseModel):
    """Where users' servers may clone published notebooks from."""

    origins: list[str] = Field(description="scheme://host[:port] of the git repositories of published notebooks")


class User(BaseModel):
    """The caller and what they may do."""

    name: str
    kind: str
    can_submit: bool
    curator: bool
    admin: bool


class Status(BaseModel):
    """Where the start is."""

    index: Literal["loading", "warming", "ready"] = Field(
        description="loading: the curated items are being loaded into the database (requests about items "
        "wait, then get a 503); warming: the in-memory search index is being built (searches are answered by "
        "the database meanwhile); ready"
    )
    search: Literal["memory", "database"] = Field(description="the library.search setting")
    items: int | None = Field(
        ge=0,
        description="published items in the in-memory index once it is ready; null before, and in database mode",
    )
