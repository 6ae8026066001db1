"""Bring a site's databases to this release: the services' with their Alembic revisions, the hub's with JupyterHub's.

``statcommons upgrade`` calls :func:`upgrade`, and ``statcommons run`` calls it before it starts
the hub, the hub stopped both times:

- each enabled service's database (library, runner, projects) gets the revisions it lacks
  (:func:`statcommons.kit.migrations.upgrade`, one transaction per database); a SQLite file
  that is not there yet is left to the service, which makes it at its first start;
- the hub's own database is upgraded by ``jupyterhub upgrade-db``, with the hub's
  configuration. ``statcommons upgrade`` runs it every time; ``statcommons run`` only when the
  database's revision is not JupyterHub's newest, so that a start on an up-to-date state costs
  a few queries.

Before a SQLite database is changed (and, for ``statcommons upgrade``, the hub's every time)
it is copied to ``<state_dir>/backups/<UTC time>/<name>.sqlite`` with SQLite's online backup,
which copies a database in WAL mode whole. PostgreSQL databases are not copied: take a
``pg_dump`` first. Migrations only go forward; going back means restoring a backup.
"""

from __future__ import annotations

import contextlib
import sqlite3
import subprocess
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import sqlalchemy as sa
from alembic.script import ScriptDirectory
from jupyterhub.dbutil import ALEMBIC_DIR
from traitlets.config import Config

from ..kit import migrations as dbschema
from ..kit.migrations import Database
from ..platform.paths import ROOT
from ..settings import state_dir
from .config import registrations, update_hub

Say = Callable[[str], None]


class UpgradeError(RuntimeError):
    """A database could not be upgraded; the message names it and says why."""


def service_databases(settings: dict, env: dict) -> list[Database]:
    """The databases of the enabled services, as their registrations name them."""
    return [r.database for r in registrations(settings, env) if r.database is not None]


def sqlite_file(url: str | sa.URL) -> Path | None:
    """The file of a SQLite URL (relative to the repository, where services run), None for other databases."""
    parsed = sa.make_url(url)
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
        return None
    path = Path(parsed.database)
    return path if path.is_absolute() else ROOT / path


class Backups:
    """The copies of one upgrade, in ``<state_dir>/backups/<UTC time>/``, made when the first is needed."""

    def __init__(self, state: Path):
        self.parent = state / "backups"
        self.folder: Path | None = None

    def keep(self, name: str, database: Path) -> Path:
        if self.folder is None:
            stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
            folder, n = self.parent / stamp, 1
            while folder.exists():
                folder, n = self.parent / f"{stamp}-{n}", n + 1
            folder.mkdir(parents=True)
            self.folder = folder
        target = self.folder / f"{name}.sqlite"
        with contextlib.closing(sqlite3.connect(database)) as source:
            with contextlib.closing(sqlite3.connect(target)) as copy:
                source.backup(copy)
        return target


def upgrade_service(database: Database, backups: Backups, say: Say) -> bool:
    """Bring one service's database to the newest revision, copying a SQLite file first; whether it changed."""
    head = dbschema.head(database.schema)
    path = sqlite_file(database.url)
    if path is not None and not path.is_file():
        say(f"{database.name}: no database yet (the service makes it at its first start, at {head})")
        return False
    url = sa.make_url(database.url)
    shown = url.render_as_string(hide_password=True)
    db = sa.create_engine(url.set(database=str(path)) if path is not None else url)
    try:
        if dbschema.is_current(db, database.schema):
            say(f"{database.name}: at {head}")
            return False
        if path is not None:
            say(f"{database.name}: copied {path} to {backups.keep(database.name, path)}")
        else:
            say(f"{database.name}: {shown} is not SQLite and was not copied: back it up yourself (pg_dump)")
        done = dbschema.upgrade(db, database.schema)
        say(f"{database.name}: {', '.join(done)}: now at {head}")
        return True
    except dbschema.SchemaError as e:
        raise UpgradeError(f"the {database.name} database {shown}: {e}") from None
    except sa.exc.SQLAlchemyError as e:
        raise UpgradeError(f"cannot upgrade the {database.name} database {shown}: {e}") from None
    finally:
        db.dispose()


def hub_database(settings: dict) -> Path | None:
    """The hub's SQLite file, as the hub's configuration names it."""
    c = Config()
    update_hub(c, settings)
    return sqlite_file(c.JupyterHub.db_url)


def hub_revision(path: Path) -> str | None:
    """The Alembic revision of the hub's database, None when it has none."""
    with contextlib.closing(sqlite3.connect(path)) as conn:
        try:
            row = conn.execute("SELECT version_num FROM alembic_version").fetchone()
        except sqlite3.OperationalError:  # no version table: a hub older than 0.8
            return None
    return row[0] if row else None


def hub_head() -> str:
    """The newest revision of JupyterHub's database."""
    return ScriptDirectory(ALEMBIC_DIR).get_current_head()


def upgrade_hub(settings: dict, env: dict, backups: Backups, say: Say, always: bool) -> bool:
    """``jupyterhub upgrade-db`` after a copy of the hub's database; unless ``always``, only when it is behind.

    Whether it was behind (and so changed).
    """
    path = hub_database(settings)
    if path is None or not path.is_file():
        say("hub: no database yet (the hub makes it at its first start)")
        return False
    behind = hub_revision(path) != hub_head()
    if not (always or behind):
        say(f"hub: at {hub_head()}")
        return False
    say(f"hub: copied {path} to {backups.keep('jupyterhub', path)}")
    done = subprocess.run(
        [str(Path(sys.executable).parent / "jupyterhub"), "upgrade-db", "-f", str(ROOT / "jupyterhub_config.py")],
        cwd=state_dir(settings),
        env=env,
        capture_output=True,
        text=True,
    )
    if done.returncode:
        raise UpgradeError(f"jupyterhub upgrade-db failed ({done.returncode}) on {path}: {done.stderr.strip()[-2000:]}")
    say(f"hub: {'upgraded to' if behind else 'at'} {hub_head()} (jupyterhub upgrade-db)")
    return behind


def upgrade(settings: dict, env: dict, say: Say, hub_always: bool = True) -> list[str]:
    """Upgrade every enabled service's database, then the hub's; returns the names of those that changed.

    ``say`` gets one line per database. ``env`` is the environment the hub and the services
    get (database URLs with passwords, ``STATCOMMONS_SETTINGS``). Raises :class:`UpgradeError`;
    the databases upgraded before the failing one stay upgraded, and their copies stay.
    """
    backups = Backups(state_dir(settings))
    changed = [db.name for db in service_databases(settings, env) if upgrade_service(db, backups, say)]
    if upgrade_hub(settings, env, backups, say, always=hub_always):
        changed.append("hub")
    return changed
