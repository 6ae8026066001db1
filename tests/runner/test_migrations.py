"""Schema migrations of the runner's database: records made by the previous release are all found after the upgrade.

The previous release's records are in ``fixtures/``, made by that release's own code
(``fixtures/make_previous_release.py`` says how): a SQLite file, and for PostgreSQL a
``pg_dump`` loaded into a new database (:mod:`tests.migrationtools`).
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import sqlalchemy as sa

from statcommons.kit import migrations as dbschema
from statcommons.runner.store import SCHEMA, Store
from tests import migrationtools

FIXTURES = Path(__file__).with_name("fixtures")
# Every table of the previous release, with what orders its rows.
TABLES = {"runner_runs": "id", "runner_schedules": "id"}
STATUSES = {
    1: "succeeded",
    2: "failed",
    3: "timeout",
    4: "cancelled",
    5: "interrupted",
    6: "running",
    7: "queued",
}


def test_a_previous_release_database_opens_with_every_record(previous_release):
    before = migrationtools.rows(previous_release, TABLES)
    assert {table: len(found) for table, found in before.items()} == {"runner_runs": 7, "runner_schedules": 2}

    store = Store(previous_release)
    try:
        assert store.migrated == ["stamp 0001_baseline"]
        with store.db.connect() as conn:
            assert dbschema.revision(conn, SCHEMA) == dbschema.head(SCHEMA) == "0001_baseline"
        runs, total = store.runs(limit=100)
        assert total == 7 and {run.id: run.status for run in runs} == STATUSES
        done = store.run(1)
        assert (done.user, done.item, done.parameters, done.schedule) == ("ana", "splink-tutorial", {"sample": 100}, 1)
        assert done.source == {"kind": "shared_path", "path": "shared-notebooks/splink/tutorial.ipynb"}
        assert done.started == datetime(2026, 1, 5, 3, 0, 1, tzinfo=UTC) and done.duration == 8.0
        assert (done.image_id, done.notebook) == ("sha256:0123456789abcdef", "runs/1/output.ipynb")
        assert store.run(2).failing_cell["source"] == "total = x / 0"
        assert store.run(6).retry_of == 5 and store.run(5).error == "the runner stopped during the run"
        assert [run.id for run in store.failing()] == []  # no library notebook's latest run failed
        assert store.waiting() == [(7, "dora")]
        assert store.last_started() == {
            "ana": datetime(2026, 1, 5, 3, 0, 1, tzinfo=UTC),
            "bob": datetime(2026, 1, 5, 3, 0, 1, tzinfo=UTC),
            "carla": datetime(2026, 1, 5, 3, 0, 9, tzinfo=UTC),
        }
        schedules = store.schedules()
        assert [(s.user, s.item, s.path, s.cron) for s in schedules] == [
            ("ana", "splink-tutorial", None, "0 3 * * *"),
            ("bob", None, "work/weekly.ipynb", "15 8 * * 1"),
        ]
        assert schedules[0].last_run == 1 and schedules[0].next_run == datetime(2026, 1, 6, 3, 0, tzinfo=UTC)
        assert store.next_due() == datetime(2026, 1, 6, 3, 0, tzinfo=UTC)
    finally:
        store.close()
    assert migrationtools.rows(previous_release, TABLES) == before

    again = Store(previous_release)
    assert again.migrated == []
    again.close()


def test_new_records_fit_in_after_the_upgrade(previous_release):
    store = Store(previous_release)
    try:
        # The sequences of the old tables go on after their rows.
        run = store.add_run(user="ana", path="new.ipynb", image="img", time_limit=10, mem_limit=1024**2)
        assert run.id == 8
        schedule = store.add_schedule(user="bob", path="x.ipynb", cron="0 * * * *", next_run=datetime.now(UTC))
        assert schedule.id == 3
        [(interrupted, retry)] = store.recover("stopped")
        assert interrupted.id == 6 and retry is None  # a retry is not retried
        assert store.schedule_busy(1) is False
    finally:
        store.close()


def test_the_upgraded_schema_is_the_models_schema(previous_release):
    Store(previous_release).close()
    assert migrationtools.differences(previous_release, SCHEMA.metadata) == []


def test_a_new_database_is_made_from_the_models_and_stamped_at_head(empty_database):
    store = Store(empty_database)
    assert store.migrated == ["create"]
    assert dbschema.is_current(store.db, SCHEMA)
    store.close()
    assert migrationtools.differences(empty_database, SCHEMA.metadata) == []
    db = sa.create_engine(empty_database)
    try:
        assert sa.inspect(db).has_table("runner_alembic_version")
    finally:
        db.dispose()
