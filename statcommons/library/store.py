"""The library catalogue's database: items, ratings and comments, and searching them.

:class:`Store` keeps items in SQLite (``sqlite:///path``, the embedded default) or
PostgreSQL (``postgresql+psycopg://...``). Each item is kept as the JSON that
:func:`~statcommons.library.schema.validate_item` accepted, plus the columns search needs:
type, status, year, title, summary, authors, keywords and licence on the item row, and one
row per facet value (type, licence, topic, organisation, language, GSBPM code) in
``library_item_facets``. A GSBPM sub-process ``5.1`` is also recorded under its phase
``5``, so filtering by a phase finds its sub-processes.

Full text covers title, summary, authors and keywords: an FTS5 table kept in sync by
triggers on SQLite; on PostgreSQL a weighted ``tsvector`` column with a GIN index, built from
the words :func:`~statcommons.library.search.index_text` finds, so both backends split and fold
text alike. Queries are reduced to words by :mod:`~statcommons.library.search`, each matched as
a prefix.
Facet counts come from one grouped query over the facet rows of the matching items, and
count the current result set (every filter applied).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.dialects.postgresql import TSVECTOR
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, aliased, mapped_column
from sqlalchemy.pool import StaticPool

from . import files, gsbpm, search
from .schema import STATUSES, Problem, apply_defaults, validate_item

MAX_PAGE = 100
SORTS = ("relevance", "newest", "title", "rating")
FACETS = ("type", "gsbpm", "topic", "organisation", "language", "licence")
MAX_COMMENT_LENGTH = 10_000
_LIST_FACETS = {"topic": "topics", "organisation": "organisations", "language": "languages"}
_FTS_WEIGHTS = (10.0, 1.0, 3.0, 5.0)
_TS_CONFIG = "'simple'::regconfig"


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


def _facet_values(item: dict) -> set[tuple[str, str]]:
    values = {("type", item["type"])}
    if item.get("licence"):
        values.add(("licence", item["licence"]))
    for facet, key in _LIST_FACETS.items():
        values.update((facet, value) for value in item.get(key, []))
    for code in item.get("gsbpm", []):
        values.update({("gsbpm", code), ("gsbpm", gsbpm.phase_of(code))})
    return values


def _values(value: str | Iterable[str] | None) -> list[str] | None:
    """A filter value as a list: one value or several (any of them matches); None for no filter."""
    if value is None:
        return None
    listed = [value] if isinstance(value, str) else list(value)
    return [search.clean(str(v)) for v in listed]


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
    """The catalogue in one database, given as a SQLAlchemy URL; tables are created when missing."""

    def __init__(self, url: str, **engine_options: Any):
        self.url = sa.make_url(url)
        self.dialect = self.url.get_backend_name()
        if self.dialect not in ("sqlite", "postgresql"):
            raise ValueError(f"{self.dialect!r} is not supported: use sqlite:///path or postgresql+psycopg://...")
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
        Base.metadata.create_all(self.engine)
        with self.engine.begin() as conn:
            for statement in _SQLITE_DDL if self.dialect == "sqlite" else _POSTGRESQL_DDL:
                conn.exec_driver_sql(statement)

    def close(self) -> None:
        """Close every connection of the pool."""
        self.engine.dispose()

    # Items

    def _row(self, session: Session, item_id: str) -> Item:
        row = session.scalar(sa.select(Item).where(Item.id == search.clean(str(item_id))))
        if row is None:
            raise NotFound(f"no library item {item_id!r}")
        return row

    def _index(self, session: Session, row: Item, item: dict) -> None:
        """Copy what search needs from ``item`` to ``row`` and its facet rows."""
        row.id, row.type, row.status = item["id"], item["type"], item.get("status", "published")
        row.year, row.created, row.licence = item.get("year"), item.get("created"), item.get("licence")
        row.title, row.summary = item["title"], item["summary"]
        row.title_sort = item["title"].casefold()[:200]
        row.authors_text = " ; ".join(item.get("authors", []))
        row.keywords_text = " ; ".join(item.get("keywords", []))
        row.data = item
        if self.dialect == "postgresql":
            row.search_vector = _tsvector(row)
        if row.pk is None:
            session.add(row)
            session.flush()
        else:
            session.execute(sa.delete(Facet).where(Facet.item_pk == row.pk))
        session.add_all(Facet(item_pk=row.pk, facet=f, value=v) for f, v in sorted(_facet_values(item)))

    def _free_id(self, session: Session, title: str) -> str:
        base = slugify(title)
        taken = set(session.scalars(sa.select(Item.id).where(Item.id.like(f"{base}%"))))
        n = 1
        candidate = base
        while candidate in taken:
            n += 1
            candidate = f"{base}-{n}"
        return candidate

    def add(self, item: dict, submitter: str | None, status: str = "submitted") -> dict:
        """Add an item submitted through the service and return it as stored.

        The service sets ``status`` (submitted unless a curator says otherwise), gives the item
        a unique id made from its title when it has none and a ``created`` date when missing.
        Raises :class:`InvalidItem` when the schema refuses it, ``ValueError`` when the id is taken.
        """
        if status not in STATUSES:
            raise ValueError(f"{status!r} is not a status: use one of {', '.join(STATUSES)}")
        if not isinstance(item, dict):
            raise InvalidItem(validate_item(item))
        for _ in range(5):
            try:
                return self._insert(item, submitter, status)
            except IntegrityError:
                if "id" in item:
                    raise ValueError(f"library item {item['id']!r} already exists") from None
        raise ValueError("could not find a free id for the item")

    def _insert(self, item: dict, submitter: str | None, status: str, origin: str = "api") -> dict:
        with Session(self.engine) as session, session.begin():
            data = apply_defaults({**item, "status": status})
            if "id" not in data and isinstance(data.get("title"), str):
                data = {"id": self._free_id(session, data["title"]), **data}
            data.setdefault("created", _now().strftime("%Y-%m-%dT%H:%M:%SZ"))
            _checked(data)
            if session.scalar(sa.select(Item.pk).where(Item.id == data["id"])) is not None:
                raise ValueError(f"library item {data['id']!r} already exists")
            self._index(session, Item(submitter=submitter, origin=origin, rating_count=0, added=_now()), data)
            return data

    def get(self, item_id: str) -> dict:
        """The item with that id; raises :class:`NotFound`."""
        with Session(self.engine) as session:
            return self._row(session, item_id).data

    def update(self, item_id: str, changes: dict) -> dict:
        """Change fields of an item (a value of None removes the field) and return it.

        The id cannot change and the status changes only through :meth:`set_status`.
        """
        if changes.get("id", item_id) != item_id:
            raise ValueError("the id of an item cannot change")
        if "status" in changes:
            raise ValueError("change the status with set_status")
        with Session(self.engine) as session, session.begin():
            row = self._row(session, item_id)
            data = {**row.data, **changes}
            data = _checked({k: v for k, v in data.items() if v is not None})
            self._index(session, row, data)
            return data

    def set_status(self, item_id: str, status: str, reason: str | None = None) -> dict:
        """Move an item to ``status`` (a curator publishing or rejecting it), keeping the reason given."""
        if status not in STATUSES:
            raise ValueError(f"{status!r} is not a status: use one of {', '.join(STATUSES)}")
        with Session(self.engine) as session, session.begin():
            row = self._row(session, item_id)
            data = {**row.data, "status": status}
            self._index(session, row, data)
            row.status_reason = reason
            return data

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
        with Session(self.engine) as session, session.begin():
            rows = self._rows(session, [item["id"] for item in items])
            for item in items:
                row = rows.get(item["id"])
                problems = _text_problems(item)
                if problems:
                    report["problems"] += [f"{item['id']}: {problem}" for problem in problems]
                elif row is None:
                    self._index(session, Item(origin="folder", rating_count=0, added=_now()), item)
                    report["added"].append(item["id"])
                elif row.data != item:
                    self._index(session, row, item)
                    report["updated"].append(item["id"])
                else:
                    report["unchanged"].append(item["id"])
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

    # Ratings and comments

    def rate(self, item_id: str, user: str, stars: int) -> dict:
        """Record a reader's 1 to 5 stars (a new rating replaces theirs); returns the ``average`` and ``count``."""
        if isinstance(stars, bool) or not isinstance(stars, int) or not 1 <= stars <= 5:
            raise ValueError(f"{stars!r} is not a rating: give 1 to 5 stars")
        user = search.clean(str(user))
        if not user:
            raise ValueError("a rating needs a user")
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
            return _rating(row)

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

    def _conditions(self, filters: dict, status, visible_to: dict | None) -> list:
        conditions = []
        statuses = _values(status)
        if statuses is not None:
            unknown = [s for s in statuses if s not in STATUSES]
            if unknown:
                raise ValueError(f"{unknown[0]!r} is not a status: use one of {', '.join(STATUSES)}")
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
        """Find items: ``{"items": [...], "total": N, "facets": {facet: {value: count}}}``.

        ``q`` is free text, each word matched as a prefix in title, summary, authors or keywords;
        a ``q`` without letters or digits filters nothing. Each filter takes a value or a list of
        values (any matches); a GSBPM phase such as ``"5"`` matches its sub-processes. ``status``
        (None for any) only shows unpublished items to their submitter or a curator, named by
        ``visible_to={"user": "ana", "curator": False}``; ``submitter`` keeps only the items someone
        submitted. ``limit`` is capped at :data:`MAX_PAGE`.

        Each result is ``{"item": ..., "rating": {"average", "count"}, "highlight": {"title", "summary"}}``,
        the highlights being HTML-escaped text whose only markup is ``<mark>`` around the words found.
        """
        if sort not in SORTS:
            raise ValueError(f"{sort!r} is not a sort order: use one of {', '.join(SORTS)}")
        limit, offset = min(max(int(limit), 1), MAX_PAGE), max(int(offset), 0)
        filters = {"type": type, "gsbpm": gsbpm, "topic": topic, "organisation": organisation}
        filters.update({"language": language, "licence": licence})
        conditions = self._conditions(filters, status, visible_to)
        if submitter is not None:
            conditions.append(Item.submitter == search.clean(str(submitter)))
        words = search.terms(q)
        score = None
        if words:
            matched, score = self._text_match(words)
            conditions += matched
        matching = sa.select(Item.pk).where(*conditions)
        page = (
            sa.select(Item.data, Item.rating_avg, Item.rating_count)
            .where(*conditions)
            .order_by(*self._order(sort, score))
            .limit(limit)
            .offset(offset)
        )
        with self.engine.connect() as conn:
            rows = conn.execute(page).all()
            total = conn.scalar(sa.select(sa.func.count()).select_from(matching.subquery()))
            counts = self._facet_counts(conn, matching) if facets else None
        result: dict[str, Any] = {"items": [self._result(row, words) for row in rows], "total": total}
        if counts is not None:
            result["facets"] = counts
        return result

    def _result(self, row: Any, words: list[str]) -> dict:
        item = row.data
        highlight = {"title": search.highlight(item["title"], words), "summary": search.snippet(item["summary"], words)}
        return {"item": item, "rating": _rating(row), "highlight": highlight}

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
