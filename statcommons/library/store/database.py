"""Opening the catalogue's database: the SQLAlchemy engine (``db``), its schema and upgrades, SQLite's statistics.

The tables are made, or brought up to date, when a store opens the database: Alembic revisions
in :mod:`statcommons.library.migrations`, run by :func:`statcommons.kit.migrations.upgrade`,
then the full-text search DDL of :mod:`.search.sql`.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy import event

from ...kit import database
from ...kit import migrations as dbschema
from .. import migrations
from .search import sql
from .tables import Base, Item

DIALECTS = ("sqlite", "postgresql")

SCHEMA = dbschema.Schema(
    metadata=Base.metadata,
    scripts=migrations.FOLDER,
    version_table="library_alembic_version",
    baseline="0001_baseline",
    marker="library_items",
    extra=sql.ddl,
)


def connect(url: sa.URL, options: dict[str, Any]) -> sa.Engine:
    """The engine of the database at ``url`` (SQLite or PostgreSQL), with SQLite's pragmas set at each connection."""
    db = database.connect(url, **options)
    if url.get_backend_name() == "sqlite":
        event.listen(db, "connect", _sqlite_pragmas)
    return db


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys = ON")
    cursor.execute("PRAGMA journal_mode = WAL")
    cursor.execute("PRAGMA synchronous = NORMAL")
    cursor.close()


def upgrade(db: sa.Engine) -> list[str]:
    """Make or upgrade the tables; returns what was done, for the log: ``["create"]``, ``["0002_item_revision"]``..."""
    return dbschema.upgrade(db, SCHEMA)


def analyze(db: sa.Engine) -> bool:
    """Give SQLite's query planner statistics when it has none or they are far off; whether it made them.

    SQLite keeps no statistics until ``ANALYZE`` runs, and without them it plans a full-text
    search with SQL (``database`` mode, and ``memory`` mode while the index is being built)
    as a scan of every item: 15 to 30 seconds a search at 100,000 items, instead of tens of
    milliseconds. Statistics counted when the catalogue was much smaller mislead it too, so
    they are made again when the number of items is more than twice, or less than half, the
    one they counted. Making them takes about half a second per 100,000 items, holding the
    database's write lock. PostgreSQL keeps its own statistics up to date (autovacuum).
    """
    if db.dialect.name != "sqlite":
        return False
    with db.connect() as conn:
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
