"""What the service keeps beside the items, in the catalogue's database: notebook files and last runs.

A user submitting a notebook from their own home sends its ``.ipynb`` JSON with the
item (``notebook_content``); :class:`Attachments` keeps it, keyed by item id, and serves
it back as a file. Only the shape of a notebook is checked (nbformat 4, a list of cells):
it is stored as sent and never executed by the service.

The runner's record of a notebook's latest run (``last_run``) lives here too rather than in
the item, so that reloading a curated file at start never erases it.
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime

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


class Attachments:
    """Notebook files and last runs by item id, in the database of a :class:`~statcommons.library.store.Store`."""

    def __init__(self, engine: sa.Engine):
        self.engine = engine
        _metadata.create_all(engine)

    def put_notebook(self, item_id: str, content: dict) -> dict:
        """Keep (or replace) the notebook of an item; returns its ``size`` and ``sha256``."""
        text = json.dumps(content, ensure_ascii=False, separators=(",", ":"))
        row = {
            "content": text,
            "size": len(text.encode()),
            "sha256": hashlib.sha256(text.encode()).hexdigest(),
            "updated": datetime.now(UTC),
        }
        with self.engine.begin() as conn:
            changed = conn.execute(sa.update(notebooks).where(notebooks.c.item_id == item_id).values(**row)).rowcount
            if not changed:
                conn.execute(sa.insert(notebooks).values(item_id=item_id, **row))
        return {"size": row["size"], "sha256": row["sha256"]}

    def notebook(self, item_id: str) -> str | None:
        """The notebook's JSON text, or None when the item carries none."""
        with self.engine.connect() as conn:
            return conn.scalar(sa.select(notebooks.c.content).where(notebooks.c.item_id == item_id))

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
