"""Databases made by an earlier release, on SQLite and on PostgreSQL, for the services' migration tests.

A service's ``fixtures/`` folder holds the previous release's database twice, made by that
release's own code: ``previous-release.sqlite``, copied for each test, and
``previous-release-postgresql.sql``, a ``pg_dump`` loaded into a new database of the session's
PostgreSQL server (the ``postgres_server`` fixture of ``tests/conftest.py``).

The fixtures :func:`previous_release` and :func:`empty_database` (a plugin of ``tests/conftest.py``)
give each test a database on both backends; ``previous_release`` reads the ``FIXTURES`` folder
of the test's module.
"""

from __future__ import annotations

import itertools
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from tests import pgserver

BACKENDS = ["sqlite", "postgresql"]
_databases = itertools.count(1)


@contextmanager
def _new_database(request: pytest.FixtureRequest) -> Iterator[tuple[dict, str]]:
    """A new database of the session's server: its connection details and SQLAlchemy URL; dropped afterwards."""
    server = request.getfixturevalue("postgres_server")
    name = f"migrated_{next(_databases)}"
    with pgserver.connect({**server, "dbname": "postgres"}, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {name}")
        conn.execute(f"CREATE DATABASE {name}")
    database = {**server, "dbname": name}
    try:
        yield database, pgserver.url(database)
    finally:
        with pgserver.connect({**server, "dbname": "postgres"}, autocommit=True) as conn:
            conn.execute(f"DROP DATABASE {name} WITH (FORCE)")


@pytest.fixture(params=BACKENDS)
def previous_release(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """The URL of a copy of the previous release's database of the module's ``FIXTURES``, on each backend."""
    fixtures: Path = request.module.FIXTURES
    if request.param == "sqlite":
        path = tmp_path / "previous-release.sqlite"
        shutil.copyfile(fixtures / "previous-release.sqlite", path)
        yield f"sqlite:///{path}"
        return
    with _new_database(request) as (database, url):
        with pgserver.connect(database, autocommit=True) as conn:
            # Without parameters, psycopg sends the whole dump at once (the simple query protocol).
            conn.execute((fixtures / "previous-release-postgresql.sql").read_text(encoding="utf-8"))
        yield url


@pytest.fixture(params=BACKENDS)
def empty_database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """The URL of an empty database, on each backend."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'empty.sqlite'}"
        return
    with _new_database(request) as (_database, url):
        yield url


def rows(url: str, tables: dict[str, str]) -> dict[str, list[dict]]:
    """Every row of each table of ``tables`` (a table's name, and what orders its rows), as it is stored."""
    db = sa.create_engine(url)
    try:
        with db.connect() as conn:
            return {
                table: [dict(row._mapping) for row in conn.execute(sa.text(f"SELECT * FROM {table} ORDER BY {order}"))]
                for table, order in tables.items()
            }
    finally:
        db.dispose()


def differences(url: str, metadata: sa.MetaData) -> list:
    """What differs between the database's tables and ``metadata``'s, leaving out tables that are not its own."""
    db = sa.create_engine(url)
    try:
        with db.connect() as conn:
            found = compare_metadata(MigrationContext.configure(conn), metadata)
    finally:
        db.dispose()
    return [d for d in found if not (d[0] == "remove_table" and d[1].name not in metadata.tables)]
