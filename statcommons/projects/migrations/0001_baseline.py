"""The projects' schema as release 232be57 made it, the last release without migrations.

A database of that release has ``projects`` and ``owners`` and no version table:
:func:`statcommons.kit.migrations.upgrade` stamps it with this revision and then applies the
later ones. A new database is made from the tables of the store and stamped with the newest
revision, so this revision has nothing to create.
"""

revision = "0001_baseline"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    raise NotImplementedError("the projects' migrations only go forward: restore a backup instead")
