"""``notices``: messages for one person (why their server restarted without a project), kept until dismissed.

Releases between 232be57 and the first with migrations made this table without recording a
revision; their databases are stamped at the baseline like 232be57's, so the table is made
only when it is missing.
"""

import sqlalchemy as sa
from alembic import op

revision = "0002_notices"
down_revision = "0001_baseline"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if sa.inspect(op.get_bind()).has_table("notices"):
        return
    op.create_table(
        "notices",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("username", sa.String(255), nullable=False),
        sa.Column("project", sa.String(64), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("created", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_notices_username", "notices", ["username"])


def downgrade() -> None:
    raise NotImplementedError("the projects' migrations only go forward: restore a backup instead")
