"""The library service while it starts, without a hub: it answers at once, loads its folder and builds its index after.

The tornado application runs in this process with a stand-in hub login (HubOAuth asks no hub who a
token belongs to), over a SQLite catalogue that holds items already and a curated folder to load.
The folder load and the index build are each held (:class:`Hold`) until the test has checked
what the service answers meanwhile: the documents at once, requests about items a 503 with
Retry-After while the folder loads, searches answered by the database while the index is
built, and writes made then found by the in-memory index once it is ready. A real hub with
100,000 items is ``test_big_catalogue.py``.
"""

from __future__ import annotations

import asyncio
import json
import shutil
import threading
import time

import jsonschema
from jupyterhub.services.auth import HubOAuth
from tornado.httpclient import AsyncHTTPClient
from tornado.httpserver import HTTPServer

from statcommons.library.service import api
from statcommons.library.service.access import READ, REVIEW, SUBMIT
from statcommons.library.service.app import WarmUp, make_app
from statcommons.library.store import Store
from statcommons.settings import ROOT

from ...hubtools import free_port
from ..conftest import ITEMS

PREFIX = "/services/library/"
PEOPLE = {"token-of-ana": ("ana", [READ, SUBMIT]), "token-of-carla": ("carla", [READ, SUBMIT, REVIEW])}
CURATED = ("fellegi-sunter-1969-record-linkage", "fastlink")


class StandInHubOAuth(HubOAuth):
    """HubOAuth that knows the tokens of :data:`PEOPLE` instead of asking the hub about them."""

    def user_for_token(self, token, use_cache=True, session_id="", *, sync=True):
        name, scopes = PEOPLE.get(token, (None, []))
        model = {"kind": "user", "name": name, "scopes": scopes} if name else None
        if sync:
            return model

        async def answer():
            return model

        return answer()


class Hold:
    """Holds calls of ``obj.name`` (in the service's warm-up thread) until the test lets them go on."""

    def __init__(self, obj, name: str):
        self.reached = threading.Event()
        self.released = threading.Event()
        original = getattr(obj, name)

        def held(*args, **kwargs):
            self.reached.set()
            assert self.released.wait(60), "the test never released the hold"
            return original(*args, **kwargs)

        setattr(obj, name, held)

    async def wait_reached(self) -> None:
        assert await asyncio.to_thread(self.reached.wait, 60), "the warm-up never got there"


class Client:
    """Requests to the service on a loopback port, as a person with a hub token (or no one)."""

    def __init__(self, port: int):
        self.url = f"http://127.0.0.1:{port}"

    async def call(self, method: str, path: str, token: str | None = None, body: dict | None = None):
        headers = {"Authorization": f"token {token}"} if token else {}
        data = json.dumps(body) if body is not None else None
        if data is not None:
            headers["Content-Type"] = "application/json"
        return await AsyncHTTPClient().fetch(
            self.url + path, method=method, headers=headers, body=data, raise_error=False, follow_redirects=False
        )


def documented(app, name: str, body: dict) -> None:
    """``body`` is valid against the schema ``name`` of the service's own OpenAPI document."""
    document = app.settings["openapi"]
    schema = {"$ref": f"#/components/schemas/{name}", "components": document["components"]}
    jsonschema.Draft202012Validator(schema).validate(body)


def test_the_service_answers_while_it_loads_its_folder_and_builds_its_index(tmp_path, monkeypatch):
    monkeypatch.setattr(api, "LOADING_WAIT", 0.5)
    folder = tmp_path / "library"
    folder.mkdir()
    for name in CURATED:
        shutil.copy(ROOT / "library" / f"{name}.yaml", folder)
    store = Store(f"sqlite:///{tmp_path / 'library.db'}")
    store.add_many(ITEMS, submitter="curator")
    loading = Hold(store, "load_folder")
    building = Hold(store._memory, "_load_index")

    async def scenario() -> None:
        hub_auth = StandInHubOAuth.instance(
            api_token="service-token",
            api_url="http://127.0.0.1:1/hub/api",
            oauth_client_id="service-library",
            base_url=PREFIX,
            hub_prefix="/hub/",
            cache_max_age=10,
        )
        warm_up = WarmUp(store, folder)
        app = make_app(store, prefix=PREFIX, hub_url="http://127.0.0.1:1/", max_notebook_size=10**6,
                       hub_auth=hub_auth, warm_up=warm_up)  # fmt: skip
        port = free_port()
        server = HTTPServer(app)
        server.listen(port, "127.0.0.1")
        running = asyncio.ensure_future(warm_up.run())
        client = Client(port)
        try:
            await loading.wait_reached()
            await while_loading(client, app)
            loading.released.set()
            await building.wait_reached()
            submitted = await while_warming(client, app)
            building.released.set()
            await asyncio.wait_for(running, 60)
            await once_ready(client, app, submitted)
        finally:
            loading.released.set()
            building.released.set()
            server.stop()
            StandInHubOAuth.clear_instance()

    async def while_loading(client: Client, app) -> None:
        r = await client.call("GET", f"{PREFIX}api/status")
        assert r.code == 200 and json.loads(r.body) == {"index": "loading", "search": "memory", "items": None}
        documented(app, "Status", json.loads(r.body))
        for path in ("api/openapi.json", "api/schema", "api/vocabularies", "api/user"):
            r = await client.call("GET", PREFIX + path, "token-of-ana")
            assert r.code == 200, (path, r.body)
        r = await client.call("GET", f"{PREFIX}api/items?q=linkage", "token-of-ana")
        assert r.code == 503, r.body
        assert r.headers["Retry-After"] == str(api.RETRY_AFTER)
        assert "starting" in json.loads(r.body)["message"]
        documented(app, "Error", json.loads(r.body))
        r = await client.call("POST", f"{PREFIX}api/items", "token-of-ana", {"type": "publication"})
        assert r.code == 503 and r.headers["Retry-After"]
        r = await client.call("GET", PREFIX, "token-of-ana")  # the search page
        assert r.code == 503 and "starting" in r.body.decode() and r.headers["Retry-After"]
        r = await client.call("GET", f"{PREFIX}api/items")  # no credentials: told so at once
        assert r.code == 401

    async def while_warming(client: Client, app) -> str:
        # What the hub checks (the service's URL): answered at once, however long the build takes.
        started = time.monotonic()
        r = await client.call("GET", "/")
        assert r.code < 500 and time.monotonic() - started < 2
        r = await client.call("GET", f"{PREFIX}api/status")
        assert json.loads(r.body) == {"index": "warming", "search": "memory", "items": None}
        r = await client.call("GET", f"{PREFIX}api/items?q=linkage", "token-of-ana")
        assert r.code == 200, r.body
        found = json.loads(r.body)
        documented(app, "SearchResult", found)
        assert found["index"] == "warming"
        # The curated item the folder added is found too.
        assert {item["id"] for item in found["items"]} >= {"fellegi-sunter-1969-record-linkage", "splink"}
        r = await client.call("GET", PREFIX + "?q=linkage", "token-of-ana")
        assert r.code == 200 and "Splink" in r.body.decode()
        # Writes go on while the index is built.
        submission = {
            "type": "publication",
            "title": "Quokka counts from drone footage",
            "summary": "Counting marsupials on islands with object detection.",
            "gsbpm": ["4.3"],
        }
        r = await client.call("POST", f"{PREFIX}api/items", "token-of-ana", submission)
        assert r.code == 201, r.body
        submitted = json.loads(r.body)
        r = await client.call("POST", f"{PREFIX}api/items/{submitted['id']}/review", "token-of-carla",
                              {"decision": "publish", "revision": submitted["revision"]})  # fmt: skip
        assert r.code == 200, r.body
        r = await client.call("PUT", f"{PREFIX}api/items/splink/rating", "token-of-ana", {"stars": 5})
        assert r.code == 200, r.body
        r = await client.call("GET", f"{PREFIX}api/items?q=quokka", "token-of-ana")
        assert json.loads(r.body)["index"] == "warming"
        assert [item["id"] for item in json.loads(r.body)["items"]] == [submitted["id"]]
        return submitted["id"]

    async def once_ready(client: Client, app, submitted: str) -> None:
        r = await client.call("GET", f"{PREFIX}api/status")
        published = len(ITEMS) + len(CURATED) + 1
        assert json.loads(r.body) == {"index": "ready", "search": "memory", "items": published}
        assert store.index_ready
        r = await client.call("GET", f"{PREFIX}api/items?q=quokka", "token-of-ana")
        found = json.loads(r.body)
        documented(app, "SearchResult", found)
        assert found["index"] == "ready"
        assert [item["id"] for item in found["items"]] == [submitted]
        assert store.search("quokka")["searched"] == "memory"
        r = await client.call("GET", f"{PREFIX}api/items?sort=rating&limit=1", "token-of-ana")
        assert [item["id"] for item in json.loads(r.body)["items"]] == ["splink"]

    try:
        asyncio.run(scenario())
    finally:
        store.close()
