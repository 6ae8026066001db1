"""Keep secrets out of the hub's and the services' logs.

JupyterHub's access log scrubs query parameters such as ``code``, ``state``
and ``token``, but tornado's own lines for a refused request (an ``HTTPError``
warning, an uncaught-exception error) quote the raw URI: a refused OAuth
callback would log its authorization code, a refused API call its ``?token=``.
The services' access lines (tornado's default) quoted every URI whole, OAuth
callbacks' ``code`` and ``state`` included: :func:`log_request` scrubs them.
JupyterHub logs the id of each new XSRF cookie, which holds the browser's
session id: :class:`HideXsrfIds` keeps the id out.
"""

from __future__ import annotations

import logging
import re

# The parameter names JupyterHub scrubs (jupyterhub.log.SCRUB_PARAM_KEYS), matched the same way: by substring.
_SECRET_PARAM = re.compile(r"([?&][^=&\s]*(?:token|auth|key|code|state|_xsrf)[^=&\s]*=)[^&\s'\")]*", re.I)


def scrub(text: str) -> str:
    return _SECRET_PARAM.sub(r"\1[secret]", text)


class ScrubRequestURIs(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        scrubbed = scrub(message)
        if scrubbed != message:
            record.msg, record.args = scrubbed, ()
        return True


class HideXsrfIds(logging.Filter):
    """JupyterHub's "Setting new xsrf cookie for <session id:user>" lines, without the ids."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str) and record.msg.startswith("Setting new xsrf cookie for"):
            record.msg = "Setting new xsrf cookie %r"
            record.args = record.args[1:] if isinstance(record.args, tuple) and record.args else ()
        return True


def install() -> None:
    for name in ("tornado.general", "tornado.application"):
        logging.getLogger(name).addFilter(ScrubRequestURIs())
    logging.getLogger("tornado.application").addFilter(HideXsrfIds())


access_log = logging.getLogger("tornado.access")


def log_request(handler) -> None:
    """A service's access line: status, method, path with secrets scrubbed, client, time."""
    status = handler.get_status()
    level = access_log.info if status < 400 else access_log.warning if status < 500 else access_log.error
    took = 1000.0 * handler.request.request_time()
    request = handler.request
    level("%d %s %s (%s) %.2fms", status, request.method, scrub(request.uri), request.remote_ip, took)
