"""Jupyter server extension of a project's collaboration server (inactive elsewhere)."""

import os


def _jupyter_server_extension_points():
    return [{"module": "statcommons_project_server"}]


def _load_jupyter_server_extension(serverapp):
    if not os.environ.get("STATCOMMONS_PROJECT"):
        return
