"""Run INSIDE the lab image by test_proxy_in_the_lab_image: the installed server extension's proxy.

A real ``jupyter server`` with the extension, whose library and projects service are a
recording stand-in on loopback and whose runner does not answer. Not collected on the host (no ``test_`` prefix):
the host has no Jupyter server.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import requests

SERVER_TOKEN = "server-token-never-shown"
USER_TOKEN = "user-token"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Library(BaseHTTPRequestHandler):
    """Records each request; answers like the library would."""

    seen: list[dict] = []

    def log_message(self, *args) -> None:
        pass

    def answer(self, status: int, body: bytes, headers: dict | None = None) -> None:
        self.send_response(status)
        for name, value in {"Content-Type": "application/json", **(headers or {})}.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def handle_any(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        Library.seen.append(
            {"method": self.command, "path": self.path, "headers": dict(self.headers), "body": self.rfile.read(length)}
        )
        if self.path.startswith("/services/library/api/items/missing"):
            return self.answer(404, b'{"status": 404, "message": "no library item \'missing\'"}')
        if self.path.startswith("/services/library/api/items/clip/video"):
            video = bytes(range(256))
            first, last = 10, 19
            return self.answer(
                206,
                video[first : last + 1],
                {"Content-Type": "video/webm", "Content-Range": f"bytes {first}-{last}/256", "Set-Cookie": "x=1"},
            )
        self.answer(200, json.dumps({"path": self.path}).encode())

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = handle_any


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    library = ThreadingHTTPServer(("127.0.0.1", 0), Library)
    threading.Thread(target=library.serve_forever, daemon=True).start()
    port = free_port()
    env = {
        **os.environ,
        "JUPYTERHUB_API_TOKEN": SERVER_TOKEN,
        "STATCOMMONS_LIBRARY_URL": f"http://127.0.0.1:{library.server_port}/services/library/",
        "STATCOMMONS_RUNNER_URL": f"http://127.0.0.1:{free_port()}/services/runner/",  # nobody there
        "STATCOMMONS_PROJECTS_URL": f"http://127.0.0.1:{library.server_port}/services/projects/",
    }
    root = tmp_path_factory.mktemp("home")
    proc = subprocess.Popen(
        [sys.executable, "-m", "jupyter", "server", "--no-browser", f"--port={port}", "--ip=127.0.0.1",
         f"--ServerApp.root_dir={root}", f"--IdentityProvider.token={USER_TOKEN}"],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if requests.get(f"{url}/api/status", headers={"Authorization": f"token {USER_TOKEN}"}, timeout=2).ok:
                break
        except requests.RequestException:
            time.sleep(0.2)
    yield url
    proc.terminate()
    proc.wait(10)
    library.shutdown()


def call(url: str, method: str, path: str, token: str | None = USER_TOKEN, **kwargs) -> requests.Response:
    headers = {"Authorization": f"token {token}"} if token else {}
    headers.update(kwargs.pop("headers", {}))
    return requests.request(method, f"{url}/statcommons/{path}", headers=headers, timeout=30, **kwargs)


def test_forwards_with_the_servers_token_not_the_browsers(server):
    Library.seen.clear()
    r = call(server, "GET", "library/api/items?q=record+linkage&limit=5", headers={"Cookie": "secret=1"})
    assert r.status_code == 200, r.text
    assert r.json()["path"] == "/services/library/api/items?q=record+linkage&limit=5"
    headers = Library.seen[-1]["headers"]
    assert headers["Authorization"] == f"token {SERVER_TOKEN}"
    assert "Cookie" not in headers
    assert SERVER_TOKEN not in r.text and SERVER_TOKEN not in str(r.headers)


def test_bodies_go_through(server):
    r = call(server, "POST", "library/api/items", json={"title": "x"})
    assert r.status_code == 200
    assert json.loads(Library.seen[-1]["body"]) == {"title": "x"}


def test_refuses_what_is_not_allowlisted_and_strangers(server):
    Library.seen.clear()
    assert call(server, "GET", "library/api/dcat.ttl").status_code == 404
    assert call(server, "PUT", "library/api/items/a/video").status_code == 405
    assert call(server, "GET", "library/api/items", token=None).status_code in (401, 403)
    assert Library.seen == []


def test_passes_errors_and_ranges_on(server):
    missing = call(server, "GET", "library/api/items/missing")
    assert (missing.status_code, missing.json()["message"]) == (404, "no library item 'missing'")
    part = call(server, "GET", "library/api/items/clip/video", headers={"Range": "bytes=10-19"})
    assert part.status_code == 206
    assert part.headers["Content-Range"] == "bytes 10-19/256"
    assert part.content == bytes(range(10, 20))
    assert "Set-Cookie" not in part.headers or "x=1" not in part.headers["Set-Cookie"]
    assert Library.seen[-1]["headers"]["Range"] == "bytes=10-19"


def test_a_service_that_does_not_answer_is_a_502_naming_it(server):
    r = call(server, "GET", "runner/api/runs")
    assert r.status_code == 502
    assert r.json()["message"].startswith("The notebook runner did not answer")


def test_the_projects_service_is_read_and_a_project_server_started(server):
    Library.seen.clear()
    r = call(server, "GET", "projects/api/projects")
    assert (r.status_code, r.json()["path"]) == (200, "/services/projects/api/projects")
    r = call(server, "POST", "projects/api/projects/survey/server")
    assert (r.status_code, r.json()["path"]) == (200, "/services/projects/api/projects/survey/server")
    assert [s["method"] for s in Library.seen] == ["GET", "POST"]
    assert Library.seen[-1]["headers"]["Authorization"] == f"token {SERVER_TOKEN}"


def test_the_projects_service_is_not_changed_through_the_proxy(server):
    Library.seen.clear()
    assert call(server, "DELETE", "projects/api/projects/survey").status_code == 405
    assert call(server, "DELETE", "projects/api/projects/survey/server").status_code == 405
    assert call(server, "PUT", "projects/api/projects/survey/members/bob", json={}).status_code == 404
    assert call(server, "POST", "projects/api/projects", json={"name": "x"}).status_code == 405
    assert Library.seen == []
