"""Ratings: one reader's 1 to 5 stars per item, averaged on the item row for sorting and showing."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from .. import search
from . import items
from .change import Change
from .tables import Item, Rating


def rating_json(row: Any) -> dict:
    """The ``average`` stars (None before the first rating) and ``count`` of an item row."""
    average = round(row.rating_avg, 2) if row.rating_avg is not None else None
    return {"average": average, "count": row.rating_count}


def rate(change: Change, item_id: str, user: str, stars: int) -> dict:
    """Record a reader's stars (a new rating replaces theirs); returns the item's ``average`` and ``count``."""
    if isinstance(stars, bool) or not isinstance(stars, int) or not 1 <= stars <= 5:
        raise ValueError(f"{stars!r} is not a rating: give 1 to 5 stars")
    user = search.clean(str(user))
    if not user:
        raise ValueError("a rating needs a user")
    session = change.session
    row = items.row(session, item_id)
    existing = session.get(Rating, (row.pk, user))
    if existing is None:
        session.add(Rating(item_pk=row.pk, user=user, stars=stars, rated=items.now()))
    else:
        existing.stars, existing.rated = stars, items.now()
    session.flush()
    count, average = session.execute(
        sa.select(sa.func.count(), sa.func.avg(Rating.stars)).where(Rating.item_pk == row.pk)
    ).one()
    row.rating_count, row.rating_avg = count, float(average) if average is not None else None
    change.rated(row.pk, row.rating_avg, row.rating_count)
    return rating_json(row)


def stars(session: Session, item_id: str, user: str) -> int | None:
    """The stars ``user`` gave the item, or None."""
    return session.scalar(
        sa.select(Rating.stars).join(Item, Item.pk == Rating.item_pk).where(Item.id == item_id, Rating.user == user)
    )
