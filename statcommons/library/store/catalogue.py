"""The library catalogue's database: items, ratings and comments, and searching them.

:class:`Store` keeps items in SQLite (``sqlite:///path``, the embedded default) or
PostgreSQL (``postgresql+psycopg://...``). Each item is kept as the JSON that
:func:`~statcommons.library.schema.validate_item` accepted, plus the columns search needs:
type, status, year, title, summary, authors, keywords and licence on the item row, and one
row per facet value (type, licence, topic, organisation, language, GSBPM code) in
``library_item_facets``. A GSBPM sub-process ``5.1`` is also recorded under its phase
``5``, so filtering by a phase finds its sub-processes.

Search has two modes, chosen with ``Store(url, search=...)`` (the ``library.search`` setting).
``"memory"`` (the default) matches, ranks, counts facets and pages with the in-memory
:class:`~statcommons.library.index.SearchIndex`, built from the database at the first search
(or :meth:`Store.reindex`) and kept in sync by every write method of the store; the database
only gives the rows of the page shown. Writes made by another process are seen after
:meth:`Store.reindex`. While the index is being built, searches are answered with SQL, as in
``"database"`` mode (the full-text tables are kept in both modes), and say so
(``"searched": "database"``); see :meth:`Store.reindex` for how writes made meanwhile reach
the new index. ``"database"`` searches with SQL: full text covers title, summary,
authors and keywords, in an FTS5 table kept in sync by triggers on SQLite, and on PostgreSQL in
a weighted ``tsvector`` column with a GIN index, built from the words
:func:`~statcommons.library.search.index_text` finds, so both backends split and fold text
alike; facet counts come from one grouped query over the facet rows of the matching items.
Both modes give the same results: queries are reduced to words by
:mod:`~statcommons.library.search`, each matched as a prefix, every word must match, and
facet counts count the current result set (every filter applied).

Every item has a ``revision``, 1 when it is added, one more at each change of its fields or of a
file attached to it (:meth:`Store.update`, a changed curated file). A curator's review names the
revision it judges and is refused when the item changed since (:meth:`Store.review`), so what is
published is what the curator read; a change after a rejection sends the item back to
``submitted``. Reviews, ratings and comments do not change the revision.

The tables are made, or brought up to date, when a store opens the database: Alembic
revisions in :mod:`statcommons.library.migrations`, run by :func:`statcommons.kit.migrations.upgrade`.
"""

from __future__ import annotations

import itertools
import re
import threading
import unicodedata
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.dialects.postgresql import TSVECTOR
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, aliased, mapped_column
from sqlalchemy.pool import StaticPool

from ..kit import migrations as dbschema
from . import files, gsbpm, migrations, search
from .index import Doc, SearchIndex
from .schema import STATUSES, Problem, apply_defaults, validate_item

MAX_PAGE = 100
SORTS = ("relevance", "newest", "title", "rating")
FACETS = ("type", "gsbpm", "topic", "organisation", "language", "licence")
SEARCH_MODES = ("memory", "database")
MAX_COMMENT_LENGTH = 10_000
_LIST_FACETS = {"topic": "topics", "organisation": "organisations", "language": "languages"}
_FTS_WEIGHTS = (10.0, 1.0, 3.0, 5.0)
_TS_CONFIG = "'simple'::regconfig"
# A change of these statuses is reviewed again; others keep theirs (drafts are not yet
# submitted, published and retired items are changed by curators only).
_REVIEWED_AGAIN = {"rejected": "submitted"}


class Base(DeclarativeBase):
    """The declarative base of the library tables."""


class Item(Base):
    """One catalogue item: its JSON (``data``) and the columns search, sorting and visibility use."""

    __tablename__ = "library_items"

    pk: Mapped[int] = mapped_column(sa.Integer, primary_key=True, autoincrement=True)
    id: Mapped[str] = mapped_column(sa.String(80), unique=True)
    type: Mapped[str] = mapped_column(sa.String(20))
    status: Mapped[str] = mapped_column(sa.String(20))
    year: Mapped[int | None] = mapped_column(sa.Integer)
    created: Mapped[str | None] = mapped_column(sa.String(40))
    title: Mapped[str] = mapped_column(sa.Text)
    title_sort: Mapped[str] = mapped_column(sa.String(200))
    summary: Mapped[str] = mapped_column(sa.Text)
    authors_text: Mapped[str] = mapped_column(sa.Text, default="")
    keywords_text: Mapped[str] = mapped_column(sa.Text, default="")
    licence: Mapped[str | None] = mapped_column(sa.Text)
    submitter: Mapped[str | None] = mapped_column(sa.Text)
    origin: Mapped[str] = mapped_column(sa.String(10))
    status_reason: Mapped[str | None] = mapped_column(sa.Text)
    revision: Mapped[int] = mapped_column(sa.Integer, default=1, server_default="1")
    rating_count: Mapped[int] = mapped_column(sa.Integer, default=0)
    rating_avg: Mapped[float | None] = mapped_column(sa.Float)
    data: Mapped[dict] = mapped_column(sa.JSON)
    search_vector: Mapped[Any] = mapped_column(
        "search", sa.Text().with_variant(TSVECTOR(), "postgresql"), nullable=True, deferred=True
    )
    added: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True))

    __table_args__ = (
        sa.Index("ix_library_items_type", "status", "type"),
        sa.Index("ix_library_items_licence", "status", "licence"),
        sa.Index("ix_library_items_newest", "status", "year", "created"),
        sa.Index("ix_library_items_title", "status", "title_sort"),
        sa.Index("ix_library_items_rating", "status", "rating_avg"),
        sa.Index("ix_library_items_submitter", "submitter"),
    )


class Facet(Base):
    """One facet value of an item, such as (``topic``, ``record-linkage``) or (``gsbpm``, ``5``)."""

    __tablename__ = "library_item_facets"

    item_pk: Mapped[int] = mapped_column(sa.ForeignKey("library_items.pk", ondelete="CASCADE"), primary_key=True)
    facet: Mapped[str] = mapped_column(sa.String(20), primary_key=True)
    value: Mapped[str] = mapped_column(sa.Text, primary_key=True)

    __table_args__ = (sa.Index("ix_library_item_facets_value", "facet", "value", "item_pk"),)


class Rating(Base):
    """One reader's stars for one item."""

    __tablename__ = "library_ratings"

    item_pk: Mapped[int] = mapped_column(sa.ForeignKey("library_items.pk", ondelete="CASCADE"), primary_key=True)
    user: Mapped[str] = mapped_column(sa.Text, primary_key=True)
    stars: Mapped[int] = mapped_column(sa.Integer)
    rated: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True))

    __table_args__ = (sa.CheckConstraint("stars BETWEEN 1 AND 5", name="ck_library_ratings_stars"),)


class Comment(Base):
    """A reader's comment on an item, in Markdown; curators hide rather than delete."""

    __tablename__ = "library_comments"

    id: Mapped[int] = mapped_column(sa.Integer, primary_key=True, autoincrement=True)
    item_pk: Mapped[int] = mapped_column(sa.ForeignKey("library_items.pk", ondelete="CASCADE"), index=True)
    author: Mapped[str] = mapped_column(sa.Text)
    text: Mapped[str] = mapped_column(sa.Text)
    hidden: Mapped[bool] = mapped_column(sa.Boolean, default=False)
    created: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True))


class NotFound(LookupError):
    """No item (or comment) has that id."""


Attach = Callable[[sa.Connection, dict], Any]
"""Stores a file with an item, in the transaction that adds or changes it: ``attach(connection, item)``."""


class Conflict(Exception):
    """The item is not as the change expected: it changed since the revision named, or its status differs."""


class InvalidItem(ValueError):
    """An item the schema refuses; ``problems`` lists why."""

    def __init__(self, problems: list[Problem]):
        self.problems = problems
        super().__init__("; ".join(str(problem) for problem in problems))


_SQLITE_DDL = (
    "CREATE VIRTUAL TABLE IF NOT EXISTS library_items_fts USING fts5("
    "title, summary, authors_text, keywords_text, content='library_items', content_rowid='pk', "
    "tokenize='unicode61 remove_diacritics 2', prefix='2 3')",
    "CREATE TRIGGER IF NOT EXISTS library_items_fts_insert AFTER INSERT ON library_items BEGIN "
    "INSERT INTO library_items_fts(rowid, title, summary, authors_text, keywords_text) "
    "VALUES (new.pk, new.title, new.summary, new.authors_text, new.keywords_text); END",
    "CREATE TRIGGER IF NOT EXISTS library_items_fts_delete AFTER DELETE ON library_items BEGIN "
    "INSERT INTO library_items_fts(library_items_fts, rowid, title, summary, authors_text, keywords_text) "
    "VALUES ('delete', old.pk, old.title, old.summary, old.authors_text, old.keywords_text); END",
    "CREATE TRIGGER IF NOT EXISTS library_items_fts_update "
    "AFTER UPDATE OF title, summary, authors_text, keywords_text ON library_items BEGIN "
    "INSERT INTO library_items_fts(library_items_fts, rowid, title, summary, authors_text, keywords_text) "
    "VALUES ('delete', old.pk, old.title, old.summary, old.authors_text, old.keywords_text); "
    "INSERT INTO library_items_fts(rowid, title, summary, authors_text, keywords_text) "
    "VALUES (new.pk, new.title, new.summary, new.authors_text, new.keywords_text); END",
)

_POSTGRESQL_DDL = ("CREATE INDEX IF NOT EXISTS ix_library_items_search ON library_items USING gin (search)",)


def _search_ddl(connection: sa.Connection) -> None:
    """The full-text search the models do not declare: SQLite's FTS5 table and triggers, PostgreSQL's GIN index."""
    for statement in _SQLITE_DDL if connection.dialect.name == "sqlite" else _POSTGRESQL_DDL:
        connection.exec_driver_sql(statement)


SCHEMA = dbschema.Schema(
    metadata=Base.metadata,
    scripts=migrations.FOLDER,
    version_table="library_alembic_version",
    baseline="0001_baseline",
    marker="library_items",
    extra=_search_ddl,
)


def _now() -> datetime:
    return datetime.now(UTC)


def slugify(title: str) -> str:
    """A slug of 3 to 72 characters from a title: ``"Record linkage in R"`` -> ``record-linkage-in-r``."""
    ascii_text = unicodedata.normalize("NFKD", title).encode("ascii", "ignore").decode("ascii").lower()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_text).strip("-")[:72].strip("-")
    if len(slug) < 3:
        slug = f"{slug}-item" if slug else "item"
    return slug


def _text_problems(value: Any, path: str = "") -> list[Problem]:
    """Problems with text no database stores: NUL characters and lone surrogates."""
    if isinstance(value, dict):
        return [p for key, entry in value.items() for p in _text_problems(entry, f"{path}.{key}".lstrip("."))]
    if isinstance(value, list):
        return [p for i, entry in enumerate(value) for p in _text_problems(entry, f"{path}[{i}]")]
    if isinstance(value, str) and search.clean(value) != value:
        return [Problem(path, "contains a NUL character or an invalid Unicode character")]
    return []


def _checked(item: dict) -> dict:
    problems = sorted(set(validate_item(item)) | set(_text_problems(item)))
    if problems:
        raise InvalidItem(problems)
    return item


def _tsvector(row: Item) -> Any:
    """The weighted ``tsvector`` of an item: title A, keywords B, authors C, summary D."""
    vector = None
    for text, weight in ((row.title, "A"), (row.keywords_text, "B"), (row.authors_text, "C"), (row.summary, "D")):
        words = sa.func.to_tsvector(sa.literal_column(_TS_CONFIG), search.index_text(text))
        part = sa.func.setweight(words, sa.literal_column(f"'{weight}'"))
        vector = part if vector is None else vector.op("||")(part)
    return vector


def _tsvector_of_parameters() -> Any:
    """:func:`_tsvector` of folded words given as parameters ``words_title`` and so on, for bulk inserts."""
    vector = None
    for name, weight in (("title", "A"), ("keywords_text", "B"), ("authors_text", "C"), ("summary", "D")):
        words = sa.func.to_tsvector(sa.literal_column(_TS_CONFIG), sa.bindparam(f"words_{name}", type_=sa.Text))
        part = sa.func.setweight(words, sa.literal_column(f"'{weight}'"))
        vector = part if vector is None else vector.op("||")(part)
    return vector


class _BulkRow:
    """An inserted row's columns as attributes, for :func:`_doc`."""

    def __init__(self, pk: int, row: dict):
        self.__dict__.update(row, pk=pk, rating_avg=None)


def _facet_values(item: dict) -> set[tuple[str, str]]:
    values = {("type", item["type"])}
    if item.get("licence"):
        values.add(("licence", item["licence"]))
    for facet, key in _LIST_FACETS.items():
        values.update((facet, value) for value in item.get(key, []))
    for code in item.get("gsbpm", []):
        values.update({("gsbpm", code), ("gsbpm", gsbpm.phase_of(code))})
    return values


def _columns(item: dict) -> dict[str, Any]:
    """The columns of an item row that come from the item itself."""
    return {
        "id": item["id"],
        "type": item["type"],
        "status": item.get("status", "published"),
        "year": item.get("year"),
        "created": item.get("created"),
        "licence": item.get("licence"),
        "title": item["title"],
        "title_sort": item["title"].casefold()[:200],
        "summary": item["summary"],
        "authors_text": " ; ".join(item.get("authors", [])),
        "keywords_text": " ; ".join(item.get("keywords", [])),
        "data": item,
    }


def _doc(row: Any, facets: Iterable[tuple[str, str]]) -> Doc:
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


def _statuses(status: str | Iterable[str] | None) -> list[str] | None:
    statuses = _values(status)
    unknown = [s for s in statuses or [] if s not in STATUSES]
    if unknown:
        raise ValueError(f"{unknown[0]!r} is not a status: use one of {', '.join(STATUSES)}")
    return statuses


def _values(value: str | Iterable[str] | None) -> list[str] | None:
    """A filter value as a list: one value or several (any of them matches); None for no filter."""
    if value is None:
        return None
    listed = [value] if isinstance(value, str) else list(value)
    return [search.clean(str(v)) for v in listed]


def _content(item: dict) -> dict:
    """What a revision is made of: every field but the status and the date of the last change."""
    return {k: v for k, v in item.items() if k not in ("status", "updated")}


def _changed(item_id: str, seen: int, current: int) -> str:
    if seen > current:
        return f"{item_id!r} has no revision {seen} (it is at revision {current}): read it again"
    return f"{item_id!r} changed since revision {seen} (it is at revision {current} now): read it again"


def _rating(row: Any) -> dict:
    average = round(row.rating_avg, 2) if row.rating_avg is not None else None
    return {"average": average, "count": row.rating_count}


def _comment(row: Comment) -> dict:
    return {
        "id": row.id,
        "author": row.author,
        "text": row.text,
        "hidden": row.hidden,
        "created": row.created.isoformat(),
    }


class Store:
    """The catalogue in one database, given as a SQLAlchemy URL; its tables are made or upgraded when it opens.

    ``search`` is ``"memory"`` (an in-memory index, built at the first search) or ``"database"``
    (SQL full-text search); see the module docstring.
    """

    def __init__(self, url: str, search: str = "memory", **engine_options: Any):
        if search not in SEARCH_MODES:
            raise ValueError(f"{search!r} is not a search mode: use one of {', '.join(SEARCH_MODES)}")
        self.url = sa.make_url(url)
        self.dialect = self.url.get_backend_name()
        if self.dialect not in ("sqlite", "postgresql"):
            raise ValueError(f"{self.dialect!r} is not supported: use sqlite:///path or postgresql+psycopg://...")
        self.search_mode = search
        self._memory: SearchIndex | None = None
        # Writes hold this lock from their transaction until the memory index has them, so that
        # the index gets the writes of this process in the order the database committed them.
        self._writing = threading.RLock()
        # While an index is being built: what writes committed since the build began, in commit order
        # (("docs", [Doc, ...]) or ("rating", pk, average, count)), replayed on the new index. Under _writing.
        self._journal: list[tuple] | None = None
        self._building = threading.Lock()  # one build at a time
        self._deferred = False  # searches use SQL until the next build ends (see defer_index)
        self.engine = self._engine(engine_options)
        self._create()

    def _engine(self, options: dict) -> sa.Engine:
        if self.dialect == "sqlite" and self.url.database in (None, "", ":memory:"):
            options = {"poolclass": StaticPool, "connect_args": {"check_same_thread": False}, **options}
        engine = sa.create_engine(self.url, **options)
        if self.dialect == "sqlite":
            event.listen(engine, "connect", _sqlite_pragmas)
        return engine

    def _create(self) -> None:
        # What was done, for the service's log: ["create"], ["stamp 0001_baseline", "0002_item_revision"], [].
        self.migrated = dbschema.upgrade(self.engine, SCHEMA)

    def close(self) -> None:
        """Close every connection of the pool."""
        self.engine.dispose()

    def analyze(self) -> bool:
        """Give SQLite's query planner statistics when it has none or they are far off; whether it made them.

        SQLite keeps no statistics until ``ANALYZE`` runs, and without them it plans a full-text
        search with SQL (``database`` mode, and ``memory`` mode while the index is being built)
        as a scan of every item: 15 to 30 seconds a search at 100,000 items, instead of tens of
        milliseconds. Statistics counted when the catalogue was much smaller mislead it too, so
        they are made again when the number of items is more than twice, or less than half, the
        one they counted. Making them takes about half a second per 100,000 items, holding the
        database's write lock. PostgreSQL keeps its own statistics up to date (autovacuum).
        """
        if self.dialect != "sqlite":
            return False
        with self.engine.connect() as conn:
            items = conn.scalar(sa.select(sa.func.count()).select_from(Item))
            counted = None
            if conn.exec_driver_sql("SELECT 1 FROM sqlite_master WHERE name = 'sqlite_stat1'").first():
                stat = conn.exec_driver_sql(
                    "SELECT stat FROM sqlite_stat1 WHERE tbl = 'library_items' AND idx IS NOT NULL"
                ).scalar()
                counted = int(stat.split()[0]) if stat else None
            if counted is not None and counted / 2 <= items <= counted * 2:
                return False
            conn.exec_driver_sql("ANALYZE")
            conn.commit()
        return True

    # Items

    def _row(self, session: Session, item_id: str, lock: bool = False) -> Item:
        """The row of an item; ``lock`` keeps other transactions from changing it until this one ends."""
        query = sa.select(Item).where(Item.id == search.clean(str(item_id)))
        # PostgreSQL locks the row; SQLite has no row locks, and this process's writes hold _writing.
        row = session.scalar(query.with_for_update() if lock else query)
        if row is None:
            raise NotFound(f"no library item {item_id!r}")
        return row

    def _index(self, session: Session, row: Item, item: dict) -> Doc:
        """Copy what search needs from ``item`` to ``row`` and its facet rows; return it for the memory index."""
        for key, value in _columns(item).items():
            setattr(row, key, value)
        if self.dialect == "postgresql":
            row.search_vector = _tsvector(row)
        if row.pk is None:
            session.add(row)
            session.flush()
        else:
            session.execute(sa.delete(Facet).where(Facet.item_pk == row.pk))
        facets = sorted(_facet_values(item))
        session.add_all(Facet(item_pk=row.pk, facet=f, value=v) for f, v in facets)
        return _doc(row, facets)

    @property
    def _tracking(self) -> bool:
        """Whether writes must hand their changes on: to the memory index, or to the journal of a build."""
        return self._memory is not None or self._journal is not None

    def _indexed(self, docs: list[Doc]) -> None:
        """Give committed changes to the memory index and to a build's journal (else a build reads them)."""
        if not docs:
            return
        if self._journal is not None:
            self._journal.append(("docs", docs))
        if self._memory is not None:
            self._memory.add(docs)

    def _rated(self, pk: int, average: float | None, count: int) -> None:
        """Give a committed rating to the memory index and to a build's journal."""
        if self._journal is not None:
            self._journal.append(("rating", pk, average, count))
        if self._memory is not None:
            self._memory.set_rating(pk, average, count)

    def _free_id(self, session: Session, title: str) -> str:
        base = slugify(title)
        taken = set(session.scalars(sa.select(Item.id).where(Item.id.like(f"{base}%"))))
        n = 1
        candidate = base
        while candidate in taken:
            n += 1
            candidate = f"{base}-{n}"
        return candidate

    def add(self, item: dict, submitter: str | None, status: str = "submitted", attach: Attach | None = None) -> dict:
        """Add an item submitted through the service and return it as stored, at revision 1.

        The service sets ``status`` (submitted unless a curator says otherwise), gives the item
        a unique id made from its title when it has none and a ``created`` date when missing.
        ``attach(connection, item)`` runs in the transaction that adds the item, once it has its
        id, to store a file that comes with it (a notebook): the item never exists without it.
        Raises :class:`InvalidItem` when the schema refuses it, ``ValueError`` when the id is taken.
        """
        if status not in STATUSES:
            raise ValueError(f"{status!r} is not a status: use one of {', '.join(STATUSES)}")
        if not isinstance(item, dict):
            raise InvalidItem(validate_item(item))
        for _ in range(5):
            try:
                return self._insert(item, submitter, status, attach=attach)
            except IntegrityError:
                if "id" in item:
                    raise ValueError(f"library item {item['id']!r} already exists") from None
        raise ValueError("could not find a free id for the item")

    def _insert(
        self, item: dict, submitter: str | None, status: str, origin: str = "api", attach: Attach | None = None
    ) -> dict:
        with self._writing:
            with Session(self.engine) as session, session.begin():
                data = apply_defaults({**item, "status": status})
                if "id" not in data and isinstance(data.get("title"), str):
                    data = {"id": self._free_id(session, data["title"]), **data}
                data.setdefault("created", _now().strftime("%Y-%m-%dT%H:%M:%SZ"))
                _checked(data)
                if session.scalar(sa.select(Item.pk).where(Item.id == data["id"])) is not None:
                    raise ValueError(f"library item {data['id']!r} already exists")
                row = Item(submitter=submitter, origin=origin, rating_count=0, revision=1, added=_now())
                doc = self._index(session, row, data)
                if attach is not None:
                    attach(session.connection(), data)
            self._indexed([doc])
            return data

    def add_many(
        self, items: Iterable[dict], submitter: str | None = None, status: str = "published", validate: bool = True
    ) -> int:
        """Add many items with their ids in one transaction, without a round trip per item; returns how many.

        Meant for loading a catalogue or a benchmark corpus. Each item needs an ``id``; a taken or
        repeated id raises ``ValueError`` and an invalid item :class:`InvalidItem`, and then
        nothing is added. ``validate=False`` skips the schema checks (about 0.3 ms an item), for
        items a program generated and checked itself.
        """
        if status not in STATUSES:
            raise ValueError(f"{status!r} is not a status: use one of {', '.join(STATUSES)}")
        created = _now().strftime("%Y-%m-%dT%H:%M:%SZ")
        insert = sa.insert(Item.__table__)
        if self.dialect == "postgresql":
            insert = insert.values(search=_tsvector_of_parameters())
        insert = insert.returning(Item.__table__.c.pk, sort_by_parameter_order=True)
        docs: list[Doc] = []
        count = 0
        with self._writing:
            try:
                with self.engine.begin() as conn:
                    pending = iter(items)
                    while chunk := list(itertools.islice(pending, 2_000)):
                        datas = [self._bulk_item(item, status, created, validate) for item in chunk]
                        rows = [self._bulk_row(data, submitter) for data in datas]
                        pks = conn.execute(insert, rows).scalars().all()
                        facets = [sorted(_facet_values(data)) for data in datas]
                        facet_rows = [
                            {"item_pk": pk, "facet": f, "value": v}
                            for pk, pairs in zip(pks, facets, strict=True)
                            for f, v in pairs
                        ]
                        conn.execute(sa.insert(Facet.__table__), facet_rows)
                        if self._tracking:
                            docs += [
                                _doc(_BulkRow(pk, row), pairs) for pk, row, pairs in zip(pks, rows, facets, strict=True)
                            ]
                        count += len(rows)
            except IntegrityError:
                raise ValueError("an item id is taken or given twice; nothing was added") from None
            self._indexed(docs)
        return count

    @staticmethod
    def _bulk_item(item: dict, status: str, created: str, validate: bool) -> dict:
        if not isinstance(item, dict):
            raise InvalidItem(validate_item(item))
        data = apply_defaults({**item, "status": status})
        data.setdefault("created", created)
        if validate:
            _checked(data)
        elif not isinstance(data.get("id"), str):
            raise InvalidItem([Problem("id", "is required")])
        return data

    def _bulk_row(self, data: dict, submitter: str | None) -> dict:
        row = {**_columns(data), "submitter": submitter, "origin": "api", "rating_count": 0, "revision": 1}
        row["added"] = _now()
        if self.dialect == "postgresql":
            for name in ("title", "summary", "authors_text", "keywords_text"):
                row[f"words_{name}"] = search.index_text(row[name])
        return row

    def get(self, item_id: str) -> dict:
        """The item with that id; raises :class:`NotFound`."""
        with Session(self.engine) as session:
            return self._row(session, item_id).data

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
        if status is not None and status not in STATUSES:
            raise ValueError(f"{status!r} is not a status: use one of {', '.join(STATUSES)}")
        with self._writing:
            with Session(self.engine) as session, session.begin():
                row = self._row(session, item_id, lock=True)
                if from_statuses is not None and row.status not in from_statuses:
                    raise Conflict(f"{row.id!r} is {row.status}: it can be changed only when it is "
                                   f"{' or '.join(from_statuses)}")  # fmt: skip
                data = {**row.data, **changes}
                data = _checked({k: v for k, v in data.items() if v is not None})
                revised = attach is not None or _content(data) != _content(row.data)
                new_status = status or (_REVIEWED_AGAIN.get(row.status, row.status) if revised else row.status)
                if new_status != row.status:
                    data["status"] = new_status
                    row.status_reason = None
                if revised:
                    row.revision += 1
                doc = self._index(session, row, data)
                if attach is not None:
                    attach(session.connection(), data)
            self._indexed([doc])
            return data

    def set_status(self, item_id: str, status: str, reason: str | None = None) -> dict:
        """Move an item to ``status``, keeping the reason given, whatever its revision (see :meth:`review`)."""
        if status not in STATUSES:
            raise ValueError(f"{status!r} is not a status: use one of {', '.join(STATUSES)}")
        with self._writing:
            with Session(self.engine) as session, session.begin():
                row = self._row(session, item_id)
                data = {**row.data, "status": status}
                doc = self._index(session, row, data)
                row.status_reason = reason
            self._indexed([doc])
            return data

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
        if status not in STATUSES:
            raise ValueError(f"{status!r} is not a status: use one of {', '.join(STATUSES)}")
        with self._writing:
            with Session(self.engine) as session, session.begin():
                row = self._row(session, item_id, lock=True)
                if row.revision != revision:
                    raise Conflict(_changed(row.id, revision, row.revision))
                if from_statuses is not None and row.status not in from_statuses:
                    raise Conflict(f"{row.id!r} is {row.status}: only items that are "
                                   f"{' or '.join(from_statuses)} can be {status}")  # fmt: skip
                data = {**row.data, "status": status, "updated": _now().strftime("%Y-%m-%dT%H:%M:%SZ")}
                doc = self._index(session, row, data)
                row.status_reason = reason
            self._indexed([doc])
            return data

    def revision(self, item_id: str) -> int:
        """The item's revision: 1 when added, one more at each change of its fields or files."""
        with Session(self.engine) as session:
            return self._row(session, item_id).revision

    def status_reason(self, item_id: str) -> str | None:
        """Why the item has its status, as given to :meth:`set_status`."""
        with Session(self.engine) as session:
            return self._row(session, item_id).status_reason

    def load_folder(self, path) -> dict:
        """Load the curated items of a folder (see :func:`files.load_folder`); running it again changes nothing.

        A new file adds its item, a changed file updates it. Returns the ids ``added``, ``updated``
        and ``unchanged``, and the folder's ``problems`` (items with problems are not loaded).
        """
        items, problems = files.load_folder(path)
        report: dict[str, list[str]] = {"added": [], "updated": [], "unchanged": [], "problems": problems}
        docs: list[Doc] = []
        with self._writing:
            with Session(self.engine) as session, session.begin():
                rows = self._rows(session, [item["id"] for item in items])
                for item in items:
                    row = rows.get(item["id"])
                    problems = _text_problems(item)
                    if problems:
                        report["problems"] += [f"{item['id']}: {problem}" for problem in problems]
                    elif row is None:
                        docs.append(self._index(session, Item(origin="folder", rating_count=0, added=_now()), item))
                        report["added"].append(item["id"])
                    elif row.data != item:
                        row.revision += 1
                        docs.append(self._index(session, row, item))
                        report["updated"].append(item["id"])
                    else:
                        report["unchanged"].append(item["id"])
            self._indexed(docs)
        return report

    def _rows(self, session: Session, ids: list[str]) -> dict[str, Item]:
        rows: dict[str, Item] = {}
        for start in range(0, len(ids), 500):
            chunk = sa.select(Item).where(Item.id.in_(ids[start : start + 500]))
            rows.update((row.id, row) for row in session.scalars(chunk))
        return rows

    def export(self, origin: str | None = None) -> list[dict]:
        """Every item, sorted by id, as :func:`files.dump_item` writes it.

        With ``origin``, only the items loaded from the curated folder (``"folder"``) or only
        those that came through the service (``"api"``).
        """
        if origin not in (None, "folder", "api"):
            raise ValueError(f"{origin!r} is not an origin: use 'folder' or 'api'")
        query = sa.select(Item.data).order_by(Item.id)
        if origin is not None:
            query = query.where(Item.origin == origin)
        with Session(self.engine) as session:
            return list(session.scalars(query))

    def repository_origins(self) -> list[str]:
        """``scheme://host[:port]`` of every published notebook kept in a git repository, sorted.

        Servers clone only from these (and the origins an administrator allows): a published
        item's repository has been through a curator's review.
        """
        query = sa.select(Item.data).where(Item.status == "published", Item.type == "notebook")
        found = set()
        with Session(self.engine) as session:
            for data in session.scalars(query):
                repository = (data.get("notebook") or {}).get("repository")
                if not isinstance(repository, str):
                    continue
                parts = urlsplit(repository)
                if parts.scheme in ("http", "https") and parts.hostname:
                    found.add(f"{parts.scheme}://{parts.netloc.rsplit('@', 1)[-1]}".lower())
        return sorted(found)

    # Ratings and comments

    def rate(self, item_id: str, user: str, stars: int) -> dict:
        """Record a reader's 1 to 5 stars (a new rating replaces theirs); returns the ``average`` and ``count``."""
        if isinstance(stars, bool) or not isinstance(stars, int) or not 1 <= stars <= 5:
            raise ValueError(f"{stars!r} is not a rating: give 1 to 5 stars")
        user = search.clean(str(user))
        if not user:
            raise ValueError("a rating needs a user")
        with self._writing:
            with Session(self.engine) as session, session.begin():
                row = self._row(session, item_id)
                existing = session.get(Rating, (row.pk, user))
                if existing is None:
                    session.add(Rating(item_pk=row.pk, user=user, stars=stars, rated=_now()))
                else:
                    existing.stars, existing.rated = stars, _now()
                session.flush()
                count, average = session.execute(
                    sa.select(sa.func.count(), sa.func.avg(Rating.stars)).where(Rating.item_pk == row.pk)
                ).one()
                row.rating_count, row.rating_avg = count, float(average) if average is not None else None
                pk, average, count = row.pk, row.rating_avg, row.rating_count
                rating = _rating(row)
            self._rated(pk, average, count)
            return rating

    def rating(self, item_id: str) -> dict:
        """The ``average`` stars (None before the first rating) and ``count`` of ratings."""
        with Session(self.engine) as session:
            return _rating(self._row(session, item_id))

    def add_comment(self, item_id: str, user: str, text: str) -> dict:
        """Add a reader's Markdown comment; it is stored as written (render it escaped)."""
        text = search.clean(str(text)).strip()
        if not text or len(text) > MAX_COMMENT_LENGTH:
            raise ValueError(f"a comment has 1 to {MAX_COMMENT_LENGTH} characters")
        with Session(self.engine) as session, session.begin():
            row = self._row(session, item_id)
            comment = Comment(item_pk=row.pk, author=search.clean(str(user)), text=text, hidden=False, created=_now())
            session.add(comment)
            session.flush()
            return _comment(comment)

    def comments(self, item_id: str, include_hidden: bool = False) -> list[dict]:
        """The comments of an item, oldest first; hidden ones only when asked (for curators)."""
        with Session(self.engine) as session:
            row = self._row(session, item_id)
            query = sa.select(Comment).where(Comment.item_pk == row.pk).order_by(Comment.created, Comment.id)
            if not include_hidden:
                query = query.where(Comment.hidden.is_(False))
            return [_comment(c) for c in session.scalars(query)]

    def hide_comment(self, comment_id: int, hidden: bool = True) -> dict:
        """Hide a comment (or show it again with ``hidden=False``)."""
        with Session(self.engine) as session, session.begin():
            comment = session.get(Comment, int(comment_id))
            if comment is None:
                raise NotFound(f"no comment {comment_id!r}")
            comment.hidden = hidden
            return _comment(comment)

    # Search

    def _text_match(self, words: list[str]) -> tuple[list, Any]:
        """The conditions matching ``words`` and the score to sort by (lower is better)."""
        if self.dialect == "sqlite":
            fts = sa.literal_column("library_items_fts")
            matched = (
                sa.select(sa.literal_column("rowid").label("pk"), sa.func.bm25(fts, *_FTS_WEIGHTS).label("score"))
                .select_from(sa.table("library_items_fts"))
                .where(fts.op("MATCH")(search.fts5_query(words)))
                .subquery("matched")
            )
            return [Item.pk == matched.c.pk], matched.c.score
        lexemes = search.folded(words)
        if not lexemes:
            return [sa.false()], None
        query = sa.func.to_tsquery(sa.literal_column(_TS_CONFIG), search.tsquery(lexemes))
        return [Item.search_vector.op("@@")(query)], -sa.func.ts_rank(Item.search_vector, query)

    def _conditions(self, filters: dict, statuses: list[str] | None, visible_to: dict | None) -> list:
        conditions = []
        if statuses is not None:
            conditions.append(Item.status.in_(statuses))
        viewer = visible_to or {}
        if not viewer.get("curator"):
            visible = Item.status == "published"
            if viewer.get("user"):
                visible = sa.or_(visible, Item.submitter == search.clean(str(viewer["user"])))
            conditions.append(visible)
        for facet, value in filters.items():
            values = _values(value)
            if values is None:
                continue
            if facet == "type":
                conditions.append(Item.type.in_(values))
            elif facet == "licence":
                conditions.append(Item.licence.in_(values))
            else:
                other = aliased(Facet)
                on_facet = sa.and_(other.item_pk == Item.pk, other.facet == facet, other.value.in_(values))
                conditions.append(sa.exists().where(on_facet).correlate(Item))
        return conditions

    def _order(self, sort: str, score: Any) -> list:
        if sort == "relevance" and score is not None:
            return [score, Item.title_sort, Item.pk]
        if sort == "title":
            return [Item.title_sort, Item.pk]
        if sort == "rating":
            return [Item.rating_avg.desc().nulls_last(), Item.rating_count.desc(), Item.title_sort, Item.pk]
        return [Item.year.desc().nulls_last(), Item.created.desc().nulls_last(), Item.pk.desc()]

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
        submitted. ``limit`` is capped at :data:`MAX_PAGE`.

        Each result is ``{"item": ..., "rating": {"average", "count"}, "highlight": {"title", "summary"},
        "revision": N}``, the highlights being HTML-escaped text whose only markup is ``<mark>``
        around the words found. ``searched`` is ``"memory"`` or ``"database"``: how this search was
        answered (with SQL in ``memory`` mode while the index is being built).
        """
        if sort not in SORTS:
            raise ValueError(f"{sort!r} is not a sort order: use one of {', '.join(SORTS)}")
        limit, offset = min(max(int(limit), 1), MAX_PAGE), max(int(offset), 0)
        filters = {"type": type, "gsbpm": gsbpm, "topic": topic, "organisation": organisation}
        filters.update({"language": language, "licence": licence})
        statuses = _statuses(status)
        owner = search.clean(str(submitter)) if submitter is not None else None
        words = search.terms(q)
        if self.search_mode == "memory":
            index = self._search_index()
            if index is not None:
                args = (words, filters, statuses, visible_to, owner, sort, limit, offset, facets)
                return self._search_memory(index, *args)
        conditions = self._conditions(filters, statuses, visible_to)
        if owner is not None:
            conditions.append(Item.submitter == owner)
        score = None
        if words:
            matched, score = self._text_match(words)
            conditions += matched
        matching = sa.select(Item.pk).where(*conditions)
        page = (
            sa.select(Item.data, Item.rating_avg, Item.rating_count, Item.revision)
            .where(*conditions)
            .order_by(*self._order(sort, score))
            .limit(limit)
            .offset(offset)
        )
        with self.engine.connect() as conn:
            rows = conn.execute(page).all()
            total = conn.scalar(sa.select(sa.func.count()).select_from(matching.subquery()))
            counts = self._facet_counts(conn, matching) if facets else None
        result: dict[str, Any] = {
            "items": [self._result(row, words) for row in rows],
            "total": total,
            "searched": "database",
        }
        if counts is not None:
            result["facets"] = counts
        return result

    def _search_memory(
        self, index: SearchIndex, words: list[str], filters: dict, statuses: list[str] | None, visible_to: dict | None,
        submitter: str | None, sort: str, limit: int, offset: int, facets: bool,
    ) -> dict:  # fmt: skip
        viewer = visible_to or {}
        user = search.clean(str(viewer["user"])) if viewer.get("user") else None
        wanted = {facet: _values(value) for facet, value in filters.items() if value is not None}
        hits = index.search(
            words, filters=wanted, statuses=statuses, user=user, curator=bool(viewer.get("curator")),
            submitter=submitter, sort=sort, offset=offset, limit=limit, facets=facets,
        )  # fmt: skip
        rows = {}
        if hits.pks:
            page = sa.select(Item.pk, Item.data, Item.rating_avg, Item.rating_count, Item.revision)
            page = page.where(Item.pk.in_(hits.pks))
            with self.engine.connect() as conn:
                rows = {row.pk: row for row in conn.execute(page)}
        result: dict[str, Any] = {
            "items": [self._result(rows[pk], words) for pk in hits.pks if pk in rows],
            "total": hits.total,
            "searched": "memory",
        }
        if hits.facets is not None:
            result["facets"] = hits.facets
        return result

    def _search_index(self) -> SearchIndex | None:
        """The memory index to search, or None while one is being built: SQL answers meanwhile.

        When no index is built and no build is under way (nor announced with :meth:`defer_index`),
        this search builds it and waits for it.
        """
        index = self._memory
        if index is None and not self._deferred and self._building.acquire(blocking=False):
            try:
                if self._memory is None:
                    self._build()
            finally:
                self._building.release()
            index = self._memory
        return index

    @property
    def index_ready(self) -> bool:
        """Whether searches use the memory index: False in ``database`` mode and until the index is built."""
        return self._memory is not None

    def defer_index(self) -> None:
        """Answer searches with SQL until the next :meth:`reindex` has built the memory index.

        For a service that builds the index in another thread while it serves: without this, a
        search that came before that thread began would build the index itself, and wait for it.
        """
        if self.search_mode == "memory" and self._memory is None:
            self._deferred = True

    def reindex(self) -> int:
        """Build the in-memory search index from the database now; returns how many items it holds.

        With ``search="memory"`` the index is otherwise built at the first search. Call this at
        service start, in a thread of its own, to build it while serving, or after another process
        changed the database. Does nothing with ``search="database"``.

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
        if self.search_mode != "memory":
            return 0
        with self._building:
            return self._build()

    def _build(self) -> int:
        """Build the memory index from the database and a journal of the writes made meanwhile (see :meth:`reindex`)."""
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
                if entry[0] == "docs":
                    index.add(entry[1])
                else:
                    index.set_rating(*entry[1:])
            self._memory, self._deferred = index, False
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
        with self.engine.connect() as conn:
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

    def _result(self, row: Any, words: list[str]) -> dict:
        item = row.data
        highlight = {"title": search.highlight(item["title"], words), "summary": search.snippet(item["summary"], words)}
        return {"item": item, "rating": _rating(row), "highlight": highlight, "revision": row.revision}

    def _facet_counts(self, conn: sa.Connection, matching: sa.Select) -> dict[str, dict[str, int]]:
        query = (
            sa.select(Facet.facet, Facet.value, sa.func.count())
            .where(Facet.item_pk.in_(matching))
            .group_by(Facet.facet, Facet.value)
        )
        counts: dict[str, dict[str, int]] = {facet: {} for facet in FACETS}
        rows = sorted(conn.execute(query), key=lambda r: (-r[2], r[1]))
        for facet, value, count in rows:
            counts[facet][value] = count
        return counts


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys = ON")
    cursor.execute("PRAGMA journal_mode = WAL")
    cursor.execute("PRAGMA synchronous = NORMAL")
    cursor.close()
