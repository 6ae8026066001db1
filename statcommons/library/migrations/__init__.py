"""The library's schema history: Alembic revision scripts, applied by :func:`statcommons.kit.migrations.upgrade`.

The store upgrades its database when it opens it (:class:`~statcommons.library.store.Store`);
the version is kept in ``library_alembic_version``.

- ``0001_baseline.py``: the schema of release 232be57, the last one without migrations;
- ``0002_item_revision.py``: ``library_items.revision``, which counts the changes of an item.

A change of the models in :mod:`~statcommons.library.store` (or of the tables of
:mod:`~statcommons.library.service.attachments`) comes with a new script here.
"""

from pathlib import Path

FOLDER = Path(__file__).parent
