"""The SQLAlchemy engine of a service's database (SQLite or PostgreSQL), made the same way by every service.

Every store is a :class:`Store`: :func:`connect`, then :func:`statcommons.kit.migrations.upgrade`. An
in-memory SQLite database (the tests' ``sqlite://``) is one connection shared by every thread:
each new connection would otherwise be a new, empty database.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.pool import StaticPool

from . import migrations


def connect(url: str | sa.URL, **options: Any) -> sa.Engine:
    """The engine of the database at ``url``; ``options`` go to :func:`sqlalchemy.create_engine`."""
    url = sa.make_url(url)
    if url.get_backend_name() == "sqlite" and url.database in (None, "", ":memory:"):
        options = {"poolclass": StaticPool, "connect_args": {"check_same_thread": False}, **options}
    return sa.create_engine(url, **options)


class Store:
    """The base of a service's store: the engine of its database, made or upgraded to :attr:`schema` when opened."""

    schema: migrations.Schema

    def __init__(self, url: str):
        self.db = connect(url)
        #: What opening did, for the service's log: ``["create"]``, ``["stamp 0001_baseline", "0002_notices"]``, ``[]``.
        self.migrated = migrations.upgrade(self.db, self.schema)

    def close(self) -> None:
        self.db.dispose()
