"""What leaves the catalogue in bulk: every item for the curated folder and DCAT, and the git origins of notebooks."""

from __future__ import annotations

from urllib.parse import urlsplit

import sqlalchemy as sa
from sqlalchemy.orm import Session

from .tables import Item

ORIGINS = (None, "folder", "api")


def export(session: Session, origin: str | None) -> list[dict]:
    """Every item, sorted by id; with ``origin``, only those of the curated folder or of the service."""
    if origin not in ORIGINS:
        raise ValueError(f"{origin!r} is not an origin: use 'folder' or 'api'")
    query = sa.select(Item.data).order_by(Item.id)
    if origin is not None:
        query = query.where(Item.origin == origin)
    return list(session.scalars(query))


def repository_origins(session: Session) -> list[str]:
    """``scheme://host[:port]`` of every published notebook kept in a git repository, sorted."""
    query = sa.select(Item.data).where(Item.status == "published", Item.type == "notebook")
    found = set()
    for data in session.scalars(query):
        repository = (data.get("notebook") or {}).get("repository")
        if not isinstance(repository, str):
            continue
        parts = urlsplit(repository)
        if parts.scheme in ("http", "https") and parts.hostname:
            found.add(f"{parts.scheme}://{parts.netloc.rsplit('@', 1)[-1]}".lower())
    return sorted(found)
