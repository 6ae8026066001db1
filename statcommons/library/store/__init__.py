"""The library catalogue's database: items and their revisions, reviews, ratings, comments, attachments and search.

:class:`Store` is what callers use; it opens a SQLite or PostgreSQL database and calls the
modules below in transactions of its own.

- :mod:`.catalogue`: :class:`Store`, its write lock and which search backend answers;
- :mod:`.database`: the SQLAlchemy engine (``db``), the schema and its upgrades (:data:`SCHEMA`),
  SQLite's planner statistics;
- :mod:`.tables`: every library table under one declarative base;
- :mod:`.items`: item rows, their facet rows and revisions (add, bulk add, change, read);
- :mod:`.reviews`: curators' decisions by revision, and status changes;
- :mod:`.ratings`, :mod:`.comments`: readers' stars and comments;
- :mod:`.folder`: loading the curated folder;
- :mod:`.export`: every item at once, and the git origins of published notebooks;
- :mod:`.attachments`: notebook files, video files and notebooks' last runs, by item id;
- :mod:`.change`: one write's transaction and what the in-memory index must learn of it;
- :mod:`.errors`: what the store refuses;
- :mod:`.search`: the search backends behind one interface, :mod:`.search.sql` (SQLite FTS5,
  PostgreSQL ``tsvector``) and :mod:`.search.memory` (the in-memory index and its warm-up
  journal).

The constants of searching (facets, sort orders, page size, field weights) are defined in
:mod:`statcommons.library.search` and the statuses in :mod:`statcommons.library.schema`; they
are re-exported here for the store's callers.
"""

from ..schema import STATUSES
from ..search import FACETS, MAX_PAGE, SORTS
from .attachments import Attachments
from .catalogue import Store
from .comments import MAX_COMMENT_LENGTH
from .database import SCHEMA
from .errors import Conflict, InvalidItem, NotFound
from .items import Attach, Record, slugify
from .search import SEARCH_MODES

__all__ = [
    "FACETS",
    "MAX_COMMENT_LENGTH",
    "MAX_PAGE",
    "SCHEMA",
    "SEARCH_MODES",
    "SORTS",
    "STATUSES",
    "Attach",
    "Attachments",
    "Conflict",
    "InvalidItem",
    "NotFound",
    "Record",
    "Store",
    "slugify",
]
