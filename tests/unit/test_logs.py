"""No secret in a log line: OAuth codes and states, tokens, session ids in XSRF cookie ids."""

from __future__ import annotations

import logging
from types import SimpleNamespace

from statcommons.platform import logs


def test_the_services_access_lines_scrub_oauth_callbacks(caplog):
    request = SimpleNamespace(
        method="GET",
        uri="/services/library/oauth_callback?code=s3cretcode&state=eyJzdGF0ZSI6IjEyMyJ9",
        remote_ip="127.0.0.3",
        request_time=lambda: 0.004,
    )
    handler = SimpleNamespace(get_status=lambda: 302, request=request)
    with caplog.at_level(logging.INFO, logger="tornado.access"):
        logs.log_request(handler)
    [line] = caplog.messages
    assert "s3cretcode" not in line and "eyJzdGF0ZSI6" not in line
    assert "code=[secret]" in line and "state=[secret]" in line and "(127.0.0.3)" in line


def test_new_xsrf_cookie_lines_keep_no_session_id():
    record = logging.LogRecord(
        "tornado.application",
        logging.INFO,
        __file__,
        1,
        "Setting new xsrf cookie for %r %r",
        ("a4f0c2e19b7d:ana", {"path": "/hub/"}),
        None,
    )
    logs.HideXsrfIds().filter(record)
    assert "a4f0c2e19b7d" not in record.getMessage()
    assert record.getMessage() == "Setting new xsrf cookie {'path': '/hub/'}"
