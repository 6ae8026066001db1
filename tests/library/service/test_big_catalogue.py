"""A hub whose library holds 100,000 items starts, and its library answers while it builds its search index.

Building the in-memory index of 100,000 items takes several seconds (about 10 on 2 busy cores),
longer than the hub waits for a managed service to answer: a service that built it before
listening kept such a hub from starting. The catalogue is the seeded corpus of the search
benchmark (:mod:`tests.library.corpus`) written into a SQLite database before the hub starts;
the curated folder is a temporary one with two items. Runner and projects are off: only the
hub and the library matter here.
"""

from __future__ import annotations

import shutil
import time

import pytest
import requests

from statcommons.library.store import Store
from statcommons.settings import ROOT

from ...hubtools import RunningHub, wait_for
from ..corpus import Corpus
from .conftest import Library

pytestmark = pytest.mark.hub

ITEMS = 100_000
SEED = 20240601
CURATED = ("fellegi-sunter-1969-record-linkage", "fastlink")


def fill(url: str, corpus: Corpus) -> None:
    store = Store(url, search="database")
    try:
        for batch in corpus.batches():
            store.add_many(batch, validate=False)
    finally:
        store.close()


def test_a_hub_with_a_big_catalogue_starts_and_its_library_answers_while_indexing(tmp_path):
    corpus = Corpus(ITEMS, SEED)
    url = f"sqlite:///{tmp_path / 'library.db'}"
    fill(url, corpus)
    folder = tmp_path / "curated"
    folder.mkdir()
    for name in CURATED:
        shutil.copy(ROOT / "library" / f"{name}.yaml", folder)
    settings = {"library": {"folder": str(folder)}, "runner": {"enabled": False}, "projects": {"enabled": False}}
    (tmp_path / "hub").mkdir()
    hub = RunningHub(tmp_path / "hub", None, extra_settings=settings, env={"STATCOMMONS_LIBRARY_DB": url})
    library = Library(hub)
    started = time.monotonic()
    hub.start()
    try:
        assert requests.get(f"{hub.url}/hub/health", timeout=10).status_code == 200

        def status() -> dict | None:
            r = library.call("GET", "/api/status")
            return r.json() if r.status_code == 200 else None

        first = wait_for(status, 60, what="the library's status")
        answered = time.monotonic() - started
        assert first["index"] in ("loading", "warming"), f"{first}: the index was ready {answered:.1f}s after start"
        # A word of middling frequency: a few thousand items have it.
        word = corpus.vocabulary[300]
        query = {"q": word, "sort": "title", "limit": 50}
        r = library.call("GET", "/api/items", as_user="reader", params=query)  # waits for the folder if need be
        assert r.status_code == 200, r.text
        warming = r.json()
        assert warming["index"] == "warming", f"the index was ready {time.monotonic() - started:.1f}s after start"
        assert warming["total"] > 50
        r = library.call("POST", "/api/items", as_user="reader", json={
            "type": "publication", "title": f"Bandicoot {word} census", "summary": "Counting bandicoots at night.",
        })  # fmt: skip
        assert r.status_code == 201, r.text
        submitted = r.json()["id"]
        assert status()["index"] == "warming"

        ready = wait_for(lambda: (s := status()) and s["index"] == "ready" and s, 120, what="the search index")
        assert ready["items"] == ITEMS + len(CURATED)
        r = library.call("GET", "/api/items", as_user="reader", params=query)
        indexed = r.json()
        assert indexed["index"] == "ready"
        assert indexed["total"] == warming["total"]
        assert [i["id"] for i in indexed["items"]] == [i["id"] for i in warming["items"]]
        assert indexed["facets"] == warming["facets"]
        r = library.call("GET", "/api/items", as_user="reader", params={"q": f"bandicoot {word}", "mine": "true"})
        assert r.json()["index"] == "ready" and [i["id"] for i in r.json()["items"]] == [submitted]
        print(f"library status answered {answered:.1f}s after the hub was started, "
              f"its index ready after {time.monotonic() - started:.1f}s")  # fmt: skip
        assert "Cannot connect to" not in hub.log()
    finally:
        hub.stop()
        print(f"--- hub log ({hub.log_file}) ---\n{hub.log()[-6000:]}")
