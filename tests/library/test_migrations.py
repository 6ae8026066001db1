"""Schema migrations: a catalogue made by the previous release opens with the current store, with nothing lost.

The previous release's catalogues are in ``fixtures/``, made by that release's own code
(``fixtures/make_previous_release.py`` says how): a SQLite file, and for PostgreSQL a
``pg_dump`` loaded into a new database. The generic runner, :func:`statcommons.kit.migrations.upgrade`,
is tested with revision scripts of the test's own, on both backends.
"""

from __future__ import annotations

import json
import threading
from pathlib import Path

import pytest
import sqlalchemy as sa

from statcommons.kit import migrations as dbschema
from statcommons.library.store import SCHEMA, Attachments, Conflict, Store
from tests import migrationtools

FIXTURES = Path(__file__).with_name("fixtures")

# Every table of the previous release, with what orders its rows.
TABLES = {
    "library_items": "pk",
    "library_item_facets": "item_pk, facet, value",
    "library_ratings": 'item_pk, "user"',
    "library_comments": "id",
    "library_notebooks": "item_id",
    "library_videos": "item_id",
    "library_video_chunks": "item_id, seq",
    "library_last_runs": "item_id",
}
STATUSES = {
    "curated-record-linkage-guide": "published",
    "published-guide": "published",
    "submitted-notebook": "submitted",
    "rejected-paper": "rejected",
    "draft-paper": "draft",
    "retired-paper": "retired",
    "stored-video": "submitted",
}


def _rows(url: str) -> dict[str, list[dict]]:
    """Every row of every table of the previous release, without the columns added since."""
    found = migrationtools.rows(url, TABLES)
    return {table: [{k: v for k, v in row.items() if k != "revision"} for row in rows] for table, rows in found.items()}


def test_a_previous_release_catalogue_opens_with_everything_in_it(previous_release):
    before = _rows(previous_release)
    assert {table: len(rows) for table, rows in before.items()} == {
        "library_items": 7,
        "library_item_facets": 11,
        "library_ratings": 2,
        "library_comments": 2,
        "library_notebooks": 1,
        "library_videos": 1,
        "library_video_chunks": 1,
        "library_last_runs": 1,
    }

    store = Store(previous_release)
    try:
        assert store.migrated == ["stamp 0001_baseline", "0002_item_revision"]
        with store.db.connect() as conn:
            assert dbschema.revision(conn, SCHEMA) == dbschema.head(SCHEMA) == "0002_item_revision"
        found = store.search(status=None, visible_to={"curator": True}, limit=100, facets=False)["items"]
        assert {hit["item"]["id"]: hit["item"]["status"] for hit in found} == STATUSES
        assert {hit["revision"] for hit in found} == {1}
        assert store.status_reason("rejected-paper") == "Add the link to the paper."
        assert store.rating("published-guide") == {"average": 4.5, "count": 2}
        comments = store.comments("published-guide", include_hidden=True)
        assert [(c["author"], c["hidden"]) for c in comments] == [("bob", False), ("mallory", True)]
        attachments = Attachments(store.db)
        assert json.loads(attachments.notebook("submitted-notebook"))["cells"][0]["source"] == "print(42)"
        assert attachments.video("stored-video")["size"] == len(b"\x1aE\xdf\xa3 not really webm")
        assert attachments.last_runs(["submitted-notebook"])["submitted-notebook"]["status"] == "succeeded"
        # Full-text search still finds the old rows (SQLite's FTS5 table, PostgreSQL's tsvector).
        assert [h["item"]["id"] for h in store.search("published guid")["items"]] == ["published-guide"]
        in_sql = Store(previous_release, search="database")
        assert [h["item"]["id"] for h in in_sql.search("curat")["items"]] == ["curated-record-linkage-guide"]
        in_sql.close()
    finally:
        store.close()
    assert _rows(previous_release) == before

    again = Store(previous_release)
    assert again.migrated == []
    again.close()


def test_old_items_are_reviewed_by_their_revision_and_new_ones_fit_in(previous_release):
    store = Store(previous_release)
    try:
        with pytest.raises(Conflict, match="has no revision 2"):
            store.review("submitted-notebook", "published", 2, from_statuses=("submitted",))
        assert store.review("submitted-notebook", "published", 1, from_statuses=("submitted",))["status"] == "published"
        assert store.revision("submitted-notebook") == 1

        changed = store.update("rejected-paper", {"summary": "With the link to the paper."})
        assert changed["status"] == "submitted" and store.revision("rejected-paper") == 2
        assert store.status_reason("rejected-paper") is None

        # The sequences of the old tables go on after their rows.
        added = store.add({"type": "publication", "title": "After the upgrade", "summary": "New."}, "ana")
        assert store.revision(added["id"]) == 1
        comment = store.add_comment(added["id"], "bob", "First")
        assert comment["id"] == 3
        found = store.search("upgrade", status="submitted", visible_to={"curator": True})["items"]
        assert [hit["item"]["id"] for hit in found] == [added["id"]]
    finally:
        store.close()


def _differences(url: str) -> list:
    """What differs between the database's tables and the models, but the GIN index the store makes itself."""
    found = migrationtools.differences(url, SCHEMA.metadata)
    return [d for d in found if not (d[0] == "remove_index" and d[1].name == "ix_library_items_search")]


def test_the_upgraded_schema_is_the_models_schema(previous_release):
    Store(previous_release).close()
    assert _differences(previous_release) == []


def test_a_new_database_is_made_from_the_models_and_stamped_at_head(empty_database):
    store = Store(empty_database)
    assert store.migrated == ["create"]
    with store.db.connect() as conn:
        assert dbschema.revision(conn, SCHEMA) == "0002_item_revision"
    store.close()
    assert _differences(empty_database) == []


def test_upgrades_of_a_new_database_at_once_make_it_once(empty_database):
    # Engines of their own, as processes starting together would have. (Not Stores: on SQLite the
    # store's switch of a brand-new file to WAL at connect can itself find the file locked; the
    # service is one process and the CLI refuses to create a SQLite file, so only tests meet that.)
    results, errors = [], []

    def upgrade() -> None:
        db = sa.create_engine(empty_database)
        try:
            results.append(dbschema.upgrade(db, SCHEMA))
        except Exception as e:  # noqa: BLE001 - reported below
            errors.append(e)
        finally:
            db.dispose()

    threads = [threading.Thread(target=upgrade) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert sorted(results) == [[], [], ["create"]]


# The generic runner, with scripts of the test's own.

MODELS = sa.MetaData()
sa.Table("things", MODELS, sa.Column("id", sa.Integer, primary_key=True), sa.Column("name", sa.Text))

SCRIPTS = {
    "0001_start.py": 'revision = "0001_start"\ndown_revision = None\n\ndef upgrade():\n    pass\n',
    "0002_colour.py": (
        "import sqlalchemy as sa\nfrom alembic import op\n\n"
        'revision = "0002_colour"\ndown_revision = "0001_start"\n\n'
        'def upgrade():\n    op.add_column("things", sa.Column("colour", sa.Text))\n'
    ),
    "0003_broken.py": (
        "import sqlalchemy as sa\nfrom alembic import op\n\n"
        'revision = "0003_broken"\ndown_revision = "0002_colour"\n\n'
        "def upgrade():\n"
        '    op.add_column("things", sa.Column("size", sa.Integer))\n'
        '    op.execute("SELECT no_such_function()")\n'
    ),
}


def _schema(folder: Path, *names: str) -> dbschema.Schema:
    folder.mkdir()
    for name in names:
        (folder / name).write_text(SCRIPTS[name], encoding="utf-8")
    return dbschema.Schema(
        metadata=MODELS, scripts=folder, version_table="things_alembic_version", baseline="0001_start", marker="things"
    )


def _columns(db: sa.Engine) -> list[str]:
    return [c["name"] for c in sa.inspect(db).get_columns("things")]


def test_a_failed_revision_leaves_the_database_as_it_was(empty_database, tmp_path):
    db = sa.create_engine(empty_database)
    try:
        with db.begin() as conn:
            conn.execute(sa.text("CREATE TABLE things (id INTEGER PRIMARY KEY, name TEXT)"))
            conn.execute(sa.text("INSERT INTO things VALUES (1, 'kept')"))
        schema = _schema(tmp_path / "scripts", "0001_start.py", "0002_colour.py", "0003_broken.py")
        with pytest.raises(sa.exc.DBAPIError):
            dbschema.upgrade(db, schema)
        # Not even the baseline stamp nor 0002's column: the whole upgrade is one transaction.
        assert _columns(db) == ["id", "name"]
        assert not sa.inspect(db).has_table("things_alembic_version")

        fixed = _schema(tmp_path / "fixed", "0001_start.py", "0002_colour.py")
        assert dbschema.upgrade(db, fixed) == ["stamp 0001_start", "0002_colour"]
        assert _columns(db) == ["id", "name", "colour"]
        with db.connect() as conn:
            assert conn.execute(sa.text("SELECT name FROM things")).scalars().all() == ["kept"]
    finally:
        db.dispose()


def test_a_database_from_a_newer_release_is_refused(empty_database, tmp_path):
    db = sa.create_engine(empty_database)
    try:
        schema = _schema(tmp_path / "scripts", "0001_start.py")
        assert dbschema.upgrade(db, schema) == ["create"]
        with db.begin() as conn:
            conn.execute(sa.text("UPDATE things_alembic_version SET version_num = '0009_future'"))
        with pytest.raises(dbschema.SchemaError, match="'0009_future'.*does not know"):
            dbschema.upgrade(db, schema)
    finally:
        db.dispose()
