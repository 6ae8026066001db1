"""What the library keeps beside the items, by item id: notebook files, video files and notebooks' last runs.

A user submitting a notebook from their own home sends its ``.ipynb`` JSON with the item;
:class:`Attachments` keeps it as sent and serves it back as a file. A video item may name a
``video.file`` that the library stores and plays itself: its bytes are kept in chunks of
:data:`CHUNK` bytes, so that a range request (a player seeking) reads only the chunks it needs,
on SQLite and PostgreSQL alike.

The runner's record of a notebook's latest run (``last_run``) lives here too rather than in
the item, so that reloading a curated file at start never erases it.

A notebook or a video is part of what a curator reviews: the service stores them through
:meth:`Store.add <.catalogue.Store.add>` and :meth:`Store.update <.catalogue.Store.update>`
(``attach``), which pass the connection of the transaction that makes the item's new revision.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import BinaryIO

import sqlalchemy as sa

from .tables import Base, LastRun, Notebook, Video, VideoChunk

CHUNK = 1024 * 1024
_TABLES = [model.__table__ for model in (Notebook, Video, VideoChunk, LastRun)]


@contextmanager
def _transaction(db: sa.Engine, connection: sa.Connection | None) -> Iterator[sa.Connection]:
    """The connection given, in the transaction its caller commits; else a transaction of our own."""
    if connection is not None:
        yield connection
    else:
        with db.begin() as own:
            yield own


class Attachments:
    """Notebook files, video files and last runs by item id, in the database of a :class:`~.catalogue.Store`."""

    def __init__(self, db: sa.Engine):
        self.db = db
        # The store makes these tables with the others; a database of the release before migrations
        # has them only once its service started, so make them here too when they are missing.
        Base.metadata.create_all(db, tables=_TABLES)

    def put_notebook(self, item_id: str, content: dict, connection: sa.Connection | None = None) -> dict:
        """Keep (or replace) the notebook of an item; returns its ``size`` and ``sha256``.

        In ``connection``'s transaction when given, else in one of its own.
        """
        text = json.dumps(content, ensure_ascii=False, separators=(",", ":"))
        row = {
            "content": text,
            "size": len(text.encode()),
            "sha256": hashlib.sha256(text.encode()).hexdigest(),
            "updated": datetime.now(UTC),
        }
        with _transaction(self.db, connection) as conn:
            changed = conn.execute(sa.update(Notebook).where(Notebook.item_id == item_id).values(**row)).rowcount
            if not changed:
                conn.execute(sa.insert(Notebook).values(item_id=item_id, **row))
        return {"size": row["size"], "sha256": row["sha256"]}

    def notebook(self, item_id: str) -> str | None:
        """The notebook's JSON text, or None when the item carries none."""
        with self.db.connect() as conn:
            return conn.scalar(sa.select(Notebook.content).where(Notebook.item_id == item_id))

    def put_video(
        self, item_id: str, file: str, content_type: str, source: BinaryIO, connection: sa.Connection | None = None
    ) -> dict:
        """Keep (or replace) the video file of an item, read from ``source`` chunk by chunk.

        In ``connection``'s transaction when given, else in one of its own.
        """
        digest, size, seq = hashlib.sha256(), 0, 0
        with _transaction(self.db, connection) as conn:
            conn.execute(sa.delete(VideoChunk).where(VideoChunk.item_id == item_id))
            conn.execute(sa.delete(Video).where(Video.item_id == item_id))
            while chunk := source.read(CHUNK):
                digest.update(chunk)
                size += len(chunk)
                conn.execute(sa.insert(VideoChunk).values(item_id=item_id, seq=seq, data=chunk))
                seq += 1
            row = {"file": file, "content_type": content_type, "size": size, "sha256": digest.hexdigest()}
            conn.execute(sa.insert(Video).values(item_id=item_id, updated=datetime.now(UTC), **row))
        return row

    def video(self, item_id: str) -> dict | None:
        """The stored video's ``file``, ``content_type``, ``size``, ``sha256`` and ``updated``, or None."""
        with self.db.connect() as conn:
            row = conn.execute(sa.select(Video.__table__).where(Video.item_id == item_id)).first()
        return dict(row._mapping) if row else None

    def video_bytes(self, item_id: str, start: int, end: int) -> Iterator[bytes]:
        """The bytes ``start`` to ``end`` (inclusive) of an item's video, a chunk at a time."""
        first, last = start // CHUNK, end // CHUNK
        for seq in range(first, last + 1):
            with self.db.connect() as conn:
                data = conn.scalar(
                    sa.select(VideoChunk.data).where(VideoChunk.item_id == item_id, VideoChunk.seq == seq)
                )
            if data is None:
                return
            low = start - seq * CHUNK if seq == first else 0
            high = end - seq * CHUNK + 1 if seq == last else len(data)
            yield bytes(data[low:high])

    def set_last_run(self, item_id: str, run: dict) -> None:
        """Keep ``run`` as the item's last run unless the one kept already finished later.

        The runner records each run as it ends, and a record may arrive late (it retries when the
        library is busy): an earlier run's late record must not hide a later one.
        """
        with self.db.begin() as conn:
            query = sa.select(LastRun.run).where(LastRun.item_id == item_id).with_for_update()
            kept = conn.execute(query).scalar_one_or_none()
            if kept is None:
                conn.execute(sa.insert(LastRun).values(item_id=item_id, run=run))
            elif _finished(kept) <= _finished(run):
                conn.execute(sa.update(LastRun).where(LastRun.item_id == item_id).values(run=run))

    def failing_runs(self) -> dict[str, dict]:
        """The latest run of each notebook whose latest run failed or timed out."""
        with self.db.connect() as conn:
            rows = conn.execute(sa.select(LastRun.__table__))
            return {row.item_id: row.run for row in rows if (row.run or {}).get("status") in ("failed", "timeout")}

    def last_runs(self, item_ids: list[str]) -> dict[str, dict]:
        """The latest run of each of those items that has one."""
        if not item_ids:
            return {}
        with self.db.connect() as conn:
            rows = conn.execute(sa.select(LastRun.__table__).where(LastRun.item_id.in_(item_ids)))
            return {row.item_id: row.run for row in rows}


def _finished(run: dict) -> datetime:
    try:
        moment = datetime.fromisoformat(str(run.get("finished")))
    except ValueError:
        return datetime.min.replace(tzinfo=UTC)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
