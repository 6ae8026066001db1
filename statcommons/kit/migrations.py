"""Schema migrations of a service's database with Alembic, run by the service's store when it opens it.

A service keeps the history of its tables as Alembic revision scripts in a folder of its
package (the library's is :mod:`statcommons.library.migrations`), describes them with a
:class:`Schema` and calls :func:`upgrade` before using the database:

- a database without the service's tables gets the current ones from the models
  (``metadata.create_all``) and is stamped with the newest revision;
- a database made by the last release before migrations has the service's tables but no
  version table: it is stamped with the *baseline* revision (that release's schema), then
  upgraded;
- any other database gets the revisions it lacks, oldest first;

and then, in every case, :attr:`Schema.extra` makes what the models cannot express if it is missing.

Each service has its own version table (``<service>_alembic_version``), so that services
sharing one PostgreSQL database keep separate histories. :func:`upgrade` works in one
transaction that first takes a lock (``BEGIN IMMEDIATE`` on SQLite, an advisory lock on
PostgreSQL), so that two processes opening a database at once upgrade it once, and a failed
revision leaves the database as it was: DDL is transactional on both. There is no alembic.ini
nor env.py: :class:`~alembic.script.ScriptDirectory` reads the scripts, and
:class:`~alembic.runtime.migration.MigrationContext` and :class:`~alembic.operations.Operations`
run them. Only upgrades: going back means restoring the backup taken before.

A revision script is an ordinary Alembic one: ``revision``, ``down_revision`` and an
``upgrade()`` using ``alembic.op``; name it ``NNNN_what.py`` so that the folder reads in order.
"""

from __future__ import annotations

import functools
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa
from alembic.operations import Operations
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.script.revision import RevisionError


class SchemaError(RuntimeError):
    """The database's schema cannot be brought to the one this code needs."""


@dataclass(frozen=True)
class Schema:
    """One service's tables: its models, its revision scripts and how to recognise its databases."""

    metadata: sa.MetaData
    """The current tables, which a new database gets."""
    scripts: Path
    """The folder of the revision scripts."""
    version_table: str
    """Where the database's revision is kept, such as ``library_alembic_version``."""
    baseline: str
    """The revision of the schema of the last release before migrations."""
    marker: str
    """A table every database of that release has, such as ``library_items``."""
    extra: Callable[[sa.Connection], None] | None = None
    """What the models cannot express (full-text tables, triggers), made at every upgrade: idempotent DDL."""


@dataclass(frozen=True)
class Database:
    """A service's database, as the service opens it, and the schema its code needs."""

    name: str
    url: str
    schema: Schema


@functools.cache
def _scripts(folder: Path) -> ScriptDirectory:
    return ScriptDirectory(folder, version_locations=[folder])


def head(schema: Schema) -> str:
    """The newest revision of the service's schema."""
    return _scripts(schema.scripts).get_current_head()


def revision(connection: sa.Connection, schema: Schema) -> str | None:
    """The revision a database is at, or None when it has no version table (or it is empty)."""
    return MigrationContext.configure(connection, opts={"version_table": schema.version_table}).get_current_revision()


def _lock(connection: sa.Connection, schema: Schema) -> None:
    """Start the transaction holding the lock that makes concurrent upgrades wait for each other."""
    if connection.dialect.name == "sqlite":
        # pysqlite only begins a transaction itself before DML: DDL would run outside of one.
        connection.exec_driver_sql("BEGIN IMMEDIATE")
    elif connection.dialect.name == "postgresql":
        key = zlib.crc32(schema.version_table.encode())
        connection.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": key})


def is_current(db: sa.Engine, schema: Schema) -> bool:
    """Whether the database is at the newest revision, so that :func:`upgrade` would change nothing.

    A database without the service's tables is not: :func:`upgrade` makes them.
    """
    with db.connect() as connection:
        return revision(connection, schema) == head(schema)


def upgrade(db: sa.Engine, schema: Schema) -> list[str]:
    """Bring the database to the newest revision; returns what was done, such as ``["stamp 0001", "0002"]``.

    A new database gets the models' tables and ``["create"]``; a database already at the newest
    revision gives ``[]``. Raises :class:`SchemaError` for a database at a revision these
    scripts do not know (one upgraded by a newer release).
    """
    scripts = _scripts(schema.scripts)
    done: list[str] = []
    with db.connect() as connection, connection.begin():
        _lock(connection, schema)
        context = MigrationContext.configure(connection, opts={"version_table": schema.version_table})
        current = context.get_current_revision()
        if current is None:
            if not sa.inspect(connection).has_table(schema.marker):
                schema.metadata.create_all(connection)
                context.stamp(scripts, "head")
                _extra(connection, schema)
                return ["create"]
            context.stamp(scripts, schema.baseline)
            current = schema.baseline
            done.append(f"stamp {schema.baseline}")
        try:
            pending = list(scripts.iterate_revisions("head", current))
        except RevisionError as e:
            raise SchemaError(
                f"the database is at revision {current!r} of {schema.version_table}, which this version of "
                f"StatCommons does not know (a newer release upgraded it): {e}"
            ) from None
        for script in reversed(pending):
            with Operations.context(context):
                script.module.upgrade()
            context.stamp(scripts, script.revision)
            done.append(script.revision)
        _extra(connection, schema)
    return done


def _extra(connection: sa.Connection, schema: Schema) -> None:
    if schema.extra is not None:
        schema.extra(connection)
