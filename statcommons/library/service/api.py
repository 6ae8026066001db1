"""The REST API of the library service, under ``/services/library/api/``.

Handlers are thin: they check who calls (:mod:`.access`), read the request with
:func:`~statcommons.kit.validation.read_query` and :func:`~statcommons.kit.validation.read_body`,
and call the :class:`~statcommons.library.store.Store`. Each endpoint is declared on its
handler's method (:data:`API`, with the models of :mod:`.models`): the declarations route the
paths, give the request models and make the OpenAPI document. An item's fields are the
exception: the body is read as JSON and the store checks it against the item schema. Every
error is JSON ``{"status", "message"}`` (plus ``errors``, a list of ``{"path", "message"}``,
when fields or parameters are wrong), never a redirect: API clients get 401 without
credentials and 403 without the scope, 404 for an item they may not see.

A review names the ``revision`` of the item the curator read, and the store refuses it
(409) when the item changed since. What the checks here allow (a submitter changes only
their unpublished items) the store checks again in the transaction that makes the change,
so that a review or a change coming in between cannot be overtaken.

While the service starts (:class:`~.app.WarmUp`), requests about items wait in ``prepare``
until the curated folder is loaded, and get a 503 with Retry-After if that takes longer than
:data:`LOADING_WAIT`; while the search index is being built, searches are answered by the
database in a thread and say ``"index": "warming"``.
"""

from __future__ import annotations

import asyncio
import functools
import json
import re
import tempfile
import time
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from ...kit.endpoints import ERROR, Api, Content, Endpoint
from ...kit.validation import read_body, read_query
from ...kit.web import ApiError, JsonApiHandler
from .. import dcat, gsbpm, schema, search
from ..store import FACETS, MAX_PAGE, SORTS, Conflict, InvalidItem, NotFound
from .access import READ, REVIEW, RUNS, SUBMIT, Caller
from .attachments import notebook_problem
from .models import (
    CHANGES,
    ITEM,
    LAST_RUN,
    SERVICE_FIELDS,
    SUBMISSION,
    SUBMITTABLE_STATUSES,
    Comment,
    Comments,
    Failing,
    Hidden,
    ItemQuery,
    NewComment,
    Origins,
    Rating,
    Review,
    SearchResult,
    Stars,
    Status,
    User,
    VideoFile,
)
from .render import markdown_html

EDITABLE_BY_SUBMITTER = ("draft", "submitted", "rejected")
DECISIONS = {"publish": ("published", ("submitted", "retired")), "reject": ("rejected", ("submitted",))}
DECISIONS["retire"] = ("retired", ("published",))
LOADING_WAIT = 10.0  # seconds a request waits for the curated folder to be loaded before a 503
RETRY_AFTER = 5  # seconds, in the Retry-After of that 503


#: What a request about items may get while the service loads its curated items (see :class:`BaseHandler`).
STARTING = Content(
    "the service is starting and has not loaded its curated items yet: try again after Retry-After",
    {"application/json": ERROR},
    headers={"Retry-After": {"schema": {"type": "integer"}, "description": f"seconds to wait: {RETRY_AFTER}"}},
)


def _while_starting(endpoint: Endpoint) -> dict:
    return {503: STARTING} if getattr(endpoint.handler, "needs_catalogue", False) else {}


API = Api(
    "library",
    title="StatCommons library",
    description="The catalogue of publications, experiences, datasets, videos, algorithms and notebooks.",
    extra_responses=_while_starting,
)
ITEM_ID = {"item_id": {"type": "string", "minLength": 1}}
NO_ITEM = "no such item, or one the caller may not see"
NOT_NOW = "the item's state does not allow it"


def _item(description: str) -> Content:
    return Content(description, {"application/json": ITEM})


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _problems(problems) -> list[dict]:
    return [{"path": p.path, "message": p.message} for p in problems]


class Unavailable(ApiError):
    """A 503 with Retry-After: the service is starting and cannot answer this yet."""

    def __init__(self, message: str, retry_after: int = RETRY_AFTER):
        super().__init__(503, message)
        self.retry_after = retry_after


class BaseHandler(JsonApiHandler):
    """The library's API handlers: the store, the service's options and the caller's permissions."""

    caller_class = Caller

    # False for what is answered before the curated folder is in the database (documents, the caller).
    needs_catalogue = True

    @property
    def max_body(self) -> int:
        return self.service_options["max_body"]

    @property
    def store(self):
        return self.settings["store"]

    @property
    def attachments(self):
        return self.settings["attachments"]

    @property
    def service_options(self) -> dict:
        return self.settings["library"]

    async def prepare(self) -> None:
        await super().prepare()
        # Waiting here keeps the event loop free; the 503 itself comes from the method (see require).
        warm_up = self.settings.get("warm_up")
        self.starting = False
        if warm_up is not None and self.needs_catalogue and self.caller is not None:
            self.starting = not await warm_up.wait_loaded(LOADING_WAIT)

    def require(self, allowed: bool, message: str) -> Caller:
        caller = self.logged_in()
        if not allowed:
            raise ApiError(403, message)
        self.available()
        return caller

    def available(self) -> None:
        """A 503 while the service is still loading its curated items (checked after the caller's permissions)."""
        if getattr(self, "starting", False):
            raise Unavailable(
                "the library is starting: it is loading its curated items into its database. "
                f"Try again in {RETRY_AFTER} seconds"
            )

    def write_error(self, status_code: int, **kwargs) -> None:
        error = kwargs.get("exc_info", (None, None, None))[1]
        if isinstance(error, Unavailable):
            self.set_header("Retry-After", str(error.retry_after))
        super().write_error(status_code, **kwargs)

    async def search(self, **arguments: Any) -> dict:
        """:meth:`Store.search <statcommons.library.store.Store.search>`, in a thread while the index is built.

        The database's search then answers, which takes up to a second at 100,000 items: in a
        thread, the event loop goes on answering other requests meanwhile.
        """
        if self.store.search_mode != "memory" or self.store.index_ready:
            return self.store.search(**arguments)
        return await asyncio.get_running_loop().run_in_executor(None, functools.partial(self.store.search, **arguments))

    def index_state(self, result: dict) -> str:
        """``warming`` when a search was answered by the database because the memory index is not built yet."""
        warming = self.store.search_mode == "memory" and result.get("searched") == "database"
        return "warming" if warming else "ready"

    def reader(self) -> Caller:
        name = self.caller.name if self.caller else ""
        return self.require(self.caller is not None and self.caller.can_read, f"{name} may not read the library")

    # Items

    def meta(self, item_id: str) -> Any:
        """The stored row of an item (data, submitter, origin, status reason, revision, rating), or 404."""
        row = self.store.record(item_id)
        if row is None:
            raise ApiError(404, f"no library item {item_id!r}")
        return row

    def failing_notebooks(self) -> list[dict]:
        """The notebooks whose latest run failed or timed out, newest failure first (for curators: any status)."""
        found = []
        for item_id, run in self.attachments.failing_runs().items():
            row = self.store.record(item_id)
            if row is not None:
                data = row.data
                found.append({"id": item_id, "title": data.get("title"), "status": data.get("status"), "last_run": run})
        return sorted(found, key=lambda f: f["last_run"].get("finished") or "", reverse=True)

    def visible(self, item_id: str, caller: Caller) -> Any:
        """The row of an item the caller may see; 404 for one they may not, so that its existence does not leak."""
        row = self.meta(item_id)
        if row.data.get("status") != "published" and not caller.curator and row.submitter != caller.name:
            raise ApiError(404, f"no library item {item_id!r}")
        return row

    def item_json(self, row: Any, caller: Caller) -> dict:
        item = dict(row.data)
        average = round(row.rating_avg, 2) if row.rating_avg is not None else None
        item["rating"] = {"average": average, "count": row.rating_count}
        item["revision"] = row.revision
        item["submitter"] = row.submitter
        item["maintained_in"] = f"library/{item['id']}.yaml" if row.origin == "folder" else None
        if row.status_reason and (caller.curator or caller.name == row.submitter):
            item["status_reason"] = row.status_reason
        notebook = item.get("notebook") or {}
        if "repository" in notebook:
            item["nbgitpuller_url"] = schema.nbgitpuller_link(item, self.service_options["hub_url"])
        if "attached" in notebook:
            item["notebook_url"] = f"{self.service_options['prefix']}api/items/{item['id']}/notebook"
        if (item.get("video") or {}).get("file") and self.attachments.video(item["id"]):
            item["video_file_url"] = f"{self.service_options['prefix']}api/items/{item['id']}/video"
        if item["type"] == "notebook":
            item["last_run"] = self.attachments.last_runs([item["id"]]).get(item["id"])
        return item


def _refuse_service_fields(data: dict, allowed_statuses: tuple[str, ...]) -> None:
    errors = [{"path": key, "message": "set by the service: leave it out"} for key in SERVICE_FIELDS if key in data]
    if "status" in data and data["status"] not in allowed_statuses:
        errors.append(
            {
                "path": "status",
                "message": f"{data['status']!r} is not allowed: use one of {', '.join(allowed_statuses)}",
            }
        )
    if errors:
        raise ApiError(422, "the request sets fields that the service sets", errors)


class ItemsHandler(BaseHandler):
    """``GET /api/items`` searches; ``POST /api/items`` submits an item."""

    @API.get(
        "/items",
        "Search the catalogue",
        scope=READ,
        query=ItemQuery,
        operation_id="searchItems",
        responses={200: SearchResult},
    )
    async def get(self) -> None:
        caller = self.reader()
        query = read_query(self)
        q = query.q or None
        result = await self.search(
            q=q,
            **{facet: getattr(query, facet) or None for facet in FACETS},
            status=query.status or (None if query.mine else "published"),
            sort=query.sort or ("relevance" if q else "newest"),
            limit=min(query.limit, MAX_PAGE),
            offset=query.offset,
            facets=query.facets,
            visible_to=caller.viewer(),
            submitter=caller.name if query.mine else None,
        )
        runs = self.attachments.last_runs([h["item"]["id"] for h in result["items"] if h["item"]["type"] == "notebook"])
        items = []
        for hit in result["items"]:
            item = {**hit["item"], "rating": hit["rating"], "revision": hit["revision"], "highlight": hit["highlight"]}
            if item["type"] == "notebook":
                item["last_run"] = runs.get(item["id"])
            items.append(item)
        facets = result.get("facets", {})
        index = self.index_state(result)
        page = {"limit": min(query.limit, MAX_PAGE), "offset": query.offset}
        self.write_json({"items": items, "total": result["total"], "facets": facets, **page, "index": index})

    @API.post(
        "/items",
        "Submit an item (or save a draft)",
        scope=SUBMIT,
        body=SUBMISSION,
        operation_id="submitItem",
        responses={201: _item("the item as stored")},
    )
    def post(self) -> None:
        caller = self.require(self.caller is not None and self.caller.can_submit, "you may not submit items")
        data = read_body(self)
        _refuse_service_fields(data, SUBMITTABLE_STATUSES)
        status = data.pop("status", "submitted")
        content = data.pop("notebook_content", None)
        if content is not None:
            _check_notebook(data, content, self.service_options["max_notebook_size"])
            if "notebook" not in data:
                data["notebook"] = {"attached": f"{schema_slug(data.get('title'))}.ipynb"}
        attach = None
        if content is not None:

            def attach(connection, item: dict) -> None:
                self.attachments.put_notebook(item["id"], content, connection)

        try:
            item = self.store.add({**data, "updated": _now()}, submitter=caller.name, status=status, attach=attach)
        except InvalidItem as e:
            # Without a title there is no id to make: the title is what to fix, not the id.
            problems = [p for p in e.problems if not (p.path == "id" and p.message.startswith("missing"))]
            raise ApiError(422, f"the item has {len(problems)} problem(s)", _problems(problems)) from None
        location = f"{self.service_options['prefix']}api/items/{item['id']}"
        self.set_header("Location", location)
        self.write_json(self.item_json(self.meta(item["id"]), caller), 201)


def schema_slug(title: Any) -> str:
    from ..store import slugify

    return slugify(title) if isinstance(title, str) else "notebook"


def _check_notebook(data: dict, content: Any, cap: int) -> None:
    if data.get("type") != "notebook":
        raise ApiError(
            422,
            "only notebooks carry a notebook",
            [{"path": "notebook_content", "message": "only items of type 'notebook' have it"}],
        )  # noqa: E501
    size = len(json.dumps(content, separators=(",", ":")).encode())
    if size > cap:
        raise ApiError(413, f"the notebook is {size} bytes: at most {cap} are accepted")
    problem = notebook_problem(content)
    if problem:
        raise ApiError(422, "notebook_content is not a notebook", [{"path": "notebook_content", "message": problem}])


class ItemHandler(BaseHandler):
    """``GET /api/items/{id}`` one item; ``PATCH`` changes it."""

    @API.get(
        "/items/{item_id}",
        "One item",
        scope=READ,
        parameters=ITEM_ID,
        operation_id="getItem",
        responses={200: _item("the item"), 404: NO_ITEM},
    )
    def get(self, item_id: str) -> None:
        caller = self.reader()
        self.write_json(self.item_json(self.visible(item_id, caller), caller))

    @API.patch(
        "/items/{item_id}",
        "Change an item (its submitter while unpublished, or a curator)",
        scope=READ,
        parameters=ITEM_ID,
        body=CHANGES,
        operation_id="changeItem",
        responses={200: _item("the changed item"), 404: NO_ITEM, 409: NOT_NOW},
    )
    def patch(self, item_id: str) -> None:
        caller = self.reader()
        row = self.visible(item_id, caller)
        status = row.data.get("status")
        if not caller.curator:
            if row.submitter != caller.name:
                raise ApiError(403, f"only the submitter of {item_id!r} and curators may change it")
            if status not in EDITABLE_BY_SUBMITTER:
                raise ApiError(403, f"{item_id!r} is {status}: only curators change it now")
        if row.origin == "folder":
            raise ApiError(409, f"{item_id!r} is maintained in library/{item_id}.yaml: change that file")
        changes = read_body(self)
        _refuse_service_fields(changes, SUBMITTABLE_STATUSES)
        new_status = changes.pop("status", None)
        content = changes.pop("notebook_content", None)
        if content is not None:
            _check_notebook({**row.data, **changes}, content, self.service_options["max_notebook_size"])
        if new_status and new_status != status and status not in EDITABLE_BY_SUBMITTER:
            raise ApiError(409, f"{item_id!r} is {status}: it cannot go back to {new_status}")
        attach = None
        if content is not None:

            def attach(connection, item: dict) -> None:
                self.attachments.put_notebook(item["id"], content, connection)

        try:
            self.store.update(
                row.data["id"],
                {**changes, "updated": _now()},
                status=new_status,
                attach=attach,
                from_statuses=None if caller.curator else EDITABLE_BY_SUBMITTER,
            )
        except InvalidItem as e:
            raise ApiError(422, f"the item has {len(e.problems)} problem(s)", _problems(e.problems)) from None
        except Conflict as e:
            raise ApiError(409, str(e)) from None
        except ValueError as e:
            raise ApiError(422, str(e), [{"path": "id", "message": str(e)}]) from None
        self.write_json(self.item_json(self.meta(item_id), caller))


class ReviewHandler(BaseHandler):
    """``POST /api/items/{id}/review``: a curator publishes, rejects (with a reason) or retires an item.

    The review names the ``revision`` the curator read; if the item changed since, the answer
    is a 409 and nothing changes, so that a submitter cannot swap what the curator approved.
    """

    @API.post(
        "/items/{item_id}/review",
        "Publish, reject (with a reason) or retire the revision of an item a curator read",
        scope=REVIEW,
        parameters=ITEM_ID,
        body=Review,
        operation_id="reviewItem",
        responses={
            200: _item("the reviewed item"),
            404: NO_ITEM,
            409: "the item changed since the revision named (read it again), or its status does not allow the "
            "decision; nothing was changed",
        },
    )
    def post(self, item_id: str) -> None:
        caller = self.reader()
        self.require(caller.curator, f"only curators review: {caller.name} is not in the curators group")
        row = self.visible(item_id, caller)
        review = read_body(self)
        decision, revision, reason = review.decision, review.revision, review.reason
        if row.origin == "folder":
            raise ApiError(409, f"{item_id!r} is maintained in library/{item_id}.yaml: change its status there")
        new_status, from_statuses = DECISIONS[decision]
        file = (row.data.get("video") or {}).get("file")
        if decision == "publish" and file and self.attachments.video(row.data["id"]) is None:
            message = f"{item_id!r} names the video file {file}, which has not been uploaded: it cannot be published"
            raise ApiError(409, message)
        try:
            self.store.review(
                row.data["id"],
                new_status,
                revision,
                reason=search.clean(reason.strip()) if reason else None,
                from_statuses=from_statuses,
            )
        except Conflict as e:
            raise ApiError(409, str(e)) from None
        except NotFound:
            raise ApiError(404, f"no library item {item_id!r}") from None
        self.write_json(self.item_json(self.meta(item_id), caller))


class RatingHandler(BaseHandler):
    """``PUT /api/items/{id}/rating`` with ``{"stars": 1..5}``: one rating per user per item."""

    @API.put(
        "/items/{item_id}/rating",
        "Rate a published item from 1 to 5 stars (a new rating replaces the caller's)",
        scope=SUBMIT,
        parameters=ITEM_ID,
        body=Stars,
        operation_id="rateItem",
        responses={200: Rating, 404: NO_ITEM, 409: NOT_NOW},
    )
    def put(self, item_id: str) -> None:
        caller = self.require(self.caller is not None and self.caller.can_submit, "you may not rate items")
        row = self.visible(item_id, caller)
        stars = read_body(self).stars
        if row.data.get("status") != "published":
            raise ApiError(409, f"{item_id!r} is {row.data.get('status')}: only published items are rated")
        rating = self.store.rate(item_id, caller.name, stars)
        self.write_json({**rating, "stars": stars})


class CommentsHandler(BaseHandler):
    """``GET /api/items/{id}/comments`` (curators also see hidden ones); ``POST`` adds one."""

    @API.get(
        "/items/{item_id}/comments",
        "Comments on an item, oldest first (curators also get hidden ones)",
        scope=READ,
        parameters=ITEM_ID,
        operation_id="listComments",
        responses={200: Comments, 404: NO_ITEM},
    )
    def get(self, item_id: str) -> None:
        caller = self.reader()
        self.visible(item_id, caller)
        comments = self.store.comments(item_id, include_hidden=caller.curator)
        self.write_json({"comments": [_comment_json(c) for c in comments]})

    @API.post(
        "/items/{item_id}/comments",
        "Comment on an item (Markdown)",
        scope=SUBMIT,
        parameters=ITEM_ID,
        body=NewComment,
        operation_id="addComment",
        responses={201: Comment, 404: NO_ITEM},
    )
    def post(self, item_id: str) -> None:
        caller = self.require(self.caller is not None and self.caller.can_submit, "you may not comment")
        self.visible(item_id, caller)
        text = read_body(self).text
        self.write_json(_comment_json(self.store.add_comment(item_id, caller.name, text)), 201)


class CommentHandler(BaseHandler):
    """``PATCH /api/items/{id}/comments/{n}`` with ``{"hidden": true|false}``: curators hide a comment."""

    @API.patch(
        "/items/{item_id}/comments/{comment_id}",
        "Hide or show a comment: curators",
        scope=REVIEW,
        parameters={**ITEM_ID, "comment_id": ITEM_ID["item_id"]},
        body=Hidden,
        operation_id="hideComment",
        responses={200: Comment, 404: "no such item or comment, or an item the caller may not see"},
    )
    def patch(self, item_id: str, comment_id: str) -> None:
        caller = self.reader()
        self.require(caller.curator, "only curators hide comments")
        self.visible(item_id, caller)
        hidden = read_body(self).hidden
        ids = {c["id"] for c in self.store.comments(item_id, include_hidden=True)}
        if not comment_id.isdigit() or int(comment_id) not in ids:
            raise ApiError(404, f"no comment {comment_id!r} on {item_id!r}")
        self.write_json(_comment_json(self.store.hide_comment(int(comment_id), hidden)))


def _comment_json(comment: dict) -> dict:
    return {**comment, "html": markdown_html(comment["text"])}


class NotebookHandler(BaseHandler):
    """``GET /api/items/{id}/notebook``: the notebook a submission carried, as a file."""

    @API.get(
        "/items/{item_id}/notebook",
        "The notebook file a submission carried",
        scope=READ,
        parameters=ITEM_ID,
        operation_id="getNotebook",
        responses={
            200: Content("the .ipynb file", {"application/x-ipynb+json": {"type": "object"}}),
            404: f"{NO_ITEM}; or it carries no notebook file",
        },
    )
    def get(self, item_id: str) -> None:
        caller = self.reader()
        row = self.visible(item_id, caller)
        content = self.attachments.notebook(row.data["id"])
        if content is None:
            raise ApiError(404, f"{item_id!r} carries no notebook file")
        name = (row.data.get("notebook") or {}).get("attached") or f"{item_id}.ipynb"
        self.set_header("Content-Type", "application/x-ipynb+json")
        self.set_header("Content-Disposition", f'attachment; filename="{name}"')
        self.finish(content)


VIDEO_TYPES = sorted(set(schema.VIDEO_FILE_TYPES.values()))
_RANGE = re.compile(r"bytes=(\d*)-(\d*)")


def byte_range(header: str | None, size: int) -> tuple[int, int] | None:
    """The (first, last) bytes a ``Range`` header asks for, or None for the whole file.

    A header that is not one ``bytes=`` range is ignored (the whole file is sent), as HTTP
    allows; a range that starts past the end raises a 416.
    """
    match = _RANGE.fullmatch((header or "").strip())
    if not match or match.groups() == ("", ""):
        return None
    first, last = match.groups()
    if first == "":
        length = int(last)
        if length == 0:
            raise ApiError(416, f"the range {header!r} asks for no bytes")
        return max(size - length, 0), size - 1
    start = int(first)
    end = min(int(last), size - 1) if last else size - 1
    if start >= size or (last and int(last) < start):
        raise ApiError(416, f"the range {header!r} is outside the video's {size} bytes")
    return start, end


class VideoHandler(BaseHandler):
    """``GET /api/items/{id}/video`` plays a stored video (range requests); ``PUT`` uploads it.

    The upload is the raw file as the body, with its Content-Type (video/mp4, video/webm or
    video/ogg, matching the extension of the item's ``video.file``). It is streamed to a
    temporary file, never held in memory.
    """

    @property
    def max_body(self) -> int:
        return self.service_options["max_video_size"]

    async def prepare(self) -> None:
        await super().prepare()
        self._upload = tempfile.SpooledTemporaryFile(max_size=8 * 1024 * 1024) if self.request.method == "PUT" else None

    def data_received(self, chunk: bytes) -> None:
        self._received += len(chunk)
        if self._upload is not None and self._received <= self.max_body:
            self._upload.write(chunk)

    def on_finish(self) -> None:
        if self._upload is not None:
            self._upload.close()

    def _stored(self, item_id: str) -> tuple[Any, dict]:
        caller = self.reader()
        row = self.visible(item_id, caller)
        file = (row.data.get("video") or {}).get("file")
        if not file:
            raise ApiError(404, f"{item_id!r} has no video file stored by the library (see its video.url)")
        stored = self.attachments.video(row.data["id"])
        if stored is None:
            raise ApiError(404, f"the video file {file} of {item_id!r} has not been uploaded yet")
        return row, stored

    def _play_headers(self, item_id: str) -> tuple[dict, tuple[int, int] | None]:
        row, stored = self._stored(item_id)
        self.set_header("Accept-Ranges", "bytes")
        self.set_header("Cache-Control", "private, max-age=3600")
        self.set_header("Etag", f'"{stored["sha256"]}"')
        self.set_header("Content-Type", stored["content_type"])
        self.set_header("Content-Disposition", f'inline; filename="{stored["file"]}"')
        size = stored["size"]
        self._size = size
        wanted = byte_range(self.request.headers.get("Range"), size)
        if wanted is None:
            self.set_header("Content-Length", str(size))
        else:
            self.set_status(206)
            self.set_header("Content-Range", f"bytes {wanted[0]}-{wanted[1]}/{size}")
            self.set_header("Content-Length", str(wanted[1] - wanted[0] + 1))
        return stored, wanted

    def write_error(self, status_code: int, **kwargs) -> None:
        if status_code == 416:
            self.set_header("Content-Range", f"bytes */{self._size}")
        super().write_error(status_code, **kwargs)

    def head(self, item_id: str) -> None:
        self._play_headers(item_id)
        self.finish()

    @API.get(
        "/items/{item_id}/video",
        "Play the video file the library stores for a video item (HTTP range requests)",
        scope=READ,
        parameters=ITEM_ID,
        operation_id="getVideo",
        headers={
            "Range": {
                "schema": {"type": "string", "pattern": "^bytes=[0-9]*-[0-9]*$"},
                "description": "one byte range, such as bytes=0-1023 (206), or none for the whole file",
            }
        },
        responses={
            200: Content("the whole video file", {"video/*": None}),
            206: Content("the requested bytes of the video file", {"video/*": None}),
            404: f"{NO_ITEM}; or it has no video file stored by the library, or not yet",
            416: "the range is outside the file",
        },
    )
    async def get(self, item_id: str) -> None:
        stored, wanted = self._play_headers(item_id)
        start, end = wanted or (0, stored["size"] - 1)
        for chunk in self.attachments.video_bytes(self.meta(item_id).data["id"], start, end):
            self.write(chunk)
            await self.flush()
        self.finish()

    @API.put(
        "/items/{item_id}/video",
        "Upload the video file named by the item's video.file (a new revision): its submitter or a curator",
        scope=READ,
        parameters=ITEM_ID,
        operation_id="putVideo",
        body=Content("the video file", {t: {"type": "string", "format": "binary"} for t in VIDEO_TYPES}),
        responses={
            200: VideoFile,
            404: NO_ITEM,
            409: "the item is not a video item naming its video.file, or its state does not allow it",
            413: "the file is too large",
            415: "the body's Content-Type is not the one the item's file needs",
            422: "the request has no body",
        },
    )
    def put(self, item_id: str) -> None:
        caller = self.reader()
        row = self.visible(item_id, caller)
        if not caller.curator:
            if row.submitter != caller.name:
                raise ApiError(403, f"only the submitter of {item_id!r} and curators may upload its video")
            if row.data.get("status") not in EDITABLE_BY_SUBMITTER:
                raise ApiError(403, f"{item_id!r} is {row.data.get('status')}: only curators change it now")
        file = (row.data.get("video") or {}).get("file")
        if row.data.get("type") != "video" or not file:
            problem = [{"path": "video.file", "message": "name the file first: set video.file (such as talk.webm)"}]
            raise ApiError(409, f"{item_id!r} is not a video item with a video.file", problem)
        if self._received > self.max_body:
            raise ApiError(413, f"the video is {self._received} bytes: at most {self.max_body} are accepted")
        if self._received == 0:
            raise ApiError(422, "the request has no body: send the video file as the body")
        expected = schema.VIDEO_FILE_TYPES["." + file.rsplit(".", 1)[1].lower()]
        sent = (self.request.headers.get("Content-Type") or "").split(";")[0].strip().lower()
        if sent != expected:
            raise ApiError(415, f"{file} is sent as {expected}: the request's Content-Type is {sent or 'missing'!r}")
        self._upload.seek(0)
        stored: dict = {}

        # The file is part of what a curator reviews: storing it makes a new revision of the item.
        def attach(connection, item: dict) -> None:
            stored.update(self.attachments.put_video(item["id"], file, expected, self._upload, connection))

        try:
            self.store.update(
                row.data["id"],
                {"updated": _now()},
                attach=attach,
                from_statuses=None if caller.curator else EDITABLE_BY_SUBMITTER,
            )
        except Conflict as e:
            raise ApiError(409, str(e)) from None
        self.write_json({"file": file, "content_type": expected, "size": stored["size"], "sha256": stored["sha256"]})


class LastRunHandler(BaseHandler):
    """``PUT /api/items/{id}/last-run``: the runner records how the notebook's latest run ended."""

    @API.put(
        "/items/{item_id}/last-run",
        "Record the latest run of a notebook item: the runner. A run that finished before the one "
        "recorded already is not kept (its record came late)",
        scope=RUNS,
        parameters=ITEM_ID,
        body=LAST_RUN,
        operation_id="recordRun",
        responses={200: _item("the item"), 404: "no such item", 409: "the item is not a notebook"},
    )
    def put(self, item_id: str) -> None:
        self.require(self.caller is not None and self.caller.can_record_runs, "only the runner records runs")
        row = self.meta(item_id)
        if row.data.get("type") != "notebook":
            raise ApiError(409, f"{item_id!r} is not a notebook")
        data = read_body(self)
        problems = [p for p in schema.validate_item({**row.data, "last_run": data}) if p.path.startswith("last_run")]
        if problems:
            raise ApiError(422, "the run has problems", _problems(problems))
        self.attachments.set_last_run(row.data["id"], data)
        self.write_json(self.item_json(row, self.caller))


class FailingHandler(BaseHandler):
    """``GET /api/failing``: the notebooks whose latest run failed or timed out, newest failure first (curators)."""

    @API.get(
        "/failing",
        "The notebooks whose latest run failed or timed out, newest failure first: curators",
        scope=REVIEW,
        operation_id="getFailingNotebooks",
        responses={200: Failing},
    )
    def get(self) -> None:
        self.require(self.caller is not None and self.caller.curator, "only curators see the failing notebooks")
        self.write_json({"items": self.failing_notebooks()})


class SchemaHandler(BaseHandler):
    """``GET /api/schema``: the item JSON Schema, for clients to validate with the same rules."""

    needs_catalogue = False

    @API.get(
        "/schema",
        "The item JSON Schema",
        scope=READ,
        operation_id="getSchema",
        responses={200: Content("JSON Schema 2020-12", {"application/json": {"type": "object"}})},
    )
    def get(self) -> None:
        self.reader()
        self.write_json(schema.SCHEMA)


class VocabulariesHandler(BaseHandler):
    """``GET /api/vocabularies``: the labels of GSBPM codes and topics, for facets and forms."""

    needs_catalogue = False

    @API.get(
        "/vocabularies",
        "Labels of types, GSBPM codes, topics, statuses and sort orders",
        scope=READ,
        operation_id="getVocabularies",
        responses={200: Content("the vocabularies", {"application/json": {"type": "object"}})},
    )
    def get(self) -> None:
        self.reader()
        self.write_json(
            {
                "type": list(schema.TYPES),
                "gsbpm": {**gsbpm.PHASES, **gsbpm.SUBPROCESSES},
                "topic": schema.topics(),
                "status": list(schema.STATUSES),
                "sort": list(SORTS),
            }
        )


class DcatHandler(BaseHandler):
    """``GET /api/dcat.jsonld`` and ``/api/dcat.ttl``: the published catalogue as DCAT-AP 3.0.

    Building the graph costs about a millisecond per item, so it is kept for a minute.
    """

    FORMATS = {"jsonld": ("application/ld+json", dcat.to_jsonld), "ttl": ("text/turtle", dcat.to_turtle)}
    CACHE_SECONDS = 60

    def catalogue(self, extension: str) -> None:
        self.reader()
        media_type, serialise = self.FORMATS[extension]
        cache = self.settings.setdefault("dcat_cache", {})
        cached = cache.get(extension)
        if cached is None or time.monotonic() - cached[0] > self.CACHE_SECONDS:
            hub = urlsplit(self.service_options["hub_url"])
            base = f"{hub.scheme}://{hub.netloc}{self.service_options['prefix']}"
            graph = dcat.catalogue_graph(self.store.export(), base)
            cached = cache[extension] = (time.monotonic(), serialise(graph))
        self.set_header("Content-Type", f"{media_type}; charset=utf-8")
        self.finish(cached[1])


class DcatJsonldHandler(DcatHandler):
    @API.get(
        "/dcat.jsonld",
        "The published catalogue as DCAT-AP 3.0 in JSON-LD",
        scope=READ,
        operation_id="getDcatJsonld",
        responses={200: Content("DCAT-AP 3.0", {"application/ld+json": {"type": "object"}})},
    )
    def get(self) -> None:
        self.catalogue("jsonld")


class DcatTurtleHandler(DcatHandler):
    @API.get(
        "/dcat.ttl",
        "The published catalogue as DCAT-AP 3.0 in Turtle",
        scope=READ,
        operation_id="getDcatTurtle",
        responses={200: Content("DCAT-AP 3.0", {"text/turtle": {"type": "string"}})},
    )
    def get(self) -> None:
        self.catalogue("ttl")


class RepositoriesHandler(BaseHandler):
    """``GET /api/repositories``: the origins of published notebooks' git repositories.

    What users' servers may clone from when a link asks them to (besides ``servers.git_origins``).
    """

    @API.get(
        "/repositories",
        "Origins (scheme://host[:port]) of published notebooks' git repositories: where users' servers may clone from",
        scope=READ,
        operation_id="getRepositoryOrigins",
        responses={200: Origins},
    )
    def get(self) -> None:
        self.reader()
        self.write_json({"origins": self.store.repository_origins()})


class UserHandler(BaseHandler):
    """``GET /api/user``: who the service thinks is calling and what they may do."""

    needs_catalogue = False

    @API.get("/user", "The caller and what they may do", operation_id="getUser", responses={200: User})
    def get(self) -> None:
        self.write_json(self.require(self.caller is not None, "").as_json())


class StatusHandler(BaseHandler):
    """``GET /api/status``: whether the service has loaded its curated items and built its search index.

    ``{"index": "loading" | "warming" | "ready", "search": "memory" | "database", "items": N}``
    (see :class:`~.app.WarmUp`); ``items`` counts the published items once the in-memory index is
    ready, null before and in ``database`` mode. Readable without logging in, like the OpenAPI
    document, so that a probe needs no token: it tells no more than the count of published
    items, which every reader sees.
    """

    needs_catalogue = False

    @API.get(
        "/status",
        "Whether the service has loaded its curated items and built its search index (no login needed)",
        public=True,
        operation_id="getStatus",
        responses={200: Status},
    )
    def get(self) -> None:
        warm_up = self.settings.get("warm_up")
        phase = warm_up.phase if warm_up is not None else "ready"
        items = None
        if phase == "ready" and self.store.index_ready:
            items = self.store.search(limit=1, facets=False)["total"]
        self.write_json({"index": phase, "search": self.store.search_mode, "items": items})
