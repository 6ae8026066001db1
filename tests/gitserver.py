"""A real git server on loopback for tests: git's own smart HTTP backend behind a small HTTP server.

The server listens on this machine's 127.0.0.1; containers, each in its own network namespace,
reach it at their gateway (``http://100.64.7.2:<port>/``), which is the URL :func:`serving`
gives, and clone from it exactly as from a forge (shallow clones need the smart protocol, which
``git http-backend`` speaks). :func:`make_repository` makes a real repository with files.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from .hubtools import FROM_CONTAINERS


def make_repository(root: Path, name: str, files: dict[str, str | bytes], branch: str = "main") -> Path:
    """A bare repository ``root/name`` whose branch holds ``files``, committed by a test identity."""
    work = root / f"{name}-work"
    work.mkdir(parents=True)
    for path, content in files.items():
        target = work / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(content.encode() if isinstance(content, str) else content)
    env = {
        **os.environ,
        "GIT_AUTHOR_NAME": "Test",
        "GIT_AUTHOR_EMAIL": "test@example.org",
        "GIT_COMMITTER_NAME": "Test",
        "GIT_COMMITTER_EMAIL": "test@example.org",
    }

    def git(*args: str, cwd: Path = work) -> None:
        subprocess.run(["git", *args], cwd=cwd, env=env, check=True, capture_output=True)

    git("init", "--quiet", "--initial-branch", branch)
    git("add", "--all")
    git("commit", "--quiet", "--message", "Initial content")
    bare = root / name
    git("clone", "--quiet", "--bare", str(work), str(bare), cwd=root)
    return bare


class _Handler(BaseHTTPRequestHandler):
    root: Path

    def log_message(self, format, *args) -> None:  # noqa: A002  (quiet: the test output stays readable)
        pass

    def do_GET(self) -> None:
        self._backend()

    def do_POST(self) -> None:
        self._backend()

    def _backend(self) -> None:
        path, _, query = self.path.partition("?")
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "GIT_PROJECT_ROOT": str(self.root),
            "GIT_HTTP_EXPORT_ALL": "1",
            "REQUEST_METHOD": self.command,
            "PATH_INFO": path,
            "QUERY_STRING": query,
            "CONTENT_TYPE": self.headers.get("Content-Type", ""),
            "CONTENT_LENGTH": str(len(body)),
            "REMOTE_ADDR": self.client_address[0],
        }
        if self.headers.get("Git-Protocol"):
            env["GIT_PROTOCOL"] = self.headers["Git-Protocol"]
        done = subprocess.run(["git", "http-backend"], input=body, env=env, capture_output=True)
        head, _, payload = done.stdout.partition(b"\r\n\r\n")
        status, headers = 200, []
        for line in head.decode("latin-1").split("\r\n"):
            name, _, value = line.partition(":")
            if name.lower() == "status":
                status = int(value.split()[0])
            elif name:
                headers.append((name, value.strip()))
        self.send_response(status)
        for name, value in headers:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)


@contextlib.contextmanager
def serving(root: Path, host: str = FROM_CONTAINERS) -> Iterator[str]:
    """Serve the bare repositories under ``root``; yields the base URL as containers reach it
    (``http://100.64.7.2:<port>/``; give ``host="127.0.0.1"`` to clone from this machine)."""
    handler = type("Handler", (_Handler,), {"root": root})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://{host}:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()
