"""The runner's schema history: Alembic revision scripts, applied by :func:`statcommons.kit.migrations.upgrade`.

The store upgrades its database when it opens it (:class:`~statcommons.runner.store.Store`), and
``statcommons upgrade`` (run by ``statcommons run``) does it first; the version is kept in
``runner_alembic_version``.

- ``0001_baseline.py``: the schema of release 232be57, the last one without migrations (the
  tables have not changed since).

A change of the models in :mod:`~statcommons.runner.store` comes with a new script here.
"""

from pathlib import Path

FOLDER = Path(__file__).parent
