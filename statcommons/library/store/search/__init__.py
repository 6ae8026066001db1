"""Searching the catalogue: what a search asks (:class:`Query`), what a backend answers (:class:`Page`), the backends.

Two backends answer a :class:`Query` behind one interface, :class:`SearchBackend`:

- :mod:`.sql`: SQL full-text search, in SQLite's FTS5 table or PostgreSQL's weighted
  ``tsvector`` column (``library.search: database``; in ``memory`` mode too while the index
  is being built);
- :mod:`.memory`: the in-memory :class:`~statcommons.library.index.SearchIndex`
  (``library.search: memory``, the default), which follows the store's writes.

Both give the same results: queries are reduced to words by :mod:`statcommons.library.search`,
each matched as a prefix in title, summary, authors or keywords, every word must match, and
facet counts count the current result set (every filter applied).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Protocol

from ... import search
from ...search import MAX_PAGE, SORTS
from ..errors import check_status

SEARCH_MODES = ("memory", "database")


@dataclass(frozen=True)
class Query:
    """One search, checked and cleaned: what :meth:`Store.search <..catalogue.Store.search>` was asked."""

    words: list[str]
    """The words to match, each as a prefix (none: every item)."""
    filters: dict[str, list[str]]
    """Facet name to the values any of which matches, for the facets filtered only."""
    statuses: list[str] | None
    """The statuses wanted, None for any."""
    user: str | None
    """Who searches: their unpublished items are visible to them."""
    curator: bool
    """Whether the searcher sees every item."""
    submitter: str | None
    """Only the items this person submitted."""
    sort: str
    limit: int
    offset: int
    facets: bool
    """Whether to count facet values."""

    @classmethod
    def make(
        cls,
        q: str | None,
        filters: dict[str, str | Iterable[str] | None],
        status: str | Iterable[str] | None,
        visible_to: dict | None,
        submitter: str | None,
        sort: str,
        limit: int,
        offset: int,
        facets: bool,
    ) -> Query:
        """The query of :meth:`Store.search`'s arguments; raises ``ValueError`` for an unknown sort or status."""
        if sort not in SORTS:
            raise ValueError(f"{sort!r} is not a sort order: use one of {', '.join(SORTS)}")
        limit, offset = min(max(int(limit), 1), MAX_PAGE), max(int(offset), 0)
        statuses = _values(status)
        for name in statuses or []:
            check_status(name)
        viewer = visible_to or {}
        return cls(
            words=search.terms(q),
            filters={facet: _values(value) for facet, value in filters.items() if value is not None},
            statuses=statuses,
            user=search.clean(str(viewer["user"])) if viewer.get("user") else None,
            curator=bool(viewer.get("curator")),
            submitter=search.clean(str(submitter)) if submitter is not None else None,
            sort=sort,
            limit=limit,
            offset=offset,
            facets=facets,
        )


def _values(value: str | Iterable[str] | None) -> list[str] | None:
    """A filter value as a list: one value or several (any of them matches); None for no filter."""
    if value is None:
        return None
    listed = [value] if isinstance(value, str) else list(value)
    return [search.clean(str(v)) for v in listed]


@dataclass(frozen=True)
class Page:
    """A backend's answer: the rows of the page asked for, in order, how many items match, the facet counts if asked.

    Each row has the item's ``data``, ``rating_avg``, ``rating_count`` and ``revision``.
    """

    rows: list[Any]
    total: int
    facets: dict[str, dict[str, int]] | None


class SearchBackend(Protocol):
    """What answers a search."""

    name: str
    """How the store's answer names it (``searched``): ``"memory"`` or ``"database"``."""

    def search(self, query: Query) -> Page: ...
