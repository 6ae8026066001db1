"""One write of the store: its transaction, and what the in-memory index must learn of it once it commits.

The repository functions (:mod:`.items`, :mod:`.reviews`, :mod:`.ratings`, :mod:`.folder`)
make their changes in :attr:`Change.session` and say which items they wrote
(:meth:`Change.saved`) or rated (:meth:`Change.rated`). The store opens the change under its
write lock and, once it has committed, hands it to :class:`~.search.memory.MemorySearch`
before releasing the lock (see :meth:`MemorySearch.reindex <.search.memory.MemorySearch.reindex>`).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from sqlalchemy.orm import Session

from ..index import Doc
from .search.memory import doc
from .tables import Item


@dataclass
class Change:
    """A write transaction and what the memory index must learn of it."""

    session: Session
    tracking: bool
    """Whether the memory index follows writes now; when it does not, nothing is collected."""
    docs: list[Doc] = field(default_factory=list)
    """The new version of each item written, in the order written."""
    rating: tuple[int, float | None, int] | None = None
    """An item's new rating: its pk, average and count."""

    @property
    def dialect(self) -> str:
        return self.session.get_bind().dialect.name

    def saved(self, row: Item, facets: Iterable[tuple[str, str]]) -> None:
        """``row`` (flushed, with its pk) and its facet values are the item's new version."""
        if self.tracking:
            self.docs.append(doc(row, facets))

    def rated(self, pk: int, average: float | None, count: int) -> None:
        self.rating = (pk, average, count)
