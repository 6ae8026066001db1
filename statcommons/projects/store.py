"""What StatCommons keeps about projects besides the hub's groups: titles, owners, archives, notices.

Membership lives in the hub (the group ``project-<name>`` holds owners and members alike);
this store keeps each project's title, description, creation, owners, and for a deleted
project its archive.  A name is unique among live projects; archived rows keep the name they
had, so a name can be used again and an archive still knows its project.  SQLAlchemy Core on
SQLite by default (in the state folder), PostgreSQL works the same.

Notices are messages for one person that the service could not tell them at the time (their
server was restarted without a project's folder, say); the Projects page and JupyterLab show
them until they are dismissed.

The tables are those of :data:`metadata`; their history is the Alembic revisions of
:mod:`statcommons.projects.migrations`, applied when the store opens its database (version in
``projects_alembic_version``).
"""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa

from ..kit import database
from ..kit import migrations as dbschema
from . import migrations

metadata = sa.MetaData()

projects = sa.Table(
    "projects",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("name", sa.String(64), nullable=False, index=True),
    sa.Column("title", sa.String(200), nullable=False),
    sa.Column("description", sa.Text, nullable=False, default=""),
    sa.Column("created", sa.DateTime(timezone=True), nullable=False),
    sa.Column("created_by", sa.String(255), nullable=False),
    sa.Column("archived", sa.DateTime(timezone=True), nullable=True),
    sa.Column("archive", sa.String(1024), nullable=True),
)

owners = sa.Table(
    "owners",
    metadata,
    sa.Column("project_id", sa.Integer, sa.ForeignKey("projects.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("username", sa.String(255), primary_key=True),
)

notices = sa.Table(
    "notices",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("username", sa.String(255), nullable=False, index=True),
    sa.Column("project", sa.String(64), nullable=False),
    sa.Column("message", sa.Text, nullable=False),
    sa.Column("created", sa.DateTime(timezone=True), nullable=False),
)

SCHEMA = dbschema.Schema(
    metadata=metadata,
    scripts=migrations.FOLDER,
    version_table="projects_alembic_version",
    baseline="0001_baseline",
    marker="projects",
)


def now() -> datetime:
    return datetime.now(UTC)


def iso(moment: datetime | None) -> str | None:
    if moment is None:
        return None
    if moment.tzinfo is None:  # SQLite gives back what was written, without the zone
        moment = moment.replace(tzinfo=UTC)
    return moment.isoformat().replace("+00:00", "Z")


class Store(database.Store):
    """Projects, their owners and notices; every method is one short transaction.

    Opening it makes the tables of a new database, or brings an older one to the newest revision.
    """

    schema = SCHEMA

    def _row(self, conn, row) -> dict:
        names = conn.execute(sa.select(owners.c.username).where(owners.c.project_id == row.id)).scalars()
        return {
            "id": row.id,
            "name": row.name,
            "title": row.title,
            "description": row.description,
            "created": iso(row.created),
            "created_by": row.created_by,
            "owners": sorted(names),
            "archived": iso(row.archived),
            "archive": row.archive,
        }

    def get(self, name: str) -> dict | None:
        """The live project of that name."""
        with self.db.connect() as conn:
            row = conn.execute(
                sa.select(projects).where(projects.c.name == name, projects.c.archived.is_(None))
            ).first()
            return self._row(conn, row) if row else None

    def live(self) -> list[dict]:
        with self.db.connect() as conn:
            rows = conn.execute(
                sa.select(projects).where(projects.c.archived.is_(None)).order_by(projects.c.name)
            ).all()
            return [self._row(conn, row) for row in rows]

    def archived(self) -> list[dict]:
        with self.db.connect() as conn:
            rows = conn.execute(
                sa.select(projects).where(projects.c.archived.is_not(None)).order_by(projects.c.archived)
            ).all()
            return [self._row(conn, row) for row in rows]

    def by_archive(self, archive: str) -> dict | None:
        with self.db.connect() as conn:
            row = conn.execute(sa.select(projects).where(projects.c.archive == archive)).first()
            return self._row(conn, row) if row else None

    def owned_by(self, username: str) -> int:
        """How many live projects ``username`` owns."""
        with self.db.connect() as conn:
            query = (
                sa.select(sa.func.count())
                .select_from(owners.join(projects, owners.c.project_id == projects.c.id))
                .where(owners.c.username == username, projects.c.archived.is_(None))
            )
            return conn.execute(query).scalar_one()

    def add(self, name: str, title: str, description: str, created_by: str, owner_names: list[str]) -> dict:
        with self.db.begin() as conn:
            project_id = conn.execute(
                projects.insert().values(
                    name=name, title=title, description=description, created=now(), created_by=created_by
                )
            ).inserted_primary_key[0]
            for owner in sorted(set(owner_names)):
                conn.execute(owners.insert().values(project_id=project_id, username=owner))
            return self._row(conn, conn.execute(sa.select(projects).where(projects.c.id == project_id)).one())

    def forget(self, project_id: int) -> None:
        """Remove a row entirely (a creation that failed half way)."""
        with self.db.begin() as conn:
            conn.execute(owners.delete().where(owners.c.project_id == project_id))
            conn.execute(projects.delete().where(projects.c.id == project_id))

    def update(self, project_id: int, **fields) -> None:
        with self.db.begin() as conn:
            conn.execute(projects.update().where(projects.c.id == project_id).values(**fields))

    def set_owner(self, project_id: int, username: str, owner: bool) -> None:
        with self.db.begin() as conn:
            conn.execute(owners.delete().where(owners.c.project_id == project_id, owners.c.username == username))
            if owner:
                conn.execute(owners.insert().values(project_id=project_id, username=username))

    def archive(self, project_id: int, archive: str | None) -> None:
        self.update(project_id, archived=now(), archive=archive)

    # --- notices -----------------------------------------------------------------
    def add_notice(self, username: str, project: str, message: str) -> dict:
        with self.db.begin() as conn:
            notice_id = conn.execute(
                notices.insert().values(username=username, project=project, message=message, created=now())
            ).inserted_primary_key[0]
        return {"id": notice_id, "project": project, "message": message}

    def notices(self, username: str) -> list[dict]:
        """``username``'s notices, oldest first."""
        with self.db.connect() as conn:
            rows = conn.execute(
                sa.select(notices).where(notices.c.username == username).order_by(notices.c.id)
            ).all()
        return [{"id": r.id, "project": r.project, "message": r.message, "created": iso(r.created)} for r in rows]

    def dismiss(self, username: str, notice_id: int) -> bool:
        """Remove one of ``username``'s notices; False when they have none of that id."""
        with self.db.begin() as conn:
            done = conn.execute(notices.delete().where(notices.c.id == notice_id, notices.c.username == username))
        return done.rowcount > 0
