"""The runner's records: runs and schedules, in SQLite (the default, in the state folder) or any SQLAlchemy URL.

A run is written before anything happens to it (``queued``) and changed at each step
(``running``, then how it ended), so that a runner killed at any point finds at its next
start every run it had: :meth:`Store.recover` marks the ones it left running ``interrupted``
and queues one retry of each (a new record whose ``retry_of`` names it). The executed
notebooks are files under the state folder; the record names them.

The tables are the models of :class:`Base`; their history is the Alembic revisions of
:mod:`statcommons.runner.migrations`, applied when the store opens its database (version in
``runner_alembic_version``).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column

from ..kit import database
from ..kit import migrations as dbschema
from . import migrations
from .failures import missing_package

STATUSES = ("queued", "running", "succeeded", "failed", "timeout", "interrupted", "cancelled")
ACTIVE = ("queued", "running")
FINISHED = tuple(s for s in STATUSES if s not in ACTIVE)
# A library notebook is failing when its latest finished run ended like this.
FAILING = ("failed", "timeout")


def now() -> datetime:
    return datetime.now(UTC)


def iso(moment: datetime | None) -> str | None:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ") if moment else None


class UTCDateTime(sa.types.TypeDecorator):
    """Timezone-aware UTC datetimes on every backend (SQLite keeps none)."""

    impl = sa.DateTime
    cache_ok = True

    def process_bind_param(self, value, dialect):
        return value.astimezone(UTC).replace(tzinfo=None) if value is not None else None

    def process_result_value(self, value, dialect):
        return value.replace(tzinfo=UTC) if value is not None else None


class Base(DeclarativeBase):
    """The declarative base of the runner tables."""


class Run(Base):
    """One execution of a notebook, from the request to how it ended."""

    __tablename__ = "runner_runs"

    id: Mapped[int] = mapped_column(sa.Integer, primary_key=True, autoincrement=True)
    user: Mapped[str] = mapped_column(sa.String(255), index=True)
    item: Mapped[str | None] = mapped_column(sa.String(80), index=True)
    path: Mapped[str | None] = mapped_column(sa.Text)
    parameters: Mapped[dict] = mapped_column(sa.JSON, default=dict)
    status: Mapped[str] = mapped_column(sa.String(20), index=True)
    created: Mapped[datetime] = mapped_column(UTCDateTime)
    started: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished: Mapped[datetime | None] = mapped_column(UTCDateTime)
    duration: Mapped[float | None] = mapped_column(sa.Float)
    error: Mapped[str | None] = mapped_column(sa.Text)
    failing_cell: Mapped[dict | None] = mapped_column(sa.JSON)
    image: Mapped[str] = mapped_column(sa.Text)
    image_id: Mapped[str | None] = mapped_column(sa.String(80))
    time_limit: Mapped[int] = mapped_column(sa.Integer)
    mem_limit: Mapped[int] = mapped_column(sa.BigInteger)
    source: Mapped[dict | None] = mapped_column(sa.JSON)
    container: Mapped[str | None] = mapped_column(sa.String(255))
    notebook: Mapped[str | None] = mapped_column(sa.Text)
    retry_of: Mapped[int | None] = mapped_column(sa.Integer, sa.ForeignKey("runner_runs.id"))
    schedule: Mapped[int | None] = mapped_column(sa.Integer, index=True)


# What a run was asked to do, as opposed to how it went: a retry asks the same.
REQUEST = ("user", "item", "path", "parameters", "source", "image", "time_limit", "mem_limit", "schedule")


class Schedule(Base):
    """A cron expression attached to a library notebook or a user's own notebook."""

    __tablename__ = "runner_schedules"

    id: Mapped[int] = mapped_column(sa.Integer, primary_key=True, autoincrement=True)
    user: Mapped[str] = mapped_column(sa.String(255), index=True)
    item: Mapped[str | None] = mapped_column(sa.String(80))
    path: Mapped[str | None] = mapped_column(sa.Text)
    cron: Mapped[str] = mapped_column(sa.String(200))
    parameters: Mapped[dict] = mapped_column(sa.JSON, default=dict)
    created: Mapped[datetime] = mapped_column(UTCDateTime)
    next_run: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    last_run: Mapped[int | None] = mapped_column(sa.Integer)


SCHEMA = dbschema.Schema(
    metadata=Base.metadata,
    scripts=migrations.FOLDER,
    version_table="runner_alembic_version",
    baseline="0001_baseline",
    marker="runner_runs",
)


def run_json(run: Run, prefix: str = "") -> dict[str, Any]:
    """A run as the API gives it."""
    return {
        "id": run.id,
        "user": run.user,
        "item": run.item,
        "path": run.path,
        "parameters": run.parameters or {},
        "status": run.status,
        "created": iso(run.created),
        "started": iso(run.started),
        "finished": iso(run.finished),
        "duration": run.duration,
        "error": run.error,
        "failing_cell": run.failing_cell,
        "missing_package": missing_package(run.error),
        "image": run.image,
        "image_id": run.image_id,
        "time_limit": run.time_limit,
        "mem_limit": run.mem_limit,
        "retry_of": run.retry_of,
        "schedule": run.schedule,
        "notebook_url": f"{prefix}api/runs/{run.id}/notebook" if run.notebook else None,
    }


def schedule_json(schedule: Schedule) -> dict[str, Any]:
    return {
        "id": schedule.id,
        "user": schedule.user,
        "item": schedule.item,
        "path": schedule.path,
        "cron": schedule.cron,
        "parameters": schedule.parameters or {},
        "created": iso(schedule.created),
        "next_run": iso(schedule.next_run),
        "last_run": schedule.last_run,
    }


class Store(database.Store):
    """Runs and schedules in one database; every method is one short transaction.

    Opening it makes the tables of a new database, or brings an older one to the newest revision.
    """

    schema = SCHEMA

    # Runs

    def add_run(self, **fields) -> Run:
        with Session(self.db, expire_on_commit=False) as session:
            run = Run(status="queued", created=now(), **fields)
            session.add(run)
            session.commit()
            return run

    def run(self, run_id: int) -> Run | None:
        with Session(self.db, expire_on_commit=False) as session:
            return session.get(Run, run_id)

    def update_run(self, run_id: int, only_if: Iterable[str] | None = None, **fields) -> Run | None:
        """Change a run; with ``only_if``, only while its status is one of those (None otherwise)."""
        with Session(self.db, expire_on_commit=False) as session:
            query = sa.update(Run).where(Run.id == run_id)
            if only_if is not None:
                query = query.where(Run.status.in_(tuple(only_if)))
            if session.execute(query.values(**fields)).rowcount == 0:
                return None
            session.commit()
            return session.get(Run, run_id)

    def runs(
        self,
        user: str | None = None,
        item: str | None = None,
        status: Iterable[str] | None = None,
        limit: int = 50,
        offset: int = 0,
    ) -> tuple[list[Run], int]:
        """Runs, newest first, with the total count of those matching."""
        query = sa.select(Run)
        if user is not None:
            query = query.where(Run.user == user)
        if item is not None:
            query = query.where(Run.item == item)
        if status:
            query = query.where(Run.status.in_(tuple(status)))
        with Session(self.db, expire_on_commit=False) as session:
            total = session.scalar(sa.select(sa.func.count()).select_from(query.subquery()))
            rows = session.scalars(query.order_by(Run.id.desc()).limit(limit).offset(offset)).all()
            return list(rows), total

    def finished_before(self, moment: datetime, run_ids: Iterable[int]) -> list[int]:
        """Those of ``run_ids`` that ended before ``moment``."""
        query = sa.select(Run.id).where(Run.id.in_(list(run_ids)), Run.finished < moment, Run.status.notin_(ACTIVE))
        with Session(self.db) as session:
            return list(session.scalars(query))

    def waiting(self) -> list[tuple[int, str]]:
        """(id, user) of the runs waiting to start, oldest first: what the queue chooses from."""
        query = sa.select(Run.id, Run.user).where(Run.status == "queued").order_by(Run.id)
        with Session(self.db) as session:
            return [(run_id, user) for run_id, user in session.execute(query)]

    def last_started(self) -> dict[str, datetime]:
        """When each user's latest run started: the queue's memory of turns, at the runner's start."""
        query = sa.select(Run.user, sa.func.max(Run.started)).where(Run.started.is_not(None)).group_by(Run.user)
        with Session(self.db) as session:
            return {user: moment for user, moment in session.execute(query)}

    def active_items(self, user: str) -> set[str]:
        """The library items of which ``user`` has a run queued or running."""
        query = sa.select(Run.item).where(Run.user == user, Run.item.is_not(None), Run.status.in_(ACTIVE)).distinct()
        with Session(self.db) as session:
            return set(session.scalars(query))

    def failing(self, user: str | None = None) -> list[Run]:
        """The latest finished run of each library notebook, where that run failed or timed out."""
        latest = (
            sa.select(sa.func.max(Run.id))
            .where(Run.item.is_not(None), Run.status.in_(FINISHED), Run.status != "cancelled")
            .group_by(Run.item)
        )
        query = sa.select(Run).where(Run.id.in_(latest), Run.status.in_(FAILING))
        if user is not None:
            query = query.where(Run.user == user)
        with Session(self.db, expire_on_commit=False) as session:
            return list(session.scalars(query.order_by(Run.item)))

    def recover(self, reason: str) -> list[tuple[Run, Run | None]]:
        """After a crash: every run left ``running`` becomes ``interrupted``, and one retry of each is queued.

        A run that is itself a retry is not retried again. Returns (interrupted run, its retry or None).
        """
        moment = now()
        done = []
        with Session(self.db, expire_on_commit=False) as session:
            for run in session.scalars(sa.select(Run).where(Run.status == "running").order_by(Run.id)):
                run.status = "interrupted"
                run.finished = moment
                run.error = reason
                if run.started:
                    run.duration = round((moment - run.started).total_seconds(), 2)
                retry = None
                if run.retry_of is None:
                    retry = Run(
                        status="queued",
                        created=moment,
                        retry_of=run.id,
                        **{k: getattr(run, k) for k in REQUEST},
                    )
                    session.add(retry)
                done.append((run, retry))
            session.commit()
        return done

    # Schedules

    def add_schedule(self, **fields) -> Schedule:
        with Session(self.db, expire_on_commit=False) as session:
            schedule = Schedule(created=now(), **fields)
            session.add(schedule)
            session.commit()
            return schedule

    def schedule(self, schedule_id: int) -> Schedule | None:
        with Session(self.db, expire_on_commit=False) as session:
            return session.get(Schedule, schedule_id)

    def schedules(self, user: str | None = None) -> list[Schedule]:
        query = sa.select(Schedule).order_by(Schedule.id)
        if user is not None:
            query = query.where(Schedule.user == user)
        with Session(self.db, expire_on_commit=False) as session:
            return list(session.scalars(query))

    def delete_schedule(self, schedule_id: int) -> None:
        with Session(self.db) as session:
            session.execute(sa.delete(Schedule).where(Schedule.id == schedule_id))
            session.commit()

    def due(self, moment: datetime) -> list[Schedule]:
        with Session(self.db, expire_on_commit=False) as session:
            query = sa.select(Schedule).where(Schedule.next_run <= moment).order_by(Schedule.next_run)
            return list(session.scalars(query))

    def next_due(self) -> datetime | None:
        with Session(self.db) as session:
            return session.scalar(sa.select(sa.func.min(Schedule.next_run)))

    def schedule_fired(self, schedule_id: int, next_run: datetime, run_id: int | None) -> None:
        values: dict[str, Any] = {"next_run": next_run}
        if run_id is not None:
            values["last_run"] = run_id
        with Session(self.db) as session:
            session.execute(sa.update(Schedule).where(Schedule.id == schedule_id).values(**values))
            session.commit()

    def schedule_busy(self, schedule_id: int) -> bool:
        """Whether a run of this schedule is still queued or running."""
        with Session(self.db) as session:
            query = sa.select(Run.id).where(Run.schedule == schedule_id, Run.status.in_(ACTIVE)).limit(1)
            return session.scalar(query) is not None
