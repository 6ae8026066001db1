"""StatCommons: a shared JupyterHub workspace for official statistics.

The hub's configuration is computed by small pure functions from one
validated settings file (see :mod:`statcommons.settings` and
:mod:`statcommons.hub.config`); ``jupyterhub_config.py`` only calls them.
"""

__version__ = "0.1.0"
