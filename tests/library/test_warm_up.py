"""The in-memory index built while the store serves: searches answered by SQL meanwhile, no write lost.

A build is held at a point of its own (:class:`Gate`): before it reads the database, or after
it has read everything but before the index is put in place. Writes made while it is held must
all be in the index once it is: the second case is the race, rows read before the writes that
reach the new index only through the journal of :meth:`Store.reindex`.
"""

from __future__ import annotations

import threading

import pytest

from statcommons.library.store import Store

from .conftest import BACKENDS, _make_store


def ids(result: dict) -> list[str]:
    return [hit["item"]["id"] for hit in result["items"]]


class Gate:
    """Holds ``store``'s next index builds ``before reading`` the database or ``after reading`` it, until opened."""

    def __init__(self, store: Store, when: str):
        self.reached = threading.Event()
        self.opened = threading.Event()
        original = store._memory._load_index

        def load(*args, **kwargs):
            if when == "before reading":
                self._wait()
            index = original(*args, **kwargs)
            if when == "after reading":
                self._wait()
            return index

        store._memory._load_index = load

    def _wait(self) -> None:
        self.reached.set()
        assert self.opened.wait(60), "the test never opened the gate"


class Build:
    """``store.reindex()`` in a thread; ``join`` returns what it returned or raises what it raised."""

    def __init__(self, store: Store):
        self.outcome: list = []
        self.thread = threading.Thread(target=self._run, args=(store,))
        self.thread.start()

    def _run(self, store: Store) -> None:
        try:
            self.outcome.append(store.reindex())
        except BaseException as e:  # noqa: BLE001
            self.outcome.append(e)

    def join(self) -> int:
        self.thread.join(60)
        assert self.outcome, "the build did not end"
        if isinstance(self.outcome[0], BaseException):
            raise self.outcome[0]
        return self.outcome[0]


@pytest.fixture(params=BACKENDS)
def memory_store(request, tmp_path):
    """An empty store searching with the in-memory index, on each backend."""
    made, remove = _make_store((request.param, "memory"), request, tmp_path)
    yield made
    remove()


def same_results(store: Store, by_sql: Store, queries: list[dict]) -> None:
    for query in queries:
        memory, sql = store.search(**query, limit=50), by_sql.search(**query, limit=50)
        assert memory["searched"] == "memory"
        assert ids(memory) == ids(sql), query
        assert memory["total"] == sql["total"], query
        assert memory["facets"] == sql["facets"], query


@pytest.mark.parametrize("when", ["before reading", "after reading"])
def test_writes_made_during_a_build_are_in_the_index_it_makes(memory_store, items, when):
    store = memory_store
    store.add_many(items[:8], submitter="curator")
    store.defer_index()
    gate = Gate(store, when)
    build = Build(store)
    assert gate.reached.wait(60)

    # Meanwhile searches are answered by SQL, at once.
    found = store.search("linkage")
    assert found["searched"] == "database"
    assert ids(found) == ["probabilistic-record-linkage-guide", "splink"]
    # And writes go on: each kind of write the index follows.
    store.add({**items[8], "title": "Estimating crop yields from orbit"}, "ana")
    store.add_many([items[9]], submitter="curator")
    store.update(items[0]["id"], {"title": "Probabilistic matching: a field manual", "topics": ["big-data"]})
    store.rate(items[1]["id"], "ana", 5)
    store.set_status(items[2]["id"], "retired")
    store.review(items[8]["id"], "published", revision=1)
    store.update(items[8]["id"], {"keywords": ["sentinel"]})
    assert store.search("orbit")["searched"] == "database"

    gate.opened.set()
    assert build.join() == 10
    assert store.index_ready
    by_sql = Store(store.url.render_as_string(hide_password=False), search="database")
    try:
        same_results(store, by_sql, [
            {}, {"q": "linkage"}, {"q": "matching manual"}, {"q": "practical guide"}, {"q": "orbit sentinel"},
            {"q": "nowcasting"}, {"topic": "big-data"}, {"sort": "rating"}, {"sort": "title"},
            {"status": None, "visible_to": {"curator": True}}, {"q": "prices", "sort": "newest"},
        ])  # fmt: skip
    finally:
        by_sql.close()
    assert ids(store.search("orbit sentinel")) == [items[8]["id"]]
    assert ids(store.search("practical guide")) == []  # the title it had when the build read it is gone
    assert ids(store.search(sort="rating"))[0] == items[1]["id"]
    assert ids(store.search("nowcasting")) == []  # retired during the build
    assert store.search(q="prices")["items"][0]["item"]["id"] == items[9]["id"]


def test_a_search_during_a_build_does_not_wait_for_it(memory_store, items):
    store = memory_store
    store.add_many(items)
    gate = Gate(store, "before reading")
    build = Build(store)  # not announced with defer_index: a build by another thread is enough
    assert gate.reached.wait(60)
    assert store.search("splink")["searched"] == "database"
    assert not store.index_ready
    gate.opened.set()
    assert build.join() == len(items)
    assert store.search("splink")["searched"] == "memory"


def test_the_first_search_builds_the_index_unless_one_is_announced(memory_store, items):
    store = memory_store
    store.add_many(items[:3])
    store.defer_index()
    assert store.search()["searched"] == "database"
    assert store.reindex() == 3
    assert store.search()["searched"] == "memory"
    lazy = Store(store.url.render_as_string(hide_password=False))
    try:
        assert lazy.search()["searched"] == "memory"  # no build announced: this search built it
    finally:
        lazy.close()


def test_a_failed_build_leaves_searches_on_the_database_until_one_succeeds(memory_store, items):
    store = memory_store
    store.add_many(items[:3])
    store.defer_index()
    original = store._memory._load_index

    def failing(*args, **kwargs):
        store.add(items[3], "curator", status="published")  # journaled, then dropped with the failed build
        raise MemoryError("no room for the index")

    store._memory._load_index = failing
    with pytest.raises(MemoryError):
        store.reindex()
    assert not store.index_ready
    assert store.search()["searched"] == "database" and store.search()["total"] == 4
    store.add(items[4], "curator", status="published")
    store._memory._load_index = original
    assert store.reindex() == 5
    assert store.search()["searched"] == "memory" and store.search()["total"] == 5


def test_sqlite_planner_statistics_are_made_when_missing_or_far_off(memory_store, items):
    store = memory_store
    if store.dialect != "sqlite":
        assert store.analyze() is False  # PostgreSQL keeps its own
        return
    store.add_many(items[:3])
    assert store.analyze() is True  # none yet
    assert store.analyze() is False
    store.add_many(items[3:6])
    assert store.analyze() is False  # twice as many: close enough
    store.add_many(items[6:])
    assert store.analyze() is True
    with store.db.connect() as conn:
        stat = conn.exec_driver_sql("SELECT stat FROM sqlite_stat1 WHERE idx = 'ix_library_items_type'").scalar()
    assert stat.split()[0] == str(len(items))
