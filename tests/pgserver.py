"""A throwaway PostgreSQL server for the library tests and benchmarks, from Debian's binaries.

:func:`running` makes a cluster in a temporary folder (``initdb``), starts it listening on a
Unix socket only, creates one database, yields where to reach it, and stops and removes it
afterwards. The binaries are those of ``PG_BIN`` (``/usr/lib/postgresql/15/bin`` unless set).
Run as root, the server runs as the ``postgres`` user (``runuser``), as it refuses root.
"""

from __future__ import annotations

import os
import random
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg

PG_BIN = Path(os.environ.get("PG_BIN", "/usr/lib/postgresql/15/bin"))
# Throwaway data: no durability needed.
FAST = ("-c fsync=off", "-c synchronous_commit=off")


class PostgresError(RuntimeError):
    """The server could not be set up, started or stopped."""


def missing() -> str | None:
    """The first server binary that is missing, or None."""
    for tool in ("initdb", "pg_ctl", "postgres"):
        if not (PG_BIN / tool).exists():
            return str(PG_BIN / tool)
    return None


def _run(command: list[str], what: str) -> None:
    done = subprocess.run(command, capture_output=True, text=True)
    if done.returncode:
        raise PostgresError(f"{what} failed ({done.returncode}): {done.stdout[-2000:]}{done.stderr[-2000:]}")


@contextmanager
def running(database: str, options: tuple[str, ...] = ()) -> Iterator[dict]:
    """A server of our own with an empty ``database``: yields ``{"host", "port", "dbname"}``.

    ``options`` are more ``-c name=value`` server settings.
    """
    absent = missing()
    if absent:
        raise PostgresError(
            f"the PostgreSQL server is not installed: {absent} is missing; "
            "`make postgres-deps` (run by `make test`) installs it, or set PG_BIN"
        )
    root = Path(tempfile.mkdtemp(prefix="statcommons-pg-"))
    as_postgres = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
    if as_postgres:
        shutil.chown(root, "postgres")
    data, log = root / "data", root / "server.log"
    port = random.randint(20000, 60000)
    settings = " ".join((f"-p {port} -k {root} -c listen_addresses=''", *FAST, *options))
    try:
        _run([*as_postgres, str(PG_BIN / "initdb"), "-D", str(data), "-A", "trust", "-U", "postgres", "-E", "UTF8",
              "--locale=C", "--no-sync"], "initdb")  # fmt: skip
        _run([*as_postgres, str(PG_BIN / "pg_ctl"), "-D", str(data), "-o", settings, "-l", str(log), "-w", "start"],
             f"pg_ctl start (log: {log})")  # fmt: skip
        try:
            with psycopg.connect(host=str(root), port=port, user="postgres", dbname="postgres", autocommit=True) as c:
                c.execute(f"CREATE DATABASE {database}")
            yield {"host": str(root), "port": port, "dbname": database}
        finally:
            _run([*as_postgres, str(PG_BIN / "pg_ctl"), "-D", str(data), "-m", "fast", "-w", "stop"], "pg_ctl stop")
    finally:
        shutil.rmtree(root, ignore_errors=True)


def connect(server: dict, **options) -> psycopg.Connection:
    """A psycopg connection to the server's database as ``postgres``."""
    return psycopg.connect(
        host=server["host"], port=server["port"], user="postgres", dbname=server["dbname"], **options
    )


def url(server: dict, schema: str | None = None) -> str:
    """The SQLAlchemy URL of the server's database, with ``schema`` first on the search path."""
    base = f"postgresql+psycopg://postgres@/{server['dbname']}?host={server['host']}&port={server['port']}"
    return f"{base}&options=-csearch_path%3D{schema}" if schema else base
