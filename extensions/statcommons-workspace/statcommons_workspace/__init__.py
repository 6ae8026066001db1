"""StatCommons library extension: the JupyterLab side panel (prebuilt, under labextension/) and
the server extension it talks to (proxy to the library, runner and projects services, workspace copies)."""

try:
    from ._version import __version__
except ImportError:  # a source checkout that was never built
    __version__ = "dev"


def _jupyter_labextension_paths():
    return [{"src": "labextension", "dest": "statcommons-workspace"}]


def _jupyter_server_extension_points():
    return [{"module": "statcommons_workspace"}]


def _load_jupyter_server_extension(server_app):
    from .handlers import setup_handlers

    setup_handlers(server_app)
    server_app.log.info("statcommons_workspace: library, runner and projects proxy at /statcommons/")
