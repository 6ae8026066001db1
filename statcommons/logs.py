"""Keep secrets that travel in request URLs out of the hub's log.

JupyterHub's access log scrubs query parameters such as ``code``, ``state``
and ``token``, but tornado's own lines for a refused request (an ``HTTPError``
warning, an uncaught-exception error) quote the raw URI: a refused OAuth
callback would log its authorization code, a refused API call its ``?token=``.
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


def install() -> None:
    for name in ("tornado.general", "tornado.application"):
        logging.getLogger(name).addFilter(ScrubRequestURIs())
