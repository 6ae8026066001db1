"""The in-memory search index alone, and both search modes of the store checked against brute force."""

from __future__ import annotations

import random
import threading
from collections import Counter

import numpy as np
import pytest

from statcommons.library import index as index_mod
from statcommons.library import schema, search
from statcommons.library.index import Doc, SearchIndex, _top
from statcommons.library.store import FACETS, MAX_PAGE, InvalidItem, Store

from .conftest import ITEMS, NASTY
from .test_search import expected_facets, ids


def doc(pk: int, title: str, summary: str = "", authors: str = "", keywords: str = "", **fields) -> Doc:
    values = {"status": "published", "submitter": None, "year": None, "created": None, "facets": frozenset()}
    values.update(fields)
    return Doc(pk=pk, title=title, summary=summary, authors=authors, keywords=keywords,
               title_sort=title.casefold(), **values)  # fmt: skip


def made(*docs: Doc) -> SearchIndex:
    built = SearchIndex(FACETS)
    built.add(docs)
    return built


def found(built: SearchIndex, q: str, **options) -> list[int]:
    return built.search(search.terms(q), limit=MAX_PAGE, **options).pks


def test_words_match_as_prefixes_of_words():
    built = made(doc(1, "Record linkage"), doc(2, "Linking registers"), doc(3, "A link"), doc(4, "Splink"))
    assert sorted(found(built, "link")) == [1, 2, 3]
    assert sorted(found(built, "LIN")) == [1, 2, 3]
    assert found(built, "linka") == [1]
    assert found(built, "splink") == [4]
    assert found(built, "inkage") == []
    assert built.search(search.terms("link"), limit=1).total == 3


def test_every_word_must_match():
    built = made(doc(1, "Record linkage", "survey data"), doc(2, "Linkage"), doc(3, "Survey design"))
    assert found(built, "link survey") == [1]
    assert found(built, "survey link") == [1]
    assert found(built, "link nothing") == []
    assert sorted(found(built, "")) == [1, 2, 3]


def test_diacritics_and_case_are_folded_both_ways():
    built = made(doc(1, "Estimación en áreas pequeñas"), doc(2, "ÜBER Façade"))
    assert found(built, "pequeñ") == found(built, "PEQUEN") == found(built, "estimacion") == [1]
    assert found(built, "uber facade") == [2]


def test_expansions_keep_the_most_frequent_words(monkeypatch):
    monkeypatch.setattr(index_mod, "MAX_EXPANSIONS", 2)
    docs = [doc(n, f"word{n % 4} common") for n in range(1, 41)] + [doc(41, "worda"), doc(42, "wordb wordb")]
    built = made(*docs)
    kept = {built._sorted_words[built._sorted_ids.index(word)] for word in built.expand("word")}
    assert len(kept) == 2 and kept <= {"word0", "word1", "word2", "word3"}
    assert built.search(["word"]).total == 20  # the items of the two most frequent words
    assert found(built, "worda") == [41]  # a longer prefix still finds the rare word


def test_title_ranks_before_keywords_authors_and_summary():
    filler = "some other words about official statistics"
    built = made(
        doc(1, filler, f"linkage {filler}"),
        doc(2, filler, filler, authors="Ann Linkage"),
        doc(3, f"Linkage {filler}", filler),
        doc(4, filler, filler, keywords="linkage"),
    )
    assert found(built, "linkage") == [3, 4, 2, 1]


def test_relevance_ties_and_other_orders():
    built = made(
        doc(1, "Beta", year=2020, created="2020-05-01"),
        doc(2, "alpha", year=2020, created="2020-06-01T10:00:00Z"),
        doc(3, "Gamma", year=None),
        doc(4, "alpha", year=2021, rating_avg=4.0, rating_count=1),
        doc(5, "delta", year=2020, created="2020-06-01T10:00:00Z", rating_avg=4.0, rating_count=3),
    )
    assert found(built, "", sort="title") == [2, 4, 1, 5, 3]
    assert found(built, "", sort="newest") == [4, 5, 2, 1, 3]
    assert found(built, "", sort="relevance") == [4, 5, 2, 1, 3]
    assert found(built, "", sort="rating") == [5, 4, 2, 1, 3]
    assert found(built, "alpha") == [2, 4]  # same score: by title, then pk
    with pytest.raises(ValueError, match="not a sort order"):
        built.search([], sort="random")


def test_pages():
    built = made(*(doc(n, f"Title {n:03d}") for n in range(1, 251)))
    everything = found(built, "title", sort="title")
    assert everything == list(range(1, 101))
    pages = [built.search(["title"], sort="title", offset=o, limit=30, facets=False).pks for o in range(0, 300, 30)]
    assert sum(pages, []) == list(range(1, 251))
    assert built.search(["title"], offset=1000).pks == []


def test_the_best_rows_are_those_of_a_full_sort():
    rng = np.random.default_rng(3)
    for size in (1, 7, 500, 20_000):
        for distinct in (1, 3, 50, None):  # None: no ties in the first key
            first = rng.random(size) if distinct is None else rng.integers(0, distinct, size).astype(float)
            keys = [first, rng.integers(0, 3, size), -rng.permutation(size)]
            everything = np.lexsort(list(reversed(keys)))[::-1]
            for wanted in {1, 20, 137, size}:
                assert np.array_equal(_top(keys, min(wanted, size)), everything[:wanted]), (size, distinct, wanted)


def test_title_order_survives_many_inserts_at_one_place(monkeypatch):
    original, renumbered = SearchIndex._renumber, []

    def spy(self):
        renumbered.append(len(self._titles))
        original(self)

    monkeypatch.setattr(SearchIndex, "_renumber", spy)
    built = made(doc(1, "b"), doc(2, "c"))
    titles = {1: "b", 2: "c"}
    for n in range(3, 103):
        titles[n] = "b" + "z" * (n - 2)  # each one sorts between the one before and "c"
        built.add([doc(n, titles[n])])
    assert len(renumbered) >= 2  # the first build, then when the room between two ranks ran out
    expected = sorted(titles, key=lambda pk: (titles[pk], pk))
    pages = [built.search([], sort="title", offset=o, limit=50, facets=False).pks for o in (0, 50, 100)]
    assert sum(pages, []) == expected


def test_changes_replace_the_old_version():
    facets = frozenset({("type", "dataset"), ("topic", "privacy")})
    built = made(doc(1, "Synthetic microdata", facets=facets), doc(2, "Other", facets=frozenset({("type", "video")})))
    for n in range(30):
        built.add([doc(1, f"Synthetic version{n}", facets=facets)])
    assert len(built) == 2
    assert found(built, "version29") == [1] and found(built, "version3") == []
    assert found(built, "microdata") == []
    result = built.search([])
    assert result.total == 2
    assert result.facets["type"] == {"dataset": 1, "video": 1} and result.facets["topic"] == {"privacy": 1}
    built.add([doc(1, "Synthetic", status="retired", facets=facets)])
    assert built.search([]).facets["type"] == {"video": 1}
    assert built.search([], statuses=None, curator=True).facets["type"] == {"dataset": 1, "video": 1}
    built.remove(2)
    assert built.search([], statuses=None, curator=True).pks == [1]
    built.set_rating(1, 5.0, 2)
    built.set_rating(99, 5.0, 2)  # not indexed: nothing to do


def test_visibility_and_submitter():
    built = made(
        doc(1, "Draft one", status="submitted", submitter="ana"),
        doc(2, "Draft two", status="submitted", submitter="bob"),
        doc(3, "Published draft", submitter="ana"),
    )
    assert found(built, "draft") == [3]
    assert sorted(found(built, "draft", statuses=None, user="ana")) == [1, 3]
    assert found(built, "draft", statuses=["submitted"], user="ana") == [1]
    assert sorted(found(built, "draft", statuses=None, curator=True)) == [1, 2, 3]
    assert found(built, "draft", statuses=None, curator=True, submitter="bob") == [2]
    assert found(built, "draft", statuses=None, curator=True, submitter="nobody") == []
    assert found(built, "draft", statuses=["unknown"], curator=True) == []


@pytest.mark.parametrize("q", NASTY, ids=repr)
def test_any_query_is_words(q):
    built = made(*(doc(n, item["title"], item["summary"]) for n, item in enumerate(ITEMS, 1)))
    result = built.search(search.terms(q), limit=5)
    assert result.total >= len(result.pks)
    assert built.search([q[:40]] if q else []).total >= 0  # even unsplit text is only words


def test_facet_counts_count_the_matching_items():
    rng = random.Random(7)
    docs, truth = [], {}
    for pk in range(1, 301):
        values = {("type", rng.choice(schema.TYPES)), ("topic", rng.choice(["a", "b", "c"]))}
        values |= {("language", code) for code in rng.sample(["en", "fr", "de", "es"], rng.randint(0, 3))}
        words = " ".join(rng.choice(["alpha", "alpine", "beta", "gamma"]) for _ in range(3))
        docs.append(doc(pk, words, facets=frozenset(values)))
        truth[pk] = (words, values)
    built = made(*docs)
    for q in ("", "alp", "alpha", "beta gamma", "alpine beta", "delta"):
        for filters in ({}, {"language": ["fr"]}, {"type": ["video", "dataset"], "topic": ["a"]}):
            matching = [
                pk for pk, (words, values) in truth.items()
                if all(any(w.startswith(p) for w in words.split()) for p in search.terms(q))
                and all(any((facet, v) in values for v in wanted) for facet, wanted in filters.items())
            ]  # fmt: skip
            result = built.search(search.terms(q), filters=filters)
            counts = Counter(pair for pk in matching for pair in truth[pk][1])
            assert result.total == len(matching)
            assert result.facets == {
                name: dict(sorted(((v, n) for (f, v), n in counts.items() if f == name), key=lambda e: (-e[1], e[0])))
                for name in FACETS
            }


# The store in both search modes, on both backends, against brute force


VOCABULARY = ["alpha", "alphabet", "alpine", "beta", "betamax", "gamma", "delta", "deltas", "epsilon", "zeta"]


def random_items(seed: int, count: int) -> list[dict]:
    rng = random.Random(seed)
    topics, codes = sorted(schema.topics()), ["1.1", "2", "5.1", "5.3", "6", "6.1", "7.2"]

    def words(count: int) -> str:
        return " ".join(rng.choice(VOCABULARY) for _ in range(count))

    items = []
    for n in range(count):
        item = {
            "id": f"random-{n:03d}",
            "type": rng.choice(["publication", "experience"]),
            "title": words(rng.randint(1, 3)).capitalize(),
            "summary": words(rng.randint(3, 12)),
            "authors": [f"{rng.choice(['Ana', 'Bo', 'Cy'])} {rng.choice(VOCABULARY).capitalize()}"],
            "organisations": rng.sample(["INSEE", "ISTAT", "Eurostat", "Statistics Norway"], rng.randint(1, 2)),
            "languages": rng.sample(["en", "fr", "de"], rng.randint(1, 2)),
            "topics": rng.sample(topics[:5], rng.randint(1, 2)),
            "gsbpm": rng.sample(codes, rng.randint(1, 2)),
            "licence": rng.choice(["CC-BY-4.0", "MIT", "CC0-1.0"]),
            "year": rng.randint(2015, 2024),
            "created": f"{rng.randint(2015, 2024)}-0{rng.randint(1, 9)}-1{rng.randint(0, 9)}T10:00:00Z",
        }
        if rng.random() < 0.5:
            item["keywords"] = [words(1)]
        items.append(item)
    return items


def matches(item: dict, q: str, filters: dict) -> bool:
    text = " ".join([item["title"], item["summary"], *item["authors"], *item.get("keywords", [])])
    words = search.index_text(text).split()
    if not all(any(word.startswith(prefix) for word in words) for prefix in search.folded(search.terms(q))):
        return False
    for facet, wanted in filters.items():
        wanted = [wanted] if isinstance(wanted, str) else wanted
        if facet == "gsbpm":
            have = {*item["gsbpm"], *(code.split(".")[0] for code in item["gsbpm"])}
        elif facet in ("type", "licence"):
            have = {item[facet]}
        else:
            have = set(item[{"topic": "topics", "organisation": "organisations", "language": "languages"}[facet]])
        if not have & set(wanted):
            return False
    return True


def test_store_matches_and_counts_as_brute_force_does(store):
    items = random_items(11, 160)
    assert store.add_many(items) == len(items)
    rng = random.Random(12)
    filters = [{}, {"gsbpm": "5"}, {"language": ["fr", "de"]}, {"type": "experience", "licence": "MIT"},
               {"topic": ["big-data", "data-integration"]}, {"organisation": "Eurostat", "gsbpm": "6.1"}]  # fmt: skip
    for _ in range(40):
        q = " ".join(rng.choice(VOCABULARY)[: rng.randint(1, 6)] for _ in range(rng.randint(0, 2)))
        chosen = rng.choice(filters)
        expected = [item for item in items if matches(item, q, chosen)]
        first = store.search(q, **chosen, sort="title", limit=MAX_PAGE)
        second = store.search(q, **chosen, sort="title", limit=MAX_PAGE, offset=MAX_PAGE)
        by_title = sorted(expected, key=lambda item: (item["title"].casefold(), item["id"]))
        assert ids(first) + ids(second) == [item["id"] for item in by_title], (q, chosen)
        assert first["total"] == len(expected)
        assert first["facets"] == {name: dict(c) for name, c in expected_facets(expected).items()}, (q, chosen)
        ranked = [ids(store.search(q, **chosen, limit=MAX_PAGE, offset=o, facets=False)) for o in (0, MAX_PAGE)]
        assert sorted(ranked[0] + ranked[1]) == sorted(ids(first) + ids(second)), (q, chosen)


def test_both_modes_sort_alike(store):
    items = random_items(13, 120)
    store.add_many(items)
    for n, item in enumerate(items[:40]):
        store.rate(item["id"], "ana", 1 + n % 5)
        if n % 3 == 0:
            store.rate(item["id"], "bob", 5)
    other = Store(store.url.render_as_string(hide_password=False),
                  search="database" if store.search_mode == "memory" else "memory")  # fmt: skip
    try:
        for sort in ("title", "newest", "rating"):
            for q in ("", "alp", "beta gamma"):
                assert ids(store.search(q, sort=sort, limit=50)) == ids(other.search(q, sort=sort, limit=50)), sort
    finally:
        other.close()


def test_changes_are_searchable_at_once(store, items):
    store.search("anything")  # the memory index is built: from now on writes must update it
    store.add(items[0], "curator", status="published")
    submitted = store.add({**items[1], "title": "Splink draft"}, "ana")
    assert ids(store.search("splink")) == []
    assert ids(store.search("draft", status=None, visible_to={"user": "ana"})) == ["splink"]
    assert ids(store.search(status=None, visible_to={"curator": True}, submitter="ana")) == ["splink"]
    store.set_status(submitted["id"], "published")
    assert ids(store.search("splink draft")) == ["splink"]
    assert store.search()["facets"]["type"] == {"algorithm": 1, "publication": 1}
    store.update("splink", {"title": "Splink at scale", "topics": ["big-data"]})
    assert ids(store.search("draft")) == [] and ids(store.search("scale")) == ["splink"]
    assert store.search(topic="big-data")["total"] == 1 and store.search(topic="record-linkage")["total"] == 1
    store.rate("splink", "ana", 5)
    assert ids(store.search(sort="rating")) == ["splink", items[0]["id"]]
    store.set_status("splink", "retired")
    assert ids(store.search("splink")) == [] and store.search()["total"] == 1
    more = [{**item, "id": f"bulk-{n}"} for n, item in enumerate(items[2:6])]
    store.add_many(more)
    assert store.search()["total"] == 5
    assert store.search("nowcasting")["items"][0]["item"]["id"] == "bulk-0"


def test_add_many_adds_all_or_nothing(store, items):
    assert store.add_many(items[:3], submitter="curator") == 3
    with pytest.raises(ValueError, match="taken or given twice"):
        store.add_many([items[3], items[0]])
    with pytest.raises(ValueError, match="taken or given twice"):
        store.add_many([items[4], items[4]])
    with pytest.raises(InvalidItem):
        store.add_many([items[5], {**items[6], "gsbpm": ["9"]}])
    with pytest.raises(ValueError, match="not a status"):
        store.add_many(items[5:], status="hidden")
    assert [item["id"] for item in store.export()] == sorted(item["id"] for item in items[:3])
    assert store.search()["total"] == 3
    assert store.add_many([]) == 0
    assert store.add_many([{**items[7], "status": "draft"}], status="submitted") == 1
    assert store.get(items[7]["id"])["status"] == "submitted"


def test_reindex_sees_changes_made_by_another_store(tmp_path, items):
    url = f"sqlite:///{tmp_path / 'library.db'}"
    reader, writer = Store(url), Store(url)
    try:
        writer.add(items[0], "curator", status="published")
        assert reader.search()["total"] == 1
        writer.add(items[1], "curator", status="published")
        assert reader.search()["total"] == 1  # the index is this process' copy
        assert reader.reindex() == 2
        assert reader.search()["total"] == 2
        assert Store(url, search="database").reindex() == 0
    finally:
        reader.close()
        writer.close()
    with pytest.raises(ValueError, match="not a search mode"):
        Store(url, search="fast")


def test_searches_while_writing(tmp_path, items):
    store = Store(f"sqlite:///{tmp_path / 'library.db'}")
    store.add_many(items)
    store.search()
    failures: list[BaseException] = []

    def write():
        try:
            for n in range(40):
                store.update(items[n % len(items)]["id"], {"title": f"Changed {n}"})
        except BaseException as e:  # noqa: BLE001
            failures.append(e)

    def read():
        try:
            for _ in range(60):
                result = store.search("changed", limit=5)
                assert result["total"] >= len(result["items"])
        except BaseException as e:  # noqa: BLE001
            failures.append(e)

    threads = [threading.Thread(target=write), *(threading.Thread(target=read) for _ in range(3))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    assert store.search("changed")["total"] == len(items)
    by_sql = Store(str(store.url), search="database")
    assert store.search()["facets"] == by_sql.search()["facets"]
    by_sql.close()
    store.close()
