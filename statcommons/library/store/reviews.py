"""Reviews and statuses: a curator's decision on the revision they read, and status changes that need no review.

A review names the revision the curator judges and is refused, changing nothing, when the item
changed since (:func:`review`), so what is published is what the curator read. Reviews make no
new revision.
"""

from __future__ import annotations

from collections.abc import Iterable

from . import items
from .change import Change
from .errors import Conflict


def set_status(change: Change, item_id: str, status: str, reason: str | None) -> dict:
    """Move an item to ``status``, keeping the reason given, whatever its revision."""
    row = items.row(change.session, item_id)
    data = {**row.data, "status": status}
    items.save(change, row, data)
    row.status_reason = reason
    return data


def review(
    change: Change, item_id: str, status: str, revision: int, reason: str | None, from_statuses: Iterable[str] | None
) -> dict:
    """Move the item to ``status`` if it is still at ``revision`` (and in one of ``from_statuses``), on a locked row."""
    row = items.row(change.session, item_id, lock=True)
    if row.revision != revision:
        raise Conflict(_changed(row.id, revision, row.revision))
    if from_statuses is not None and row.status not in from_statuses:
        raise Conflict(f"{row.id!r} is {row.status}: only items that are "
                       f"{' or '.join(from_statuses)} can be {status}")  # fmt: skip
    data = {**row.data, "status": status, "updated": items.timestamp()}
    items.save(change, row, data)
    row.status_reason = reason
    return data


def _changed(item_id: str, seen: int, current: int) -> str:
    if seen > current:
        return f"{item_id!r} has no revision {seen} (it is at revision {current}): read it again"
    return f"{item_id!r} changed since revision {seen} (it is at revision {current} now): read it again"
