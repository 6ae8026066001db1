"""The library store on both backends: adding and changing items, revisions and reviews, the curated folder,
export, ratings, comments."""

from __future__ import annotations

import pytest

from statcommons.library import files, schema
from statcommons.library.store import Conflict, InvalidItem, NotFound, Store, slugify


def ids(result: dict) -> list[str]:
    return [entry["item"]["id"] for entry in result["items"]]


def write_folder(folder, items: list[dict]) -> None:
    folder.mkdir(exist_ok=True)
    for item in items:
        (folder / f"{item['id']}.yaml").write_text(files.dump_item(item), encoding="utf-8")


def test_add_assigns_a_unique_id_status_and_date(store, items):
    submitted = {key: value for key, value in items[0].items() if key != "id"}
    first = store.add(submitted, "ana")
    second = store.add(submitted, "bob")
    assert first["id"] == "probabilistic-record-linkage-a-practical-guide"
    assert second["id"] == "probabilistic-record-linkage-a-practical-guide-2"
    assert first["status"] == "submitted" and first["provenance"] == {"source": "local"}
    assert schema.validate_item(first) == [] and "created" in first
    assert store.get(first["id"]) == first
    assert store.add({**submitted, "title": "Ñu"}, "ana")["id"] == "nu-item"
    assert "status" not in submitted


def test_add_refuses_invalid_items_and_taken_ids(store, items):
    store.add(items[0], "ana")
    with pytest.raises(ValueError, match="already exists"):
        store.add(items[0], "bob")
    with pytest.raises(InvalidItem) as refused:
        store.add({**items[1], "gsbpm": ["5.9"], "topics": ["linkage"]}, "ana")
    assert [problem.path for problem in refused.value.problems] == ["gsbpm[0]", "topics[0]"]
    with pytest.raises(InvalidItem, match="NUL"):
        store.add({**items[1], "title": "Splink\x00"}, "ana")
    with pytest.raises(InvalidItem):
        store.add(["not", "an", "item"], "ana")
    with pytest.raises(ValueError, match="not a status"):
        store.add(items[1], "ana", status="hidden")
    assert [item["id"] for item in store.export()] == [items[0]["id"]]


def test_get_unknown_item(store):
    with pytest.raises(NotFound):
        store.get("nothing-here")
    with pytest.raises(NotFound):
        store.rate("nothing-here", "ana", 3)


def test_update_reindexes_text_and_facets(store, items):
    store.add(items[1], "ana", status="published")
    changed = store.update("splink", {"title": "Splink deduplication toolkit", "topics": ["data-integration"]})
    assert changed["title"] == "Splink deduplication toolkit" and store.get("splink") == changed
    assert ids(store.search("toolkit")) == ["splink"]
    assert ids(store.search("splink dedup")) == ["splink"]
    assert store.search(topic="record-linkage")["total"] == 0
    assert store.search()["facets"]["topic"] == {"data-integration": 1}
    assert "licence" not in store.update("splink", {"licence": None})
    assert store.search()["facets"]["licence"] == {}
    with pytest.raises(InvalidItem):
        store.update("splink", {"year": 1800})
    with pytest.raises(ValueError, match="cannot change"):
        store.update("splink", {"id": "other"})
    with pytest.raises(ValueError, match="set_status"):
        store.update("splink", {"status": "published"})
    assert store.get("splink")["year"] == 2023


def test_set_status_keeps_the_reason(store, items):
    store.add(items[2], "ana")
    rejected = store.set_status(items[2]["id"], "rejected", reason="duplicate of another item")
    assert rejected["status"] == "rejected" == store.get(items[2]["id"])["status"]
    assert store.status_reason(items[2]["id"]) == "duplicate of another item"
    assert store.search(status="rejected", visible_to={"curator": True})["total"] == 1
    with pytest.raises(ValueError):
        store.set_status(items[2]["id"], "gone")


def test_each_change_of_an_item_is_a_new_revision(store, items):
    store.add(items[1], "ana")
    assert store.revision("splink") == 1
    assert store.search("splink", status=None, visible_to={"curator": True})["items"][0]["revision"] == 1
    store.update("splink", {"summary": "Faster deduplication."})
    assert store.revision("splink") == 2
    # Nothing the curator reads changes: the same values, or only the date of the change.
    store.update("splink", {"summary": "Faster deduplication.", "year": 2023})
    store.update("splink", {"updated": "2030-01-01T00:00:00Z"})
    store.update("splink", {}, status="draft")
    assert store.revision("splink") == 2
    # A file stored with the change (attach) is part of it.
    store.update("splink", {}, attach=lambda connection, item: None)
    assert store.revision("splink") == 3
    # Reviews, ratings and comments are not changes of the item.
    store.set_status("splink", "submitted")
    store.review("splink", "published", 3, from_statuses=("submitted",))
    store.rate("splink", "bob", 4)
    store.add_comment("splink", "bob", "Nice")
    assert store.revision("splink") == 3
    for mode in ("memory", "database"):
        other = Store(str(store.url), search=mode)
        found = other.search("dedup")["items"]
        other.close()
        assert [(hit["item"]["id"], hit["revision"]) for hit in found] == [("splink", 3)]


def test_a_review_is_of_the_revision_the_curator_read(store, items):
    store.add(items[1], "ana")
    store.update("splink", {"summary": "Swapped after the curator read it."})
    with pytest.raises(Conflict, match="'splink' changed since revision 1 .*read it again"):
        store.review("splink", "published", 1, from_statuses=("submitted",))
    assert store.get("splink")["status"] == "submitted"
    assert store.search(status="published")["total"] == 0
    with pytest.raises(Conflict, match="has no revision 3"):
        store.review("splink", "published", 3)
    published = store.review("splink", "published", 2, reason="checked", from_statuses=("submitted",))
    assert published["status"] == "published" and published["summary"] == "Swapped after the curator read it."
    assert "updated" in published and store.status_reason("splink") == "checked"
    assert ids(store.search("swapped")) == ["splink"]
    # Another curator's review of the same revision comes second.
    with pytest.raises(Conflict, match="'splink' is published: only items that are submitted can be rejected"):
        store.review("splink", "rejected", 2, reason="no", from_statuses=("submitted",))
    assert store.get("splink")["status"] == "published"
    with pytest.raises(NotFound):
        store.review("nothing-here", "published", 1)


def test_a_rejected_item_that_changes_is_reviewed_again(store, items):
    store.add(items[1], "ana")
    store.review("splink", "rejected", 1, reason="add a licence", from_statuses=("submitted",))
    store.update("splink", {"licence": "Apache-2.0"})
    assert store.get("splink")["status"] == "submitted" and store.revision("splink") == 2
    assert store.status_reason("splink") is None
    assert ids(store.search(status="submitted", visible_to={"curator": True})) == ["splink"]
    # Unless its submitter keeps it as a draft; a draft or a submission keeps its status.
    store.review("splink", "rejected", 2, reason="still not", from_statuses=("submitted",))
    assert store.update("splink", {"year": 2024}, status="draft")["status"] == "draft"
    assert store.update("splink", {"year": 2025})["status"] == "draft"
    assert store.update("splink", {"year": 2024}, status="submitted")["status"] == "submitted"
    assert store.update("splink", {"year": 2023})["status"] == "submitted"
    # A published item changed (by a curator) stays published, at a new revision.
    store.review("splink", "published", store.revision("splink"), from_statuses=("submitted",))
    assert store.update("splink", {"title": "Splink 4"})["status"] == "published"


def test_an_update_checks_the_status_and_stores_files_in_its_transaction(store, items):
    store.add(items[1], "ana", status="published")
    with pytest.raises(Conflict, match="'splink' is published: it can be changed only when it is draft or submitted"):
        store.update("splink", {"title": "Swapped"}, from_statuses=("draft", "submitted"))
    assert store.get("splink")["title"] == "Splink" and store.revision("splink") == 1

    def failing(connection, item):
        raise OSError("disk full")

    with pytest.raises(OSError):
        store.update("splink", {"title": "Swapped"}, attach=failing)
    assert store.get("splink")["title"] == "Splink" and store.revision("splink") == 1
    with pytest.raises(OSError):
        store.add(items[0], "ana", attach=failing)
    with pytest.raises(NotFound):
        store.get(items[0]["id"])
    seen = []
    store.add(items[0], "ana", attach=lambda connection, item: seen.append(item["id"]))
    assert seen == [items[0]["id"]]


def test_ratings_average_one_per_user(store, items):
    store.add(items[0], "curator", status="published")
    store.add(items[1], "curator", status="published")
    assert store.rating("splink") == {"average": None, "count": 0}
    assert store.rate("splink", "ana", 5) == {"average": 5.0, "count": 1}
    assert store.rate("splink", "bob", 2) == {"average": 3.5, "count": 2}
    assert store.rate("splink", "ana", 3) == {"average": 2.5, "count": 2}
    store.rate(items[0]["id"], "ana", 4)
    assert ids(store.search(sort="rating")) == [items[0]["id"], "splink"]
    assert store.search("splink")["items"][0]["rating"] == {"average": 2.5, "count": 2}
    for stars in (0, 6, 2.5, True, "5", None):
        with pytest.raises(ValueError):
            store.rate("splink", "ana", stars)
    assert store.rating("splink") == {"average": 2.5, "count": 2}


def test_comments_can_be_hidden(store, items):
    store.add(items[0], "curator", status="published")
    item_id = items[0]["id"]
    first = store.add_comment(item_id, "ana", "Very useful, see **chapter 3**.")
    second = store.add_comment(item_id, "bob", "<script>spam</script>")
    assert [c["text"] for c in store.comments(item_id)] == ["Very useful, see **chapter 3**.", "<script>spam</script>"]
    assert store.hide_comment(second["id"])["hidden"] is True
    assert [c["id"] for c in store.comments(item_id)] == [first["id"]]
    shown = store.comments(item_id, include_hidden=True)
    assert [(c["author"], c["hidden"]) for c in shown] == [("ana", False), ("bob", True)]
    store.hide_comment(second["id"], hidden=False)
    assert len(store.comments(item_id)) == 2
    for text in ("", "   ", "x" * 10_001):
        with pytest.raises(ValueError):
            store.add_comment(item_id, "ana", text)
    with pytest.raises(NotFound):
        store.hide_comment(123456)


def test_load_folder_is_idempotent_and_updates_changed_files(store, items, tmp_path):
    folder = tmp_path / "library"
    write_folder(folder, items[:3])
    (folder / "broken.yaml").write_text("id: broken\ntype: nothing\n", encoding="utf-8")
    first = store.load_folder(folder)
    assert sorted(first["added"]) == sorted(item["id"] for item in items[:3])
    assert first["problems"] and all("broken.yaml" in line for line in first["problems"])
    assert store.load_folder(folder)["unchanged"] == sorted(item["id"] for item in items[:3])
    assert len(store.export()) == 3
    write_folder(folder, [{**items[1], "title": "Splink at scale"}, items[3]])
    third = store.load_folder(folder)
    assert (third["added"], third["updated"]) == ([items[3]["id"]], ["splink"])
    assert store.revision("splink") == 2 and store.revision(items[0]["id"]) == 1
    assert len(store.export()) == 4
    assert ids(store.search("scale")) == ["splink"]
    assert store.search("splink")["total"] == 1
    assert store.get("splink")["status"] == "published"
    assert store.search()["total"] == 4


def test_export_round_trips_through_yaml(store, items, tmp_path):
    for item in items:
        store.add(item, "curator", status="published")
    store.add({**items[0], "id": "waiting", "summary": "Multi-line\n\n* Markdown *summary*"}, "ana")
    exported = store.export()
    assert [item["id"] for item in exported] == sorted([*(item["id"] for item in items), "waiting"])
    write_folder(tmp_path / "export", exported)
    loaded, problems = files.load_folder(tmp_path / "export")
    assert problems == []
    assert loaded == exported
    again = Store(f"sqlite:///{tmp_path / 'again.db'}")
    report = again.load_folder(tmp_path / "export")
    assert len(report["added"]) == len(exported) and again.export() == exported
    again.close()


def test_slugify():
    assert slugify("Record linkage in R: a guide!") == "record-linkage-in-r-a-guide"
    assert slugify("Économie & société") == "economie-societe"
    assert slugify("データ") == "item"
    assert slugify("x" * 200) == "x" * 72


def test_unsupported_database():
    with pytest.raises(ValueError, match="not supported"):
        Store("mysql://localhost/library")


def test_repository_origins_are_those_of_published_notebooks(store):
    def notebook(title: str, repository: str) -> dict:
        return {
            "type": "notebook",
            "title": title,
            "summary": "A notebook kept in git.",
            "notebook": {"repository": repository, "branch": "main", "path": "a.ipynb"},
        }

    store.add(notebook("Published one", "https://GitHub.com/statcommons/tutorials"), "ana", status="published")
    store.add(notebook("Published two", "http://git.example.org:8080/x.git"), "ana", status="published")
    store.add(notebook("Only submitted", "https://evil.example.org/x.git"), "ana")
    assert store.repository_origins() == ["http://git.example.org:8080", "https://github.com"]
