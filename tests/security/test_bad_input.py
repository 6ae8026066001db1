"""Bad input gets a 4xx naming what is wrong, never a 500; no secret and no claimed address reaches a log.

Each case is one that gave a 500 or leaked before: deeply nested JSON to the library, a lone
surrogate in the runner's ``path`` and a project's ``title``, ``%ff`` in a path at the proxy;
OAuth callbacks' ``code`` and ``state`` in the services' logs, session ids in the hub's "new
xsrf cookie" lines, and ``X-Real-Ip`` taken for the client's address.
"""

from __future__ import annotations

import re
import socket

import pytest
import requests

from ..hubtools import Person

pytestmark = pytest.mark.containers


def _raw(hub, method: str, path: str, token: str, body: bytes) -> requests.Response:
    headers = {"Authorization": f"token {token}", "Content-Type": "application/json"}
    return requests.request(method, f"{hub.url}{path}", data=body, headers=headers, timeout=60)


def test_nested_json_and_lone_surrogates_are_4xx(users):
    hub, token = users.hub, users.token("anna")
    nested = _raw(hub, "POST", "/services/library/api/items", token, b"[" * 5000 + b"]" * 5000)
    assert nested.status_code == 400 and "nested too deeply" in nested.json()["message"]
    # "\ud800" is valid JSON but no valid text: a database or a file cannot hold it.
    surrogate = b'{"path": "work/\\ud800.ipynb"}'
    run = _raw(hub, "POST", "/services/runner/api/runs", token, surrogate)
    assert run.status_code == 422 and run.json()["errors"][0]["path"] == "path", run.text
    project = _raw(hub, "POST", "/services/projects/api/projects", token, b'{"name": "odd", "title": "x\\udc00"}')
    assert project.status_code == 422 and project.json()["errors"][0]["path"] == "title", project.text
    item = b'{"type": "publication", "title": "t", "summary": "s", "keywords": ["\\ud83d"]}'
    library = _raw(hub, "POST", "/services/library/api/items", token, item)
    assert library.status_code == 422 and library.json()["errors"][0]["path"] == "keywords[0]", library.text


def test_a_path_that_is_not_percent_encoding_is_a_400_at_the_proxy(users):
    hub = users.hub
    for path in ("/%ff", "/hub/%ff", "/user/anna/%c0%af", "/services/library/%"):
        # Sent as is: requests would re-encode the path.
        with socket.create_connection(("127.0.0.1", hub.port), timeout=30) as conn:
            conn.sendall(f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n".encode())
            answer = b""
            while chunk := conn.recv(65536):
                answer += chunk
        status = int(answer.split(b" ", 2)[1])
        assert status == 400, (path, answer[:300])
        assert b"not valid percent-encoding" in answer


def test_logs_hold_no_oauth_code_no_session_id_and_no_claimed_address(users):
    hub = users.hub
    anna = Person(hub, "anna-logs")
    admin = Person(hub, "admin", hub.admin_password)
    admin.log_in()
    assert anna.sign_up().status_code == 200
    admin.approve("anna-logs")
    anna.log_in()
    assert anna.logged_in
    forged = {"X-Real-Ip": "203.0.113.77", "X-Forwarded-For": "203.0.113.78"}
    # The library's page sends a logged-in browser through the hub's OAuth: its callback carries code and state.
    page = anna.http.get(f"{hub.url}/services/library/", headers=forged, timeout=60)
    callbacks = [r.url for r in page.history if r.url.split("?")[0].endswith("/oauth_callback")]
    assert page.status_code == 200 and callbacks, [r.url for r in page.history]
    callback = callbacks[0]
    code = re.search(r"[?&]code=([^&]+)", callback)[1]
    state = re.search(r"[?&]state=([^&]+)", callback)[1]
    log = hub.log()
    assert code not in log and state not in log
    assert "oauth_callback?code=[secret]&state=[secret]" in log
    assert "Setting new xsrf cookie" in log
    assert not re.search(r"Setting new xsrf cookie for", log)  # the line no longer names the session
    assert "203.0.113.77" not in log and "203.0.113.78" not in log
