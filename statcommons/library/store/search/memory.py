"""Search with the in-memory index: building it from the database, keeping it in step with the store's writes.

:class:`MemorySearch` answers from a :class:`~statcommons.library.index.SearchIndex` built from
the database at the first search (or :meth:`MemorySearch.reindex`) and kept in sync by every
write of the store (:meth:`MemorySearch.follow`); the database only gives the rows of the page
shown. Writes made by another process are seen after :meth:`MemorySearch.reindex`. While the
index is being built, the store answers searches with SQL (:mod:`.sql`); see
:meth:`MemorySearch.reindex` for how writes made meanwhile reach the new index.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from typing import Any

import sqlalchemy as sa

from ...index import Doc, SearchIndex
from ...search import FACETS
from ..tables import Facet, Item
from . import Page, Query


def doc(row: Any, facets: Iterable[tuple[str, str]]) -> Doc:
    """What the in-memory index keeps of an item row."""
    return Doc(
        pk=row.pk,
        status=row.status,
        submitter=row.submitter,
        title=row.title,
        summary=row.summary,
        authors=row.authors_text,
        keywords=row.keywords_text,
        year=row.year,
        created=row.created,
        title_sort=row.title_sort,
        facets=frozenset(facets),
        rating_avg=row.rating_avg,
        rating_count=row.rating_count or 0,
    )


class MemorySearch:
    """The in-memory index of the catalogue in ``db``, following the writes made under ``writing`` (see the module)."""

    name = "memory"

    def __init__(self, db: sa.Engine, writing: threading.RLock):
        self.db = db
        self.dialect = db.dialect.name
        # The store's writes hold this lock from their transaction until they have handed their change
        # to follow(), so that the index gets the writes of this process in the order the database committed them.
        self._writing = writing
        self._index: SearchIndex | None = None
        # While an index is being built: what writes committed since the build began, in commit order
        # (("docs", [Doc, ...]) or ("rating", pk, average, count)), replayed on the new index. Under _writing.
        self._journal: list[tuple] | None = None
        self._building = threading.Lock()  # one build at a time
        self._deferred = False  # searches use SQL until the next build ends (see defer)

    @property
    def ready(self) -> bool:
        """Whether the index is built: searches use it."""
        return self._index is not None

    # Following writes

    @property
    def tracking(self) -> bool:
        """Whether writes must hand their changes on: to the index, or to the journal of a build. Under the lock."""
        return self._index is not None or self._journal is not None

    def follow(self, docs: list[Doc], rating: tuple[int, float | None, int] | None) -> None:
        """Give a committed write to the index and to a build's journal (else a build reads it). Under the lock.

        ``docs`` are the new versions of the items it changed, ``rating`` an item's new rating (pk, average, count).
        """
        entries: list[tuple] = [("docs", docs)] if docs else []
        if rating is not None:
            entries.append(("rating", *rating))
        for entry in entries:
            if self._journal is not None:
                self._journal.append(entry)
            if self._index is not None:
                _apply(self._index, entry)

    # Building

    def searchable(self) -> bool:
        """Whether this search can use the index; False while one is being built: SQL answers meanwhile.

        When no index is built and no build is under way (nor announced with :meth:`defer`),
        this search builds it and waits for it.
        """
        if self._index is None and not self._deferred and self._building.acquire(blocking=False):
            try:
                if self._index is None:
                    self._build()
            finally:
                self._building.release()
        return self._index is not None

    def defer(self) -> None:
        """Answer searches with SQL until the next :meth:`reindex` has built the index.

        For a service that builds the index in another thread while it serves: without this, a
        search that came before that thread began would build the index itself, and wait for it.
        """
        if self._index is None:
            self._deferred = True

    def reindex(self) -> int:
        """Build the index from the database now; returns how many items it holds.

        The index is otherwise built at the first search. Call this at service start, in a
        thread of its own, to build it while serving, or after another process changed the
        database.

        The build does not hold up writes, which would wait for it (a minute and more at a
        million items): it reads the database in chunks while this process goes on writing, and a
        write may commit before or after the build reads its rows. So, before the build reads
        anything, a journal starts, under the lock every write holds from its transaction until
        it has handed its change on. Each write committed from then on appends what the index
        needs (the whole new version of each item it changed, or an item's new rating) to the
        journal, in commit order, besides updating the current index if there is one. When the
        build has read everything, the journal is replayed onto the new index under the same
        lock, and the new index replaces the old one before the lock is released: no write can
        come between. Replaying whole versions in commit order makes the order of reading and
        writing irrelevant: an item the build read before a change gets the change from the
        journal, one it read after gets the same version again, and one added after the build
        chose its range of rows is in the journal alone. Writes committed before the journal
        started are in the rows the build reads. Until the new index is in place, searches use
        the old index, or SQL when there is none. Writes of other processes are not journaled:
        they are seen at the next build.
        """
        with self._building:
            return self._build()

    def _build(self) -> int:
        """Build the index from the database and a journal of the writes made meanwhile (see :meth:`reindex`)."""
        with self._writing:
            self._journal = []
        try:
            index = self._load_index()
        except BaseException:
            with self._writing:
                self._journal = None
            raise
        with self._writing:
            journal, self._journal = self._journal, None
            for entry in journal:
                _apply(index, entry)
            self._index, self._deferred = index, False
            return len(index)

    def _load_index(self, step: int = 20_000) -> SearchIndex:
        index = SearchIndex(FACETS)
        # In the order of Doc's fields, facets and ratings last.
        columns = (Item.pk, Item.status, Item.submitter, Item.title, Item.summary, Item.authors_text)
        columns += (Item.keywords_text, Item.year, Item.created, Item.title_sort, Item.rating_avg, Item.rating_count)
        # An item's facet rows as one JSON array of pairs: ten times fewer rows to read.
        pairs = sa.func.json_array if self.dialect == "sqlite" else sa.func.json_build_array
        aggregate = sa.func.json_group_array if self.dialect == "sqlite" else sa.func.json_agg
        facet_list = aggregate(pairs(Facet.facet, Facet.value), type_=sa.JSON)
        with self.db.connect() as conn:
            low, high = conn.execute(sa.select(sa.func.min(Item.pk), sa.func.max(Item.pk))).one()
            if low is None:
                return index
            for start in range(low, high + 1, step):
                in_range = sa.and_(Facet.item_pk >= start, Facet.item_pk < start + step)
                grouped = sa.select(Facet.item_pk, facet_list).where(in_range).group_by(Facet.item_pk)
                facets = {pk: frozenset(map(tuple, values)) for pk, values in conn.execute(grouped)}
                rows = conn.execute(sa.select(*columns).where(Item.pk >= start, Item.pk < start + step))
                index.add([Doc(*row[:10], facets.get(row[0], frozenset()), row[10], row[11] or 0) for row in rows])
        index.trim()
        return index

    # Searching

    def search(self, query: Query) -> Page:
        """The page of results from the index, once :meth:`searchable` said it is built."""
        hits = self._index.search(
            query.words, filters=query.filters, statuses=query.statuses, user=query.user, curator=query.curator,
            submitter=query.submitter, sort=query.sort, offset=query.offset, limit=query.limit, facets=query.facets,
        )  # fmt: skip
        rows = {}
        if hits.pks:
            page = sa.select(Item.pk, Item.data, Item.rating_avg, Item.rating_count, Item.revision)
            page = page.where(Item.pk.in_(hits.pks))
            with self.db.connect() as conn:
                rows = {row.pk: row for row in conn.execute(page)}
        return Page([rows[pk] for pk in hits.pks if pk in rows], hits.total, hits.facets)


def _apply(index: SearchIndex, entry: tuple) -> None:
    """Apply a journal entry (see :attr:`MemorySearch._journal`) to ``index``."""
    if entry[0] == "docs":
        index.add(entry[1])
    else:
        index.set_rating(*entry[1:])
