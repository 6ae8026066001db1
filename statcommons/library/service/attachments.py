"""What the service keeps beside the items, in the catalogue's database: notebook files, video files and last runs.

A user submitting a notebook from their own home sends its ``.ipynb`` JSON with the
item (``notebook_content``); :class:`Attachments` keeps it, keyed by item id, and serves
it back as a file. Only the shape of a notebook is checked (nbformat 4, a list of cells):
it is stored as sent and never executed by the service.

A video item may name a ``video.file`` that the library stores and plays itself. Its bytes
are kept in chunks of :data:`CHUNK` bytes, so that a range request (a player seeking) reads
only the chunks it needs, on SQLite and PostgreSQL alike.

The runner's record of a notebook's latest run (``last_run``) lives here too rather than in
the item, so that reloading a curated file at start never erases it.

A notebook or a video is part of what a curator reviews: the service stores them through
:meth:`Store.add <statcommons.library.store.Store.add>` and
:meth:`Store.update <statcommons.library.store.Store.update>` (``attach``), which pass the
connection of the transaction that makes the item's new revision.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import BinaryIO

import sqlalchemy as sa

_metadata = sa.MetaData()
notebooks = sa.Table(
    "library_notebooks",
    _metadata,
    sa.Column("item_id", sa.String(80), primary_key=True),
    sa.Column("content", sa.Text, nullable=False),
    sa.Column("size", sa.Integer, nullable=False),
    sa.Column("sha256", sa.String(64), nullable=False),
    sa.Column("updated", sa.DateTime(timezone=True), nullable=False),
)
CHUNK = 1024 * 1024
videos = sa.Table(
    "library_videos",
    _metadata,
    sa.Column("item_id", sa.String(80), primary_key=True),
    sa.Column("file", sa.String(130), nullable=False),
    sa.Column("content_type", sa.String(40), nullable=False),
    sa.Column("size", sa.BigInteger, nullable=False),
    sa.Column("sha256", sa.String(64), nullable=False),
    sa.Column("updated", sa.DateTime(timezone=True), nullable=False),
)
video_chunks = sa.Table(
    "library_video_chunks",
    _metadata,
    sa.Column("item_id", sa.String(80), primary_key=True),
    sa.Column("seq", sa.Integer, primary_key=True),
    sa.Column("data", sa.LargeBinary, nullable=False),
)
last_runs = sa.Table(
    "library_last_runs",
    _metadata,
    sa.Column("item_id", sa.String(80), primary_key=True),
    sa.Column("run", sa.JSON, nullable=False),
)


def notebook_problem(content: object) -> str | None:
    """Why ``content`` is not a Jupyter notebook (nbformat 4), or None when it is one."""
    if not isinstance(content, dict):
        return f"expected the notebook's JSON object, found {type(content).__name__}"
    if content.get("nbformat") != 4:
        return "expected a notebook in nbformat 4 (the field nbformat is not 4)"
    if not isinstance(content.get("cells"), list):
        return "expected a notebook with a list of cells"
    if not isinstance(content.get("metadata", {}), dict):
        return "expected the notebook's metadata to be an object"
    return None


@contextmanager
def _transaction(engine: sa.Engine, connection: sa.Connection | None) -> Iterator[sa.Connection]:
    """The connection given, in the transaction its caller commits; else a transaction of our own."""
    if connection is not None:
        yield connection
    else:
        with engine.begin() as own:
            yield own


class Attachments:
    """Notebook files and last runs by item id, in the database of a :class:`~statcommons.library.store.Store`."""

    def __init__(self, engine: sa.Engine):
        self.engine = engine
        _metadata.create_all(engine)

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
        with _transaction(self.engine, connection) as conn:
            changed = conn.execute(sa.update(notebooks).where(notebooks.c.item_id == item_id).values(**row)).rowcount
            if not changed:
                conn.execute(sa.insert(notebooks).values(item_id=item_id, **row))
        return {"size": row["size"], "sha256": row["sha256"]}

    def notebook(self, item_id: str) -> str | None:
        """The notebook's JSON text, or None when the item carries none."""
        with self.engine.connect() as conn:
            return conn.scalar(sa.select(notebooks.c.content).where(notebooks.c.item_id == item_id))

    def put_video(
        self, item_id: str, file: str, content_type: str, source: BinaryIO, connection: sa.Connection | None = None
    ) -> dict:
        """Keep (or replace) the video file of an item, read from ``source`` chunk by chunk.

        In ``connection``'s transaction when given, else in one of its own.
        """
        digest, size, seq = hashlib.sha256(), 0, 0
        with _transaction(self.engine, connection) as conn:
            conn.execute(sa.delete(video_chunks).where(video_chunks.c.item_id == item_id))
            conn.execute(sa.delete(videos).where(videos.c.item_id == item_id))
            while chunk := source.read(CHUNK):
                digest.update(chunk)
                size += len(chunk)
                conn.execute(sa.insert(video_chunks).values(item_id=item_id, seq=seq, data=chunk))
                seq += 1
            row = {"file": file, "content_type": content_type, "size": size, "sha256": digest.hexdigest()}
            conn.execute(sa.insert(videos).values(item_id=item_id, updated=datetime.now(UTC), **row))
        return row

    def video(self, item_id: str) -> dict | None:
        """The stored video's ``file``, ``content_type``, ``size``, ``sha256`` and ``updated``, or None."""
        with self.engine.connect() as conn:
            row = conn.execute(sa.select(videos).where(videos.c.item_id == item_id)).first()
        return dict(row._mapping) if row else None

    def video_bytes(self, item_id: str, start: int, end: int) -> Iterator[bytes]:
        """The bytes ``start`` to ``end`` (inclusive) of an item's video, a chunk at a time."""
        first, last = start // CHUNK, end // CHUNK
        for seq in range(first, last + 1):
            with self.engine.connect() as conn:
                data = conn.scalar(
                    sa.select(video_chunks.c.data).where(video_chunks.c.item_id == item_id, video_chunks.c.seq == seq)
                )
            if data is None:
                return
            low = start - seq * CHUNK if seq == first else 0
            high = end - seq * CHUNK + 1 if seq == last else len(data)
            yield bytes(data[low:high])

    def set_last_run(self, item_id: str, run: dict) -> None:
        with self.engine.begin() as conn:
            if not conn.execute(sa.update(last_runs).where(last_runs.c.item_id == item_id).values(run=run)).rowcount:
                conn.execute(sa.insert(last_runs).values(item_id=item_id, run=run))

    def last_runs(self, item_ids: list[str]) -> dict[str, dict]:
        """The latest run of each of those items that has one."""
        if not item_ids:
            return {}
        with self.engine.connect() as conn:
            rows = conn.execute(sa.select(last_runs).where(last_runs.c.item_id.in_(item_ids)))
            return {row.item_id: row.run for row in rows}
