"""Item rows: an item's JSON and the columns and facet rows search needs; adding, reading and changing them.

Each item is kept as the JSON that :func:`~statcommons.library.schema.validate_item` accepted,
plus the columns search needs: type, status, year, title, summary, authors, keywords and
licence on the item row, and one row per facet value (type, licence, topic, organisation,
language, GSBPM code) in ``library_item_facets``. A GSBPM sub-process ``5.1`` is also recorded
under its phase ``5``, so filtering by a phase finds its sub-processes.

Every item has a ``revision``, 1 when it is added, one more at each change of its fields or of
a file attached to it (:func:`update`, a changed curated file); a change after a rejection
sends the item back to ``submitted``.
"""

from __future__ import annotations

import itertools
import re
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from .. import gsbpm, search
from ..schema import Problem, apply_defaults, validate_item
from .change import Change
from .errors import Conflict, InvalidItem, NotFound
from .search.sql import tsvector, tsvector_of_parameters, words_parameters
from .tables import Facet, Item

_LIST_FACETS = {"topic": "topics", "organisation": "organisations", "language": "languages"}
# A change of these statuses is reviewed again; others keep theirs (drafts are not yet
# submitted, published and retired items are changed by curators only).
_REVIEWED_AGAIN = {"rejected": "submitted"}
_BULK_CHUNK = 2_000

Attach = Callable[[sa.Connection, dict], Any]
"""Stores a file with an item, in the transaction that adds or changes it: ``attach(connection, item)``."""


def now() -> datetime:
    return datetime.now(UTC)


def timestamp() -> str:
    """Now, as items give their ``created`` and ``updated`` dates."""
    return now().strftime("%Y-%m-%dT%H:%M:%SZ")


def slugify(title: str) -> str:
    """A slug of 3 to 72 characters from a title: ``"Record linkage in R"`` -> ``record-linkage-in-r``."""
    ascii_text = unicodedata.normalize("NFKD", title).encode("ascii", "ignore").decode("ascii").lower()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_text).strip("-")[:72].strip("-")
    if len(slug) < 3:
        slug = f"{slug}-item" if slug else "item"
    return slug


def text_problems(value: Any, path: str = "") -> list[Problem]:
    """Problems with text no database stores: NUL characters and lone surrogates."""
    if isinstance(value, dict):
        return [p for key, entry in value.items() for p in text_problems(entry, f"{path}.{key}".lstrip("."))]
    if isinstance(value, list):
        return [p for i, entry in enumerate(value) for p in text_problems(entry, f"{path}[{i}]")]
    if isinstance(value, str) and search.clean(value) != value:
        return [Problem(path, "contains a NUL character or an invalid Unicode character")]
    return []


def checked(item: dict) -> dict:
    """``item``, or :class:`InvalidItem` with every problem the schema or the database would have with it."""
    problems = sorted(set(validate_item(item)) | set(text_problems(item)))
    if problems:
        raise InvalidItem(problems)
    return item


def facet_values(item: dict) -> set[tuple[str, str]]:
    values = {("type", item["type"])}
    if item.get("licence"):
        values.add(("licence", item["licence"]))
    for facet, key in _LIST_FACETS.items():
        values.update((facet, value) for value in item.get(key, []))
    for code in item.get("gsbpm", []):
        values.update({("gsbpm", code), ("gsbpm", gsbpm.phase_of(code))})
    return values


def columns(item: dict) -> dict[str, Any]:
    """The columns of an item row that come from the item itself."""
    return {
        "id": item["id"],
        "type": item["type"],
        "status": item.get("status", "published"),
        "year": item.get("year"),
        "created": item.get("created"),
        "licence": item.get("licence"),
        "title": item["title"],
        "title_sort": item["title"].casefold()[:200],
        "summary": item["summary"],
        "authors_text": " ; ".join(item.get("authors", [])),
        "keywords_text": " ; ".join(item.get("keywords", [])),
        "data": item,
    }


def _content(item: dict) -> dict:
    """What a revision is made of: every field but the status and the date of the last change."""
    return {k: v for k, v in item.items() if k not in ("status", "updated")}


# Reading


def row(session: Session, item_id: str, lock: bool = False) -> Item:
    """The row of an item; ``lock`` keeps other transactions from changing it until this one ends."""
    query = sa.select(Item).where(Item.id == search.clean(str(item_id)))
    # PostgreSQL locks the row; SQLite has no row locks, and this process's writes hold the store's lock.
    found = session.scalar(query.with_for_update() if lock else query)
    if found is None:
        raise NotFound(f"no library item {item_id!r}")
    return found


def rows(session: Session, ids: list[str]) -> dict[str, Item]:
    """The rows of the items with those ids that exist, by id."""
    found: dict[str, Item] = {}
    for start in range(0, len(ids), 500):
        chunk = sa.select(Item).where(Item.id.in_(ids[start : start + 500]))
        found.update((item.id, item) for item in session.scalars(chunk))
    return found


@dataclass(frozen=True)
class Record:
    """An item as the service shows it: its JSON and what the store keeps beside it."""

    data: dict
    submitter: str | None
    origin: str
    """``folder`` for an item of the curated folder, ``api`` for one that came through the service."""
    status_reason: str | None
    revision: int
    rating_avg: float | None
    rating_count: int


def record(session: Session, item_id: str) -> Record | None:
    """The :class:`Record` of the item with that id, or None."""
    selected = (Item.data, Item.submitter, Item.origin, Item.status_reason, Item.revision)
    selected += (Item.rating_avg, Item.rating_count)
    found = session.execute(sa.select(*selected).where(Item.id == search.clean(str(item_id)))).first()
    return Record(*found) if found is not None else None


# Writing


def save(change: Change, row: Item, item: dict) -> None:
    """Copy what search needs from ``item`` to ``row`` (new or not) and its facet rows."""
    session = change.session
    for key, value in columns(item).items():
        setattr(row, key, value)
    if change.dialect == "postgresql":
        row.search_vector = tsvector(row)
    if row.pk is None:
        session.add(row)
        session.flush()
    else:
        session.execute(sa.delete(Facet).where(Facet.item_pk == row.pk))
    facets = sorted(facet_values(item))
    session.add_all(Facet(item_pk=row.pk, facet=f, value=v) for f, v in facets)
    change.saved(row, facets)


def _free_id(session: Session, title: str) -> str:
    base = slugify(title)
    taken = set(session.scalars(sa.select(Item.id).where(Item.id.like(f"{base}%"))))
    n = 1
    candidate = base
    while candidate in taken:
        n += 1
        candidate = f"{base}-{n}"
    return candidate


def insert(
    change: Change, item: dict, submitter: str | None, status: str, origin: str = "api", attach: Attach | None = None
) -> dict:
    """Add one item at revision 1 (see :meth:`Store.add <.catalogue.Store.add>`); returns it as stored."""
    session = change.session
    data = apply_defaults({**item, "status": status})
    if "id" not in data and isinstance(data.get("title"), str):
        data = {"id": _free_id(session, data["title"]), **data}
    data.setdefault("created", timestamp())
    checked(data)
    if session.scalar(sa.select(Item.pk).where(Item.id == data["id"])) is not None:
        raise ValueError(f"library item {data['id']!r} already exists")
    save(change, Item(submitter=submitter, origin=origin, rating_count=0, revision=1, added=now()), data)
    if attach is not None:
        attach(session.connection(), data)
    return data


def update(
    change: Change,
    item_id: str,
    changes: dict,
    status: str | None,
    attach: Attach | None,
    from_statuses: Iterable[str] | None,
) -> dict:
    """Change fields of an item, making a new revision when its content changes (see :meth:`Store.update`)."""
    session = change.session
    found = row(session, item_id, lock=True)
    if from_statuses is not None and found.status not in from_statuses:
        raise Conflict(f"{found.id!r} is {found.status}: it can be changed only when it is "
                       f"{' or '.join(from_statuses)}")  # fmt: skip
    data = {**found.data, **changes}
    data = checked({k: v for k, v in data.items() if v is not None})
    revised = attach is not None or _content(data) != _content(found.data)
    new_status = status or (_REVIEWED_AGAIN.get(found.status, found.status) if revised else found.status)
    if new_status != found.status:
        data["status"] = new_status
        found.status_reason = None
    if revised:
        found.revision += 1
    save(change, found, data)
    if attach is not None:
        attach(session.connection(), data)
    return data


class _BulkRow:
    """An inserted row's columns as attributes, for :meth:`Change.saved`."""

    def __init__(self, pk: int, values: dict):
        self.__dict__.update(values, pk=pk, rating_avg=None)


def insert_many(change: Change, items: Iterable[dict], submitter: str | None, status: str, validate: bool) -> int:
    """Add many items with their ids, without a round trip per item (see :meth:`Store.add_many`); returns how many."""
    created = timestamp()
    postgresql = change.dialect == "postgresql"
    statement = sa.insert(Item.__table__)
    if postgresql:
        statement = statement.values(search=tsvector_of_parameters())
    statement = statement.returning(Item.__table__.c.pk, sort_by_parameter_order=True)
    conn = change.session.connection()
    count = 0
    pending = iter(items)
    while chunk := list(itertools.islice(pending, _BULK_CHUNK)):
        datas = [_bulk_item(item, status, created, validate) for item in chunk]
        new_rows = [_bulk_row(data, submitter, postgresql) for data in datas]
        pks = conn.execute(statement, new_rows).scalars().all()
        facets = [sorted(facet_values(data)) for data in datas]
        facet_rows = [
            {"item_pk": pk, "facet": f, "value": v} for pk, pairs in zip(pks, facets, strict=True) for f, v in pairs
        ]
        conn.execute(sa.insert(Facet.__table__), facet_rows)
        if change.tracking:
            for pk, new_row, pairs in zip(pks, new_rows, facets, strict=True):
                change.saved(_BulkRow(pk, new_row), pairs)
        count += len(new_rows)
    return count


def _bulk_item(item: dict, status: str, created: str, validate: bool) -> dict:
    if not isinstance(item, dict):
        raise InvalidItem(validate_item(item))
    data = apply_defaults({**item, "status": status})
    data.setdefault("created", created)
    if validate:
        checked(data)
    elif not isinstance(data.get("id"), str):
        raise InvalidItem([Problem("id", "is required")])
    return data


def _bulk_row(data: dict, submitter: str | None, postgresql: bool) -> dict:
    new_row = {**columns(data), "submitter": submitter, "origin": "api", "rating_count": 0, "revision": 1}
    new_row["added"] = now()
    if postgresql:
        new_row.update(words_parameters(new_row))
    return new_row
