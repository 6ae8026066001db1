"""The library's tables, under one declarative base: items and their facet rows, ratings, comments, and attachments.

An item row keeps the item's JSON (``data``) plus the columns search, sorting and visibility
use; ``library_item_facets`` has one row per facet value. The attachments (notebook files,
video files in chunks, the runner's last run of a notebook) are keyed by item id rather than
by the item row, as the release before migrations made them. What the models cannot express
(SQLite's FTS5 table and its triggers, PostgreSQL's GIN index) is made by
:mod:`.search.sql`; the history of these tables is :mod:`statcommons.library.migrations`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import TSVECTOR
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    """The declarative base of every library table."""


class Item(Base):
    """One catalogue item: its JSON (``data``) and the columns search, sorting and visibility use."""

    __tablename__ = "library_items"

    pk: Mapped[int] = mapped_column(sa.Integer, primary_key=True, autoincrement=True)
    id: Mapped[str] = mapped_column(sa.String(80), unique=True)
    type: Mapped[str] = mapped_column(sa.String(20))
    status: Mapped[str] = mapped_column(sa.String(20))
    year: Mapped[int | None] = mapped_column(sa.Integer)
    created: Mapped[str | None] = mapped_column(sa.String(40))
    title: Mapped[str] = mapped_column(sa.Text)
    title_sort: Mapped[str] = mapped_column(sa.String(200))
    summary: Mapped[str] = mapped_column(sa.Text)
    authors_text: Mapped[str] = mapped_column(sa.Text, default="")
    keywords_text: Mapped[str] = mapped_column(sa.Text, default="")
    licence: Mapped[str | None] = mapped_column(sa.Text)
    submitter: Mapped[str | None] = mapped_column(sa.Text)
    origin: Mapped[str] = mapped_column(sa.String(10))
    status_reason: Mapped[str | None] = mapped_column(sa.Text)
    revision: Mapped[int] = mapped_column(sa.Integer, default=1, server_default="1")
    rating_count: Mapped[int] = mapped_column(sa.Integer, default=0)
    rating_avg: Mapped[float | None] = mapped_column(sa.Float)
    data: Mapped[dict] = mapped_column(sa.JSON)
    search_vector: Mapped[Any] = mapped_column(
        "search", sa.Text().with_variant(TSVECTOR(), "postgresql"), nullable=True, deferred=True
    )
    added: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True))

    __table_args__ = (
        sa.Index("ix_library_items_type", "status", "type"),
        sa.Index("ix_library_items_licence", "status", "licence"),
        sa.Index("ix_library_items_newest", "status", "year", "created"),
        sa.Index("ix_library_items_title", "status", "title_sort"),
        sa.Index("ix_library_items_rating", "status", "rating_avg"),
        sa.Index("ix_library_items_submitter", "submitter"),
    )


class Facet(Base):
    """One facet value of an item, such as (``topic``, ``record-linkage``) or (``gsbpm``, ``5``)."""

    __tablename__ = "library_item_facets"

    item_pk: Mapped[int] = mapped_column(sa.ForeignKey("library_items.pk", ondelete="CASCADE"), primary_key=True)
    facet: Mapped[str] = mapped_column(sa.String(20), primary_key=True)
    value: Mapped[str] = mapped_column(sa.Text, primary_key=True)

    __table_args__ = (sa.Index("ix_library_item_facets_value", "facet", "value", "item_pk"),)


class Rating(Base):
    """One reader's stars for one item."""

    __tablename__ = "library_ratings"

    item_pk: Mapped[int] = mapped_column(sa.ForeignKey("library_items.pk", ondelete="CASCADE"), primary_key=True)
    user: Mapped[str] = mapped_column(sa.Text, primary_key=True)
    stars: Mapped[int] = mapped_column(sa.Integer)
    rated: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True))

    __table_args__ = (sa.CheckConstraint("stars BETWEEN 1 AND 5", name="ck_library_ratings_stars"),)


class Comment(Base):
    """A reader's comment on an item, in Markdown; curators hide rather than delete."""

    __tablename__ = "library_comments"

    id: Mapped[int] = mapped_column(sa.Integer, primary_key=True, autoincrement=True)
    item_pk: Mapped[int] = mapped_column(sa.ForeignKey("library_items.pk", ondelete="CASCADE"), index=True)
    author: Mapped[str] = mapped_column(sa.Text)
    text: Mapped[str] = mapped_column(sa.Text)
    hidden: Mapped[bool] = mapped_column(sa.Boolean, default=False)
    created: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True))


class Notebook(Base):
    """The notebook a submission carried, as the JSON text sent."""

    __tablename__ = "library_notebooks"

    item_id: Mapped[str] = mapped_column(sa.String(80), primary_key=True)
    content: Mapped[str] = mapped_column(sa.Text)
    size: Mapped[int] = mapped_column(sa.Integer)
    sha256: Mapped[str] = mapped_column(sa.String(64))
    updated: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True))


class Video(Base):
    """A video file the library keeps for a video item: what it is; its bytes are :class:`VideoChunk` rows."""

    __tablename__ = "library_videos"

    item_id: Mapped[str] = mapped_column(sa.String(80), primary_key=True)
    file: Mapped[str] = mapped_column(sa.String(130))
    content_type: Mapped[str] = mapped_column(sa.String(40))
    size: Mapped[int] = mapped_column(sa.BigInteger)
    sha256: Mapped[str] = mapped_column(sa.String(64))
    updated: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True))


class VideoChunk(Base):
    """Bytes of a video file, the ``seq``-th chunk of it."""

    __tablename__ = "library_video_chunks"

    item_id: Mapped[str] = mapped_column(sa.String(80), primary_key=True)
    seq: Mapped[int] = mapped_column(sa.Integer, primary_key=True)
    data: Mapped[bytes] = mapped_column(sa.LargeBinary)


class LastRun(Base):
    """The runner's record of a notebook's latest run, kept apart from the item so that reloading its file keeps it."""

    __tablename__ = "library_last_runs"

    item_id: Mapped[str] = mapped_column(sa.String(80), primary_key=True)
    run: Mapped[dict] = mapped_column(sa.JSON)
