"""StatCommons: a shared JupyterHub workspace for official statistics.

The hub's configuration is computed by small pure functions from one
validated settings file (see :mod:`statcommons.settings` and
:mod:`statcommons.hub.config`); ``jupyterhub_config.py`` only calls them.
"""

import sys

# jsonschema imports rfc3987-syntax when it is installed (jupyter-events asks for it) and builds
# its Earley parsers at import: 1.7 s of a service's 2.7 s of imports here, several times that on
# a loaded machine, where a service must answer the hub within about ten seconds of its start.
# StatCommons checks no "iri" format, the only thing it adds; a process that imported it already
# (the hub, through jupyter-events) keeps it.
sys.modules.setdefault("rfc3987_syntax", None)

__version__ = "0.1.0"
