"""The projects' schema history: Alembic revision scripts, applied by :func:`statcommons.kit.migrations.upgrade`.

The store upgrades its database when it opens it (:class:`~statcommons.projects.store.Store`), and
``statcommons upgrade`` (run by ``statcommons run``) does it first; the version is kept in
``projects_alembic_version``.

- ``0001_baseline.py``: the schema of release 232be57, the last one without migrations;
- ``0002_notices.py``: the ``notices`` table, messages for a person until they dismiss them.

A change of the tables in :mod:`~statcommons.projects.store` comes with a new script here.
"""

from pathlib import Path

FOLDER = Path(__file__).parent
