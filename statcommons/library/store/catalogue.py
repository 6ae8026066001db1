"""The :class:`Store`: the library catalogue in one database, its writes, and the search backend that answers.

:class:`Store` keeps items in SQLite (``sqlite:///path``, the embedded default) or PostgreSQL
(``postgresql+psycopg://...``). It opens the database (:mod:`.database`), holds the lock every
write takes, and calls the repository functions of :mod:`.items`, :mod:`.reviews`,
:mod:`.ratings`, :mod:`.comments`, :mod:`.folder` and :mod:`.export` in transactions of its own.

Search has two modes, chosen with ``Store(url, search=...)`` (the ``library.search`` setting).
``"memory"`` (the default) answers from the in-memory index (:mod:`.search.memory`), built
from the database at the first search (or :meth:`Store.reindex`) and kept in sync by every
write method of the store; while it is being built, searches are answered with SQL
(:mod:`.search.sql`), as in ``"database"`` mode (the full-text tables are kept in both modes),
and say so (``"searched": "database"``). Both modes give the same results.

Every item has a ``revision``, 1 when it is added, one more at each change of its fields or of a
file attached to it (:meth:`Store.update`, a changed curated file). A curator's review names the
revision it judges and is refused when the item changed since (:meth:`Store.review`), so what is
published is what the curator read; a change after a rejection sends the item back to
``submitted``. Reviews, ratings and comments do not change the revision.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from .. import files, search
from ..schema import validate_item
from . import comments, database, export, folder, items, ratings, reviews
from .change import Change
from .errors import InvalidItem, check_status
from .items import Attach, Record, insert_many
from .search import SEARCH_MODES, Query, SearchBackend
from .search.memory import MemorySearch
from .search.sql import SqlSearch


class Store:
    """The catalogue in one database, given as a SQLAlchemy URL; its tables are made or upgraded when it opens.

    ``search`` is ``"memory"`` (an in-memory index, built at the first search) or ``"database"``
    (SQL full-text search); see the module docstring.
    """

    def __init__(self, url: str, search: str = "memory", **db_options: Any):
        if search not in SEARCH_MODES:
            raise ValueError(f"{search!r} is not a search mode: use one of {', '.join(SEARCH_MODES)}")
        self.url = sa.make_url(url)
        self.dialect = self.url.get_backend_name()
        if self.dialect not in database.DIALECTS:
            raise ValueError(f"{self.dialect!r} is not supported: use sqlite:///path or postgresql+psycopg://...")
        self.search_mode = search
        # Writes hold this lock from their transaction until the memory index has them, so that
        # the index gets the writes of this process in the order the database committed them.
        self._writing = threading.RLock()
        self.db = database.connect(self.url, db_options)
        self._sql = SqlSearch(self.db)
        self._memory = MemorySearch(self.db, self._writing) if search == "memory" else None
        # What was done, for the service's log: ["create"], ["stamp 0001_baseline", "0002_item_revision"], [].
        self.migrated = database.upgrade(self.db)

    def close(self) -> None:
        """Close every connection of the pool."""
        self.db.dispose()

    def analyze(self) -> bool:
        """Give SQLite's query planner statistics when it has none or they are far off; whether it made them.

        See :func:`.database.analyze`: without them a search with SQL takes seconds at 100,000 items.
        """
        return database.analyze(self.db)

    @contextmanager
    def _change(self) -> Iterator[Change]:
        """A write: a transaction under the write lock, handed to the memory index once it has committed."""
        with self._writing:
            with Session(self.db) as session, session.begin():
                change = Change(session, tracking=self._memory is not None and self._memory.tracking)
                yield change
            if self._memory is not None:
                self._memory.follow(change.docs, change.rating)

    # Items

    def add(self, item: dict, submitter: str | None, status: str = "submitted", attach: Attach | None = None) -> dict:
        """Add an item submitted through the service and return it as stored, at revision 1.

        The service sets ``status`` (submitted unless a curator says otherwise), gives the item
        a unique id made from its title when it has none and a ``created`` date when missing.
        ``attach(connection, item)`` runs in the transaction that adds the item, once it has its
        id, to store a file that comes with it (a notebook): the item never exists without it.
        Raises :class:`InvalidItem` when the schema refuses it, ``ValueError`` when the id is taken.
        """
        check_status(status)
        if not isinstance(item, dict):
            raise InvalidItem(validate_item(item))
        for _ in range(5):
            try:
                with self._change() as change:
                    return items.insert(change, item, submitter, status, attach=attach)
            except IntegrityError:
                if "id" in item:
                    raise ValueError(f"library item {item['id']!r} already exists") from None
        raise ValueError("could not find a free id for the item")

    def add_many(
        self, items: Iterable[dict], submitter: str | None = None, status: str = "published", validate: bool = True
    ) -> int:
        """Add many items with their ids in one transaction, without a round trip per item; returns how many.

        Meant for loading a catalogue or a benchmark corpus. Each item needs an ``id``; a taken or
        repeated id raises ``ValueError`` and an invalid item :class:`InvalidItem`, and then
        nothing is added. ``validate=False`` skips the schema checks (about 0.3 ms an item), for
        items a program generated and checked itself.
        """
        check_status(status)
        try:
            with self._change() as change:
                return insert_many(change, items, submitter, status, validate)
        except IntegrityError:
            raise ValueError("an item id is taken or given twice; nothing was added") from None

    def get(self, item_id: str) -> dict:
        """The item with that id; raises :class:`NotFound`."""
        with Session(self.db) as session:
            return items.row(session, item_id).data

    def record(self, item_id: str) -> Record | None:
        """The item and what the store keeps beside it (submitter, origin, reason, revision, rating), or None."""
        with Session(self.db) as session:
            return items.record(session, item_id)

    def update(
        self,
        item_id: str,
        changes: dict,
        status: str | None = None,
        attach: Attach | None = None,
        from_statuses: Iterable[str] | None = None,
    ) -> dict:
        """Change fields of an item (a value of None removes the field) and return it.

        A change of its fields (``updated`` aside), or ``attach``, makes a new revision: ``revision``
        goes up by one, and a rejected item goes back to ``submitted`` to be reviewed again.
        ``status`` moves the item to that status instead; a new status drops the reason given for
        the old one. ``attach(connection, item)`` runs in the same transaction, to store a file
        that belongs to the new revision (a notebook, a video). With ``from_statuses``, an item
        whose status is not one of them is left as it is and :class:`Conflict` raised: the
        service's check of who may change what, made again where nothing can come between.
        The id cannot change, nor the status but through ``status``, :meth:`review` or :meth:`set_status`.
        """
        if changes.get("id", item_id) != item_id:
            raise ValueError("the id of an item cannot change")
        if "status" in changes:
            raise ValueError("change the status with the status argument, review or set_status")
        if status is not None:
            check_status(status)
        with self._change() as change:
            return items.update(change, item_id, changes, status, attach, from_statuses)

    def set_status(self, item_id: str, status: str, reason: str | None = None) -> dict:
        """Move an item to ``status``, keeping the reason given, whatever its revision (see :meth:`review`)."""
        check_status(status)
        with self._change() as change:
            return reviews.set_status(change, item_id, status, reason)

    def review(
        self,
        item_id: str,
        status: str,
        revision: int,
        reason: str | None = None,
        from_statuses: Iterable[str] | None = None,
    ) -> dict:
        """A curator's decision on the revision they read: move the item to ``status``, keeping ``reason``.

        Raises :class:`Conflict`, changing nothing, when the item is no longer at ``revision``
        (it changed since: the curator reads it again) or, with ``from_statuses``, when its
        status is not one of them (another review came first). The check and the change are one
        transaction, on a locked row. A review makes no new revision: a published item is at the
        revision its curator judged. Its ``updated`` date becomes now.
        """
        check_status(status)
        with self._change() as change:
            return reviews.review(change, item_id, status, revision, reason, from_statuses)

    def revision(self, item_id: str) -> int:
        """The item's revision: 1 when added, one more at each change of its fields or files."""
        with Session(self.db) as session:
            return items.row(session, item_id).revision

    def status_reason(self, item_id: str) -> str | None:
        """Why the item has its status, as given to :meth:`set_status`."""
        with Session(self.db) as session:
            return items.row(session, item_id).status_reason

    def load_folder(self, path) -> dict:
        """Load the curated items of a folder (see :func:`files.load_folder`); running it again changes nothing.

        A new file adds its item, a changed file updates it. Returns the ids ``added``, ``updated``
        and ``unchanged``, and the folder's ``problems`` (items with problems are not loaded).
        """
        found, problems = files.load_folder(path)
        with self._change() as change:
            return folder.load(change, found, problems)

    def export(self, origin: str | None = None) -> list[dict]:
        """Every item, sorted by id, as :func:`files.dump_item` writes it.

        With ``origin``, only the items loaded from the curated folder (``"folder"``) or only
        those that came through the service (``"api"``).
        """
        with Session(self.db) as session:
            return export.export(session, origin)

    def repository_origins(self) -> list[str]:
        """``scheme://host[:port]`` of every published notebook kept in a git repository, sorted.

        Servers clone only from these (and the origins an administrator allows): a published
        item's repository has been through a curator's review.
        """
        with Session(self.db) as session:
            return export.repository_origins(session)

    # Ratings and comments

    def rate(self, item_id: str, user: str, stars: int) -> dict:
        """Record a reader's 1 to 5 stars (a new rating replaces theirs); returns the ``average`` and ``count``."""
        with self._change() as change:
            return ratings.rate(change, item_id, user, stars)

    def rating(self, item_id: str) -> dict:
        """The ``average`` stars (None before the first rating) and ``count`` of ratings."""
        with Session(self.db) as session:
            return ratings.rating_json(items.row(session, item_id))

    def stars(self, item_id: str, user: str) -> int | None:
        """The stars ``user`` gave the item, or None."""
        with Session(self.db) as session:
            return ratings.stars(session, item_id, user)

    def add_comment(self, item_id: str, user: str, text: str) -> dict:
        """Add a reader's Markdown comment; it is stored as written (render it escaped)."""
        # Comments are not searched: their writes need neither the write lock nor the memory index.
        with Session(self.db) as session, session.begin():
            return comments.add(session, item_id, user, text)

    def comments(self, item_id: str, include_hidden: bool = False) -> list[dict]:
        """The comments of an item, oldest first; hidden ones only when asked (for curators)."""
        with Session(self.db) as session:
            return comments.listed(session, item_id, include_hidden)

    def hide_comment(self, comment_id: int, hidden: bool = True) -> dict:
        """Hide a comment (or show it again with ``hidden=False``)."""
        with Session(self.db) as session, session.begin():
            return comments.hide(session, comment_id, hidden)

    # Search

    def search(
        self,
        q: str | None = None,
        type: str | Iterable[str] | None = None,
        gsbpm: str | Iterable[str] | None = None,
        topic: str | Iterable[str] | None = None,
        organisation: str | Iterable[str] | None = None,
        language: str | Iterable[str] | None = None,
        licence: str | Iterable[str] | None = None,
        status: str | Iterable[str] | None = "published",
        visible_to: dict | None = None,
        submitter: str | None = None,
        sort: str = "relevance",
        limit: int = 20,
        offset: int = 0,
        facets: bool = True,
    ) -> dict:
        """Find items: ``{"items": [...], "total": N, "facets": {facet: {value: count}}, "searched": ...}``.

        ``q`` is free text, each word matched as a prefix in title, summary, authors or keywords;
        a ``q`` without letters or digits filters nothing. Each filter takes a value or a list of
        values (any matches); a GSBPM phase such as ``"5"`` matches its sub-processes. ``status``
        (None for any) only shows unpublished items to their submitter or a curator, named by
        ``visible_to={"user": "ana", "curator": False}``; ``submitter`` keeps only the items someone
        submitted. ``limit`` is capped at :data:`~statcommons.library.search.MAX_PAGE`.

        Each result is ``{"item": ..., "rating": {"average", "count"}, "highlight": {"title", "summary"},
        "revision": N}``, the highlights being HTML-escaped text whose only markup is ``<mark>``
        around the words found. ``searched`` is ``"memory"`` or ``"database"``: how this search was
        answered (with SQL in ``memory`` mode while the index is being built).
        """
        filters = {"type": type, "gsbpm": gsbpm, "topic": topic, "organisation": organisation}
        filters.update({"language": language, "licence": licence})
        query = Query.make(q, filters, status, visible_to, submitter, sort, limit, offset, facets)
        backend: SearchBackend = self._sql
        if self._memory is not None and self._memory.searchable():
            backend = self._memory
        page = backend.search(query)
        result: dict[str, Any] = {
            "items": [_result(row, query.words) for row in page.rows],
            "total": page.total,
            "searched": backend.name,
        }
        if page.facets is not None:
            result["facets"] = page.facets
        return result

    @property
    def index_ready(self) -> bool:
        """Whether searches use the memory index: False in ``database`` mode and until the index is built."""
        return self._memory is not None and self._memory.ready

    def defer_index(self) -> None:
        """Answer searches with SQL until the next :meth:`reindex` has built the memory index.

        For a service that builds the index in another thread while it serves: without this, a
        search that came before that thread began would build the index itself, and wait for it.
        """
        if self._memory is not None:
            self._memory.defer()

    def reindex(self) -> int:
        """Build the in-memory search index from the database now; returns how many items it holds.

        With ``search="memory"`` the index is otherwise built at the first search. Call this at
        service start, in a thread of its own, to build it while serving, or after another process
        changed the database. Does nothing with ``search="database"``. Writes go on during the
        build and are all in the new index: see :meth:`MemorySearch.reindex <.search.memory.MemorySearch.reindex>`.
        """
        if self._memory is None:
            return 0
        return self._memory.reindex()


def _result(row: Any, words: list[str]) -> dict:
    item = row.data
    highlight = {"title": search.highlight(item["title"], words), "summary": search.snippet(item["summary"], words)}
    return {"item": item, "rating": ratings.rating_json(row), "highlight": highlight, "revision": row.revision}
