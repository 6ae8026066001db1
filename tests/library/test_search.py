"""Searching the catalogue on both backends: words and prefixes, filters, facets, sorting, pages, snippets, safety."""

from __future__ import annotations

import random
import re
from collections import Counter

import pytest

from statcommons.library import search
from statcommons.library.store import MAX_PAGE

from .conftest import ITEMS, NASTY

WORD = re.compile(r"[^\W_]+")


def ids(result: dict) -> list[str]:
    return [entry["item"]["id"] for entry in result["items"]]


def expected_facets(items: list[dict]) -> dict[str, Counter]:
    counts = {name: Counter() for name in ("type", "gsbpm", "topic", "organisation", "language", "licence")}
    for item in items:
        counts["type"][item["type"]] += 1
        counts["licence"][item["licence"]] += 1
        counts["topic"].update(item.get("topics", []))
        counts["organisation"].update(item.get("organisations", []))
        counts["language"].update(item.get("languages", []))
        counts["gsbpm"].update({*item["gsbpm"], *(code.split(".")[0] for code in item["gsbpm"])})
    return counts


def in_phase(phase: str):
    return lambda item: any(code.split(".")[0] == phase for code in item["gsbpm"])


def has(key: str, *values: str):
    return lambda item: any(value in item.get(key, []) for value in values)


FILTERS = [
    ({"type": "dataset"}, lambda item: item["type"] == "dataset"),
    ({"type": ["video", "notebook"]}, lambda item: item["type"] in ("video", "notebook")),
    ({"gsbpm": "5"}, in_phase("5")),
    ({"gsbpm": "6"}, in_phase("6")),
    ({"gsbpm": "5.1"}, has("gsbpm", "5.1")),
    ({"gsbpm": "4"}, in_phase("4")),
    ({"topic": "machine-learning"}, has("topics", "machine-learning")),
    ({"topic": ["privacy", "nowcasting"]}, has("topics", "privacy", "nowcasting")),
    ({"organisation": "Eurostat"}, has("organisations", "Eurostat")),
    ({"language": "fr"}, has("languages", "fr")),
    ({"licence": "CC-BY-4.0"}, lambda item: item["licence"] == "CC-BY-4.0"),
    (
        {"type": "notebook", "language": "en", "topic": "privacy"},
        lambda item: item["type"] == "notebook" and "en" in item["languages"] and "privacy" in item["topics"],
    ),
    ({"gsbpm": "5", "licence": "CC-BY-4.0"}, lambda item: in_phase("5")(item) and item["licence"] == "CC-BY-4.0"),
    ({"organisation": "Statistics Netherlands", "q": "link"}, lambda item: item["id"].startswith("probabilistic")),
    ({"q": "machine", "gsbpm": "6"}, lambda item: item["id"] == "nowcasting-gdp-notebook"),
    ({"type": "dataset", "topic": "record-linkage"}, lambda item: False),
    ({"organisation": "Nobody"}, lambda item: False),
]


@pytest.mark.parametrize("item", ITEMS, ids=lambda item: item["id"])
def test_every_item_is_found_by_a_title_word_and_a_summary_prefix(catalogue, item):
    title_word = max(WORD.findall(item["title"]), key=len)
    summary_word = max(WORD.findall(item["summary"]), key=len)
    prefix = summary_word[: max(4, len(summary_word) - 3)]
    for q in (title_word, title_word.upper(), prefix, prefix.lower()):
        assert item["id"] in ids(catalogue.search(q, limit=MAX_PAGE)), q


def test_prefixes_match_and_every_word_must_match(catalogue):
    assert ids(catalogue.search("link", sort="title")) == ["probabilistic-record-linkage-guide", "splink"]
    assert ids(catalogue.search("linkage fellegi")) == ["probabilistic-record-linkage-guide"]
    assert catalogue.search("linkage satellite")["total"] == 0
    assert ids(catalogue.search("de vries", sort="title")) == ["probabilistic-record-linkage-guide",
                                                               "web-scraped-consumer-prices"]  # fmt: skip
    assert ids(catalogue.search("xgboo")) == ["nowcasting-gdp-notebook"]
    assert ids(catalogue.search("pequeñ")) == ["small-area-estimation-course"]


def test_title_matches_rank_first(catalogue):
    assert ids(catalogue.search("linkage")) == ["probabilistic-record-linkage-guide", "splink"]
    assert ids(catalogue.search("satellite imagery"))[0] == "crop-yield-satellite-imagery"
    assert ids(catalogue.search("machine learning"))[0] == "occupation-coding-machine-learning"


def test_facets_count_all_published_items(catalogue):
    result = catalogue.search()
    assert result["total"] == len(ITEMS)
    expected = expected_facets(ITEMS)
    assert {name: dict(counts) for name, counts in expected.items()} == result["facets"]
    assert result["facets"]["gsbpm"]["5"] == 5
    assert list(result["facets"]["type"].values()) == sorted(result["facets"]["type"].values(), reverse=True)


@pytest.mark.parametrize(("filters", "keep"), FILTERS, ids=lambda f: str(f) if isinstance(f, dict) else "")
def test_filters_and_their_facets(catalogue, filters, keep):
    expected = [item for item in ITEMS if keep(item)]
    result = catalogue.search(**filters, limit=MAX_PAGE)
    assert sorted(ids(result)) == sorted(item["id"] for item in expected)
    assert result["total"] == len(expected)
    assert result["facets"] == {name: dict(counts) for name, counts in expected_facets(expected).items()}


def test_facets_can_be_left_out(catalogue):
    assert "facets" not in catalogue.search("survey", facets=False)


def test_sort_orders(catalogue):
    by_title = ids(catalogue.search(sort="title", limit=MAX_PAGE))
    assert by_title == [item["id"] for item in sorted(ITEMS, key=lambda item: item["title"].casefold())]
    newest = [entry["item"]["year"] for entry in catalogue.search(sort="newest", limit=MAX_PAGE)["items"]]
    assert newest == sorted(newest, reverse=True) and len(newest) == len(ITEMS)
    assert ids(catalogue.search("surveys", sort="title")) == sorted(
        ids(catalogue.search("surveys")), key=lambda i: next(x["title"].casefold() for x in ITEMS if x["id"] == i)
    )
    with pytest.raises(ValueError, match="not a sort order"):
        catalogue.search(sort="random")


def test_pages_cover_the_results_once(catalogue):
    everything = ids(catalogue.search(sort="title", limit=MAX_PAGE))
    pages = [ids(catalogue.search(sort="title", limit=5, offset=offset)) for offset in range(0, 15, 5)]
    assert [len(page) for page in pages] == [5, 5, 2]
    assert sum(pages, []) == everything
    assert catalogue.search(sort="title", limit=5, offset=100)["items"] == []
    assert catalogue.search(sort="title", limit=5, offset=100)["total"] == len(ITEMS)
    assert len(catalogue.search(limit=0)["items"]) == 1
    assert ids(catalogue.search(sort="title", offset=-5, limit=3)) == everything[:3]


def test_page_size_is_capped(store, items):
    template = items[6]
    for n in range(MAX_PAGE + 5):
        store.add({**template, "id": f"handbook-{n:03d}", "title": f"Handbook {n}"}, "curator", status="published")
    result = store.search("handbook", limit=10_000, facets=False)
    assert result["total"] == MAX_PAGE + 5
    assert len(result["items"]) == MAX_PAGE
    assert len(store.search("handbook", limit=10, offset=MAX_PAGE, facets=False)["items"]) == 5


def test_snippets_mark_the_words_found(catalogue):
    [entry] = catalogue.search("fellegi regist")["items"]
    assert entry["highlight"]["summary"] == (
        "How to link administrative <mark>registers</mark> with survey microdata using the "
        "<mark>Fellegi</mark>-Sunter model."
    )
    assert entry["highlight"]["title"] == "Probabilistic record linkage: a practical guide"
    [entry] = catalogue.search("nowcast")["items"]
    assert entry["highlight"]["title"].startswith("<mark>Nowcasting</mark> quarterly")
    assert "A notebook that <mark>nowcasts</mark> GDP" in entry["highlight"]["summary"]


def test_snippets_escape_item_text(store, items):
    evil = {
        **items[0],
        "id": "evil",
        "title": "<script>alert('x')</script> Linkage & friends",
        "summary": 'Linkage <img src=x onerror=alert(1)> and <b>bold</b> "quotes" & more. ' + "filler " * 60,
    }
    store.add(evil, "mallory", status="published")
    for q in ("onerror", "linkage", "script", "img src", None):
        [entry] = [e for e in store.search(q, limit=MAX_PAGE)["items"] if e["item"]["id"] == "evil"]
        unmarked = {k: v.replace("<mark>", "").replace("</mark>", "") for k, v in entry["highlight"].items()}
        for shown in unmarked.values():
            assert "<" not in shown and ">" not in shown and '"' not in shown and "'" not in shown, shown
        assert "&lt;img src=x onerror=alert(1)&gt;" in unmarked["summary"]
        assert unmarked["title"] == "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt; Linkage &amp; friends"
    [entry] = store.search("onerror")["items"]
    assert "&lt;img src=x <mark>onerror</mark>=alert(1)&gt;" in entry["highlight"]["summary"]
    assert len(entry["highlight"]["summary"]) < len(evil["summary"])


def test_unpublished_items_are_seen_by_their_submitter_and_curators(store, items):
    store.add(items[0], "curator", status="published")
    submitted = store.add({**items[1], "title": "Splink draft"}, "ana")
    assert submitted["status"] == "submitted"
    assert ids(store.search("splink")) == []
    assert ids(store.search("splink", status=None)) == []
    assert ids(store.search("splink", status=None, visible_to={"user": "ana", "curator": False})) == ["splink"]
    assert ids(store.search("splink", status=None, visible_to={"user": "bob"})) == []
    assert ids(store.search("splink", status="submitted", visible_to={"curator": True})) == ["splink"]
    assert ids(store.search(status="submitted", visible_to={"curator": True})) == ["splink"]
    assert store.search(status=None, visible_to={"user": "bob"})["total"] == 1
    assert store.search(status=None, visible_to={"user": "ana"})["facets"]["type"] == {"algorithm": 1, "publication": 1}
    assert store.search(visible_to={"user": "ana"})["total"] == 1
    store.set_status("splink", "published", reason="checked")
    assert ids(store.search("splink")) == ["splink"]
    store.set_status("splink", "retired")
    assert ids(store.search("splink")) == []
    with pytest.raises(ValueError, match="not a status"):
        store.search(status="hidden")


@pytest.mark.parametrize("q", NASTY, ids=repr)
def test_any_query_is_text(catalogue, q):
    result = catalogue.search(q, limit=5)
    assert result["total"] >= len(result["items"])
    if not search.terms(q):
        assert result["total"] == len(ITEMS)


def test_nasty_filter_values_match_nothing(catalogue):
    for value in NASTY[:20] + ["\x00", "\ud800", "5%", "%"]:
        for facet in ("type", "gsbpm", "topic", "organisation", "language", "licence"):
            assert catalogue.search(value, **{facet: value}, limit=5)["total"] == 0


def test_random_queries_are_text(catalogue):
    alphabet = list("\"'*()-:&|!\\^{}[]<>~+%_?.,;$@#/ \t\n\x00") + ["NEAR", "AND", "OR", "NOT", "link", "é", "ß", "😀"]
    alphabet += ["\ud800", "データ", "\u0301", "ﬁ", "İ", "²"]
    rng = random.Random(20240501)
    for _ in range(300):
        q = "".join(rng.choice(alphabet) for _ in range(rng.randint(1, 12)))
        result = catalogue.search(q, limit=3, facets=rng.random() < 0.3)
        assert result["total"] >= len(result["items"]), repr(q)


def test_query_words():
    assert search.terms('  Link* "NEAR(" title:Survey -x ') == ["link", "near", "title", "survey", "x"]
    assert search.terms("a a A") == ["a"]
    assert search.terms("\x00\ud800") == []
    assert len(search.terms(" ".join(f"w{n}" for n in range(50)))) == search.MAX_TERMS
    assert search.fts5_query(["link", "survey"]) == '"link"* "survey"*'
    assert search.tsquery(["link", "survey"]) == "'link':* & 'survey':*"


def test_highlight_and_snippet():
    assert search.highlight("Linkage <b>& linking</b>", ["link"]) == (
        "<mark>Linkage</mark> &lt;b&gt;&amp; <mark>linking</mark>&lt;/b&gt;"
    )
    assert search.highlight("splink", ["link"]) == "splink"
    assert search.plain("# Title\n\nSee [the *guide*](https://x.org) `now`") == "Title See the guide now"
    long = "word " * 100 + "target " + "word " * 100
    shown = search.snippet(long, ["target"], length=80)
    assert "<mark>target</mark>" in shown and shown.startswith("… ") and shown.endswith(" …")
    assert len(shown) < 120
