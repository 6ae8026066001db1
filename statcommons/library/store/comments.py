"""Comments: readers' Markdown about an item, stored as written; curators hide rather than delete."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Session

from .. import search
from . import items
from .errors import NotFound
from .tables import Comment

MAX_COMMENT_LENGTH = 10_000


def _json(comment: Comment) -> dict:
    return {
        "id": comment.id,
        "author": comment.author,
        "text": comment.text,
        "hidden": comment.hidden,
        "created": comment.created.isoformat(),
    }


def add(session: Session, item_id: str, user: str, text: str) -> dict:
    """Add a reader's comment (render it escaped)."""
    text = search.clean(str(text)).strip()
    if not text or len(text) > MAX_COMMENT_LENGTH:
        raise ValueError(f"a comment has 1 to {MAX_COMMENT_LENGTH} characters")
    row = items.row(session, item_id)
    comment = Comment(item_pk=row.pk, author=search.clean(str(user)), text=text, hidden=False, created=items.now())
    session.add(comment)
    session.flush()
    return _json(comment)


def listed(session: Session, item_id: str, include_hidden: bool) -> list[dict]:
    """The comments of an item, oldest first; hidden ones only when asked."""
    row = items.row(session, item_id)
    query = sa.select(Comment).where(Comment.item_pk == row.pk).order_by(Comment.created, Comment.id)
    if not include_hidden:
        query = query.where(Comment.hidden.is_(False))
    return [_json(c) for c in session.scalars(query)]


def hide(session: Session, comment_id: int, hidden: bool) -> dict:
    """Hide a comment (or show it again)."""
    comment = session.get(Comment, int(comment_id))
    if comment is None:
        raise NotFound(f"no comment {comment_id!r}")
    comment.hidden = hidden
    return _json(comment)
