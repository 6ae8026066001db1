"""Items count their changes: ``library_items.revision``, 1 for every item already there.

A curator's review names the revision it judges (see ``Store.review``).
"""

import sqlalchemy as sa
from alembic import op

revision = "0002_item_revision"
down_revision = "0001_baseline"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("library_items", sa.Column("revision", sa.Integer(), nullable=False, server_default="1"))


def downgrade() -> None:
    raise NotImplementedError("the library's migrations only go forward: restore a backup instead")
