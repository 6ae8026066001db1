"""SQL full-text search: SQLite's FTS5 table or PostgreSQL's weighted ``tsvector``, and the DDL they need.

Full text covers title, summary, authors and keywords. On SQLite it is an external-content
FTS5 table kept in sync with ``library_items`` by triggers, ranked with ``bm25`` and the
field weights of :mod:`statcommons.library.search`. On PostgreSQL it is the ``search``
column of ``library_items``, a ``tsvector`` with a GIN index that the store writes with each
item (:func:`tsvector`), built from the words :func:`~statcommons.library.search.index_text`
finds, so that both backends split and fold text alike; the heaviest field is weight ``A``,
the next ``B`` and so on. Facet counts come from one grouped query over the facet rows of the
matching items.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import aliased

from ... import search
from ...search import FACETS, FIELD_WEIGHTS
from ..tables import Facet, Item
from . import Page, Query

COLUMNS = ("title", "summary", "authors_text", "keywords_text")
"""The item columns of :data:`~statcommons.library.search.FIELDS`, in that order: the FTS5 table's columns."""
_TS_CONFIG = "'simple'::regconfig"
# (column, weight) for PostgreSQL, heaviest first: title A, keywords B, authors C, summary D.
_TS_WEIGHTS = tuple(
    (COLUMNS[field], letter)
    for field, letter in zip(sorted(range(len(COLUMNS)), key=lambda f: -FIELD_WEIGHTS[f]), "ABCD", strict=True)
)


def _fts_row(prefix: str) -> str:
    return ", ".join(f"{prefix}{column}" for column in COLUMNS)


_SQLITE_DDL = (
    f"CREATE VIRTUAL TABLE IF NOT EXISTS library_items_fts USING fts5({_fts_row('')}, "
    "content='library_items', content_rowid='pk', tokenize='unicode61 remove_diacritics 2', prefix='2 3')",
    "CREATE TRIGGER IF NOT EXISTS library_items_fts_insert AFTER INSERT ON library_items BEGIN "
    f"INSERT INTO library_items_fts(rowid, {_fts_row('')}) VALUES (new.pk, {_fts_row('new.')}); END",
    "CREATE TRIGGER IF NOT EXISTS library_items_fts_delete AFTER DELETE ON library_items BEGIN "
    f"INSERT INTO library_items_fts(library_items_fts, rowid, {_fts_row('')}) "
    f"VALUES ('delete', old.pk, {_fts_row('old.')}); END",
    "CREATE TRIGGER IF NOT EXISTS library_items_fts_update "
    f"AFTER UPDATE OF {_fts_row('')} ON library_items BEGIN "
    f"INSERT INTO library_items_fts(library_items_fts, rowid, {_fts_row('')}) "
    f"VALUES ('delete', old.pk, {_fts_row('old.')}); "
    f"INSERT INTO library_items_fts(rowid, {_fts_row('')}) VALUES (new.pk, {_fts_row('new.')}); END",
)

_POSTGRESQL_DDL = ("CREATE INDEX IF NOT EXISTS ix_library_items_search ON library_items USING gin (search)",)


def ddl(connection: sa.Connection) -> None:
    """The full-text search the models do not declare: SQLite's FTS5 table and triggers, PostgreSQL's GIN index."""
    for statement in _SQLITE_DDL if connection.dialect.name == "sqlite" else _POSTGRESQL_DDL:
        connection.exec_driver_sql(statement)


def _weighted(texts: dict[str, Any]) -> Any:
    """The ``tsvector`` of the texts of each column (SQL expressions), weighted and joined heaviest first."""
    vector = None
    for column, weight in _TS_WEIGHTS:
        words = sa.func.to_tsvector(sa.literal_column(_TS_CONFIG), texts[column])
        part = sa.func.setweight(words, sa.literal_column(f"'{weight}'"))
        vector = part if vector is None else vector.op("||")(part)
    return vector


def tsvector(row: Item) -> Any:
    """The weighted ``tsvector`` of an item row, for PostgreSQL."""
    return _weighted({column: search.index_text(getattr(row, column)) for column in COLUMNS})


def tsvector_of_parameters() -> Any:
    """:func:`tsvector` of folded words given as parameters ``words_title`` and so on, for bulk inserts."""
    return _weighted({column: sa.bindparam(f"words_{column}", type_=sa.Text) for column in COLUMNS})


def words_parameters(row: dict) -> dict[str, str]:
    """The parameters :func:`tsvector_of_parameters` needs, from the columns of an item row."""
    return {f"words_{column}": search.index_text(row[column]) for column in COLUMNS}


class SqlSearch:
    """Searches with SQL in the database (see the module docstring)."""

    name = "database"

    def __init__(self, db: sa.Engine):
        self.db = db
        self.dialect = db.dialect.name

    def search(self, query: Query) -> Page:
        conditions = self._conditions(query)
        score = None
        if query.words:
            matched, score = self._text_match(query.words)
            conditions += matched
        matching = sa.select(Item.pk).where(*conditions)
        page = (
            sa.select(Item.data, Item.rating_avg, Item.rating_count, Item.revision)
            .where(*conditions)
            .order_by(*self._order(query.sort, score))
            .limit(query.limit)
            .offset(query.offset)
        )
        with self.db.connect() as conn:
            rows = conn.execute(page).all()
            total = conn.scalar(sa.select(sa.func.count()).select_from(matching.subquery()))
            counts = self._facet_counts(conn, matching) if query.facets else None
        return Page(rows, total, counts)

    def _text_match(self, words: list[str]) -> tuple[list, Any]:
        """The conditions matching ``words`` and the score to sort by (lower is better)."""
        if self.dialect == "sqlite":
            fts = sa.literal_column("library_items_fts")
            matched = (
                sa.select(sa.literal_column("rowid").label("pk"), sa.func.bm25(fts, *FIELD_WEIGHTS).label("score"))
                .select_from(sa.table("library_items_fts"))
                .where(fts.op("MATCH")(search.fts5_query(words)))
                .subquery("matched")
            )
            return [Item.pk == matched.c.pk], matched.c.score
        lexemes = search.folded(words)
        if not lexemes:
            return [sa.false()], None
        tsquery = sa.func.to_tsquery(sa.literal_column(_TS_CONFIG), search.tsquery(lexemes))
        return [Item.search_vector.op("@@")(tsquery)], -sa.func.ts_rank(Item.search_vector, tsquery)

    @staticmethod
    def _conditions(query: Query) -> list:
        conditions = []
        if query.statuses is not None:
            conditions.append(Item.status.in_(query.statuses))
        if not query.curator:
            visible = Item.status == "published"
            if query.user is not None:
                visible = sa.or_(visible, Item.submitter == query.user)
            conditions.append(visible)
        for facet, values in query.filters.items():
            if facet == "type":
                conditions.append(Item.type.in_(values))
            elif facet == "licence":
                conditions.append(Item.licence.in_(values))
            else:
                other = aliased(Facet)
                on_facet = sa.and_(other.item_pk == Item.pk, other.facet == facet, other.value.in_(values))
                conditions.append(sa.exists().where(on_facet).correlate(Item))
        if query.submitter is not None:
            conditions.append(Item.submitter == query.submitter)
        return conditions

    @staticmethod
    def _order(sort: str, score: Any) -> list:
        if sort == "relevance" and score is not None:
            return [score, Item.title_sort, Item.pk]
        if sort == "title":
            return [Item.title_sort, Item.pk]
        if sort == "rating":
            return [Item.rating_avg.desc().nulls_last(), Item.rating_count.desc(), Item.title_sort, Item.pk]
        return [Item.year.desc().nulls_last(), Item.created.desc().nulls_last(), Item.pk.desc()]

    @staticmethod
    def _facet_counts(conn: sa.Connection, matching: sa.Select) -> dict[str, dict[str, int]]:
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
