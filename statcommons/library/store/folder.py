"""The curated folder into the database: a new file adds its item, a changed file updates it; again, nothing changes."""

from __future__ import annotations

from . import items
from .change import Change
from .tables import Item


def load(change: Change, found: list[dict], problems: list[str]) -> dict:
    """Add or update the items read from the folder (:func:`statcommons.library.files.load_folder`).

    Returns the ids ``added``, ``updated`` and ``unchanged``, and the folder's ``problems``
    (items with problems are not loaded).
    """
    report: dict[str, list[str]] = {"added": [], "updated": [], "unchanged": [], "problems": problems}
    rows = items.rows(change.session, [item["id"] for item in found])
    for item in found:
        row = rows.get(item["id"])
        text_problems = items.text_problems(item)
        if text_problems:
            report["problems"] += [f"{item['id']}: {problem}" for problem in text_problems]
        elif row is None:
            items.save(change, Item(origin="folder", rating_count=0, added=items.now()), item)
            report["added"].append(item["id"])
        elif row.data != item:
            row.revision += 1
            items.save(change, row, item)
            report["updated"].append(item["id"])
        else:
            report["unchanged"].append(item["id"])
    return report
