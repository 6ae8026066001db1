"""``statcommons upgrade`` on a copy of the previous release's state folder: every database at its newest revision.

No engine is needed: the command only touches databases. The copy is ``previous-release/``
(see ``make_previous_release.py``); the hub's database is already at JupyterHub's newest
revision there (the same JupyterHub), the services' databases have no version table yet.
"""

from __future__ import annotations

import os
import shutil
import socket
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa
import yaml

from statcommons.hub import upgrade
from statcommons.kit import migrations as dbschema
from statcommons.library.store import SCHEMA as LIBRARY
from statcommons.platform.paths import ROOT
from statcommons.projects.store import SCHEMA as PROJECTS
from statcommons.runner.store import SCHEMA as RUNNER
from statcommons.settings import validate

from . import make_previous_release as previous

DATABASES = {"library.sqlite": LIBRARY, "runner/runner.sqlite": RUNNER, "projects.sqlite": PROJECTS}


@pytest.fixture
def site(tmp_path) -> dict:
    """A copy of the previous release's state folder, its settings file, and the environment to use it."""
    state = tmp_path / "state"
    shutil.copytree(previous.FIXTURE, state)
    settings_file = tmp_path / "statcommons.yaml"
    # Ports nobody uses here, so that the check for a running hub looks at free ones.
    ports = [_free_port() for _ in range(3)]
    settings = {"state_dir": str(state), "hub": {"port": ports[0], "api_port": ports[1]}, "library": {"port": ports[2]}}
    settings_file.write_text(yaml.safe_dump(settings), encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not (k.startswith("STATCOMMONS_") and k.endswith("_DB"))}
    env["STATCOMMONS_SETTINGS"] = str(settings_file)
    return {"state": state, "settings": validate(settings), "env": env}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _command(site: dict) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "statcommons", "upgrade"], cwd=ROOT, env=site["env"], capture_output=True, text=True
    )


def _revision(path: Path, schema: dbschema.Schema) -> str | None:
    db = sa.create_engine(f"sqlite:///{path}")
    try:
        with db.connect() as conn:
            return dbschema.revision(conn, schema)
    finally:
        db.dispose()


def _count(path: Path, table: str) -> int:
    with sqlite3.connect(path) as conn:
        return conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]


def test_every_database_is_at_its_newest_revision_after_copies(site):
    state = site["state"]
    done = _command(site)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "statcommons: upgraded library, runner, projects" in done.stdout

    for path, schema in DATABASES.items():
        assert _revision(state / path, schema) == dbschema.head(schema), path
    assert upgrade.hub_revision(state / "jupyterhub.sqlite") == upgrade.hub_head()

    [folder] = (state / "backups").iterdir()
    copies = {p.name for p in folder.iterdir()}
    assert copies == {"jupyterhub.sqlite", "library.sqlite", "runner.sqlite", "projects.sqlite"}
    # The copies are the databases as they were: no version table yet, the same rows.
    assert _revision(folder / "runner.sqlite", RUNNER) is None
    assert _count(folder / "jupyterhub.sqlite", "users") == _count(state / "jupyterhub.sqlite", "users") > 0
    assert _count(folder / "library.sqlite", "library_items") == _count(state / "library.sqlite", "library_items")
    assert _count(state / "runner/runner.sqlite", "runner_runs") == 1
    assert _count(state / "projects.sqlite", "projects") == 1 and _count(state / "projects.sqlite", "notices") == 0


def test_again_it_changes_nothing_but_still_copies_the_hubs_database(site):
    assert _command(site).returncode == 0
    again = _command(site)
    assert again.returncode == 0, again.stdout + again.stderr
    assert "statcommons: every database was up to date" in again.stdout
    folders = sorted((site["state"] / "backups").iterdir())
    assert len(folders) == 2 and {p.name for p in folders[1].iterdir()} == {"jupyterhub.sqlite"}


def test_the_upgrade_of_statcommons_run_copies_nothing_on_an_up_to_date_state(site):
    assert _command(site).returncode == 0
    said: list[str] = []
    assert upgrade.upgrade(site["settings"], site["env"], said.append, hub_always=False) == []
    assert said == [
        f"library: at {dbschema.head(LIBRARY)}",
        f"runner: at {dbschema.head(RUNNER)}",
        f"projects: at {dbschema.head(PROJECTS)}",
        f"hub: at {upgrade.hub_head()}",
    ]
    assert len(list((site["state"] / "backups").iterdir())) == 1


def test_a_disabled_service_and_a_service_without_a_database_are_left_alone(site):
    settings = validate({"state_dir": str(site["state"]), "projects": {"enabled": False}})
    (site["state"] / "runner" / "runner.sqlite").unlink()
    said: list[str] = []
    assert upgrade.upgrade(settings, site["env"], said.append, hub_always=False) == ["library"]
    assert [line.split(":")[0] for line in said] == ["library", "library", "runner", "hub"]
    assert "no database yet" in said[2] and not (site["state"] / "runner" / "runner.sqlite").exists()
    assert _revision(site["state"] / "projects.sqlite", PROJECTS) is None


def test_it_refuses_while_a_hub_runs(site):
    with socket.socket() as taken:
        taken.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        taken.bind(("127.0.0.1", site["settings"]["hub"]["port"]))
        taken.listen()
        done = _command(site)
    assert done.returncode == 1
    assert "is a hub already running" in done.stderr and "Stop it before upgrading" in done.stderr
    assert not (site["state"] / "backups").exists()
