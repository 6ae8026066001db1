"""A real hub running the library service, on SQLite and on a real PostgreSQL, with people in its roles."""

from __future__ import annotations

import itertools
import secrets

import psycopg
import pytest
import requests

from ...hubtools import RunningHub, wait_for

BACKENDS = ["sqlite", "postgresql"]
_databases = itertools.count(1)


class Library:
    """The library service of a running hub, called with hub tokens like a program would."""

    def __init__(self, hub: RunningHub):
        self.hub = hub
        self.url = f"{hub.url}/services/library"

    def user(self, name: str, curator: bool = False) -> str:
        """Create a hub user (a curator if asked) and return a token of theirs."""
        return self.hub.token(name, curator)

    def ready(self) -> bool:
        """Whether the service has loaded its curated folder and built its search index (it answers before)."""
        r = self.call("GET", "/api/status")
        return r.status_code == 200 and r.json()["index"] == "ready"

    def call(self, method: str, path: str, as_user: str | None = None, **kwargs) -> requests.Response:
        headers = kwargs.pop("headers", {})
        if as_user:
            headers["Authorization"] = f"token {self.user(as_user)}"
        kwargs.setdefault("allow_redirects", False)
        return requests.request(method, f"{self.url}{path}", headers=headers, timeout=30, **kwargs)


def _postgres_url(server: dict) -> str:
    name = f"library_{next(_databases)}_{secrets.token_hex(3)}"
    with psycopg.connect(
        host=server["host"], port=server["port"], user="postgres", dbname="postgres", autocommit=True
    ) as conn:
        conn.execute(f"CREATE DATABASE {name}")
    return f"postgresql+psycopg://postgres@/{name}?host={server['host']}&port={server['port']}"


@pytest.fixture(scope="module", params=BACKENDS)
def library(request, tmp_path_factory):
    """A hub with the library service (no container engine), once per backend; the curated folder is loaded first."""
    env = {}
    if request.param == "postgresql":
        env["STATCOMMONS_LIBRARY_DB"] = _postgres_url(request.getfixturevalue("postgres_server"))
    hub = RunningHub(tmp_path_factory.mktemp("libhub"), None, env=env)
    hub.start()
    lib = Library(hub)
    try:
        wait_for(lib.ready, 60, what="the library service")
        yield lib
    finally:
        hub.stop()
        # Shown by pytest only when a test of the module failed.
        print(f"--- hub log ({hub.log_file}) ---\n{hub.log()[-8000:]}")
