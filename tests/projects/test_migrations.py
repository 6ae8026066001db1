"""Schema migrations of the projects' database: projects made by the previous release are all found after the upgrade.

The previous release's projects are in ``fixtures/``, made by that release's own code
(``fixtures/make_previous_release.py`` says how): a SQLite file, and for PostgreSQL a
``pg_dump`` loaded into a new database (:mod:`tests.migrationtools`). That release had no
``notices``; the revision ``0002_notices`` makes the table.
"""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa

from statcommons.kit import migrations as dbschema
from statcommons.projects import store as projects_store
from statcommons.projects.store import SCHEMA, Store
from tests import migrationtools

FIXTURES = Path(__file__).with_name("fixtures")
# Every table of the previous release, with what orders its rows.
TABLES = {"projects": "id", "owners": "project_id, username"}
ARCHIVE = "/srv/statcommons/var/projects/archive/census-20260105T100000Z.tar.gz"


def test_a_previous_release_database_opens_with_every_project(previous_release):
    before = migrationtools.rows(previous_release, TABLES)
    assert {table: len(found) for table, found in before.items()} == {"projects": 3, "owners": 5}

    store = Store(previous_release)
    try:
        assert store.migrated == ["stamp 0001_baseline", "0002_notices"]
        with store.db.connect() as conn:
            assert dbschema.revision(conn, SCHEMA) == dbschema.head(SCHEMA) == "0002_notices"
        survey = store.get("labour-survey")
        assert (survey["title"], survey["description"], survey["created_by"]) == (
            "Labour force survey", "Quarterly LFS microdata", "ana"
        )  # fmt: skip
        assert survey["owners"] == ["ana", "bob"] and survey["created"].endswith("Z")
        census = store.get("census")
        assert (census["id"], census["title"], census["owners"]) == (3, "Census 2031", ["carla", "dora"])
        assert [p["name"] for p in store.live()] == ["census", "labour-survey"]
        [archived] = store.archived()
        assert (archived["id"], archived["title"], archived["archive"]) == (2, "Census 2021", ARCHIVE)
        assert archived["archived"].endswith("Z") and store.by_archive(ARCHIVE)["owners"] == ["carla"]
        assert store.owned_by("carla") == 1 and store.owned_by("ana") == 1
        assert store.notices("ana") == []
    finally:
        store.close()
    assert migrationtools.rows(previous_release, TABLES) == before

    again = Store(previous_release)
    assert again.migrated == []
    again.close()


def test_new_projects_and_notices_fit_in_after_the_upgrade(previous_release):
    store = Store(previous_release)
    try:
        # The sequences of the old tables go on after their rows.
        added = store.add("trade", "Trade statistics", "", "bob", ["bob"])
        assert added["id"] == 4 and store.owned_by("bob") == 2
        notice = store.add_notice("bob", "labour-survey", "You were removed from labour-survey.")
        assert [n["message"] for n in store.notices("bob")] == ["You were removed from labour-survey."]
        assert store.dismiss("bob", notice["id"]) and store.notices("bob") == []
    finally:
        store.close()


def test_the_upgraded_schema_is_the_models_schema(previous_release):
    Store(previous_release).close()
    assert migrationtools.differences(previous_release, SCHEMA.metadata) == []


def test_a_database_with_notices_but_no_version_keeps_its_notices(empty_database):
    # Made by a release after 232be57 that had the notices table but no migrations yet.
    db = sa.create_engine(empty_database)
    try:
        projects_store.metadata.create_all(db)
        with db.begin() as conn:
            conn.execute(sa.text(
                "INSERT INTO notices (username, project, message, created) "
                "VALUES ('ana', 'census', 'Removed.', CURRENT_TIMESTAMP)"
            ))  # fmt: skip
    finally:
        db.dispose()
    store = Store(empty_database)
    try:
        assert store.migrated == ["stamp 0001_baseline", "0002_notices"]
        assert [n["message"] for n in store.notices("ana")] == ["Removed."]
    finally:
        store.close()
    assert migrationtools.differences(empty_database, SCHEMA.metadata) == []


def test_a_new_database_is_made_from_the_models_and_stamped_at_head(empty_database):
    store = Store(empty_database)
    assert store.migrated == ["create"]
    assert dbschema.is_current(store.db, SCHEMA)
    store.close()
    assert migrationtools.differences(empty_database, SCHEMA.metadata) == []
