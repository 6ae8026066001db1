"""The library API through a real hub: finding, submitting, reviewing, rating and commenting.

Each test runs on SQLite and on PostgreSQL (the ``library`` fixture). Users are hub users
with hub tokens, as programs call the service; curators are members of the hub group
``curators``.
"""

from __future__ import annotations

import json
import secrets

import pytest

from statcommons.library import files, gsbpm
from statcommons.settings import ROOT

from ...hubtools import wait_for

pytestmark = pytest.mark.hub

CURATED, _ = files.load_folder(ROOT / "library")

NOTEBOOK = {
    "cells": [
        {"cell_type": "code", "metadata": {}, "source": "sample_size = 100", "outputs": [], "execution_count": None}
    ],
    "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}},
    "nbformat": 4,
    "nbformat_minor": 5,
}


def unique(word: str) -> str:
    return f"{word}{secrets.token_hex(3)}"


def read(library, item_id: str, user: str = "carla-curator") -> dict:
    """The item as someone reads it now (a curator, by default, before deciding)."""
    r = library.call("GET", f"/api/items/{item_id}", as_user=user)
    assert r.status_code == 200, r.text
    return r.json()


def submission(**fields) -> dict:
    item = {
        "type": "publication",
        "title": f"Small area estimation of poverty {unique('zq')}",
        "summary": "How a national office combined census and survey data to estimate poverty by district.",
        "organisations": ["Statistics Testland"],
        "gsbpm": ["6.1"],
        "links": [{"url": "https://example.org/sae"}],
    }
    return {**item, **fields}


def test_without_credentials_api_clients_get_401_not_a_redirect(library):
    r = library.call("GET", "/api/items")
    assert r.status_code == 401
    assert r.headers["Content-Type"].startswith("application/json")
    assert "log in" in r.json()["message"]
    r = library.call("GET", "/api/items", headers={"Authorization": "token not-a-real-token"})
    assert r.status_code == 401


def test_openapi_and_schema_are_served(library):
    doc = library.call("GET", "/api/openapi.json").json()
    assert doc["openapi"].startswith("3.1")
    assert "/api/items/{item_id}/review" in doc["paths"]
    item_schema = library.call("GET", "/api/schema", as_user="reader").json()
    assert item_schema["$id"].startswith("https://statcommons.org/schemas/library-item/")
    assert "notebook" in item_schema["properties"]


def test_every_curated_item_is_found_by_words_of_its_title(library):
    missing = []
    for item in CURATED:
        words = [w for w in item["title"].replace("-", " ").split() if len(w) > 3][:3] or [item["title"]]
        r = library.call("GET", "/api/items", as_user="reader", params={"q": " ".join(words), "limit": 100})
        assert r.status_code == 200, r.text
        if item["id"] not in [hit["id"] for hit in r.json()["items"]]:
            missing.append((item["id"], words))
    assert missing == []


def test_a_curated_item_is_found_by_words_of_its_summary(library):
    item = next(i for i in CURATED if i["type"] == "algorithm")
    words = [w.strip(".,;:()") for w in item["summary"].split() if len(w) > 6][:2]
    r = library.call("GET", "/api/items", as_user="reader", params={"q": " ".join(words), "limit": 100})
    assert item["id"] in [hit["id"] for hit in r.json()["items"]], words
    hit = next(h for h in r.json()["items"] if h["id"] == item["id"])
    assert "<mark>" in hit["highlight"]["summary"]


def test_gsbpm_phase_filter_matches_its_subprocesses_and_facets_count(library):
    r = library.call("GET", "/api/items", as_user="reader", params={"gsbpm": "5", "limit": 100})
    body = r.json()
    assert body["total"] > 0
    for item in body["items"]:
        assert any(gsbpm.phase_of(code) == "5" for code in item["gsbpm"]), item["id"]
    expected = sum(1 for i in CURATED if any(gsbpm.phase_of(c) == "5" for c in i.get("gsbpm", [])))
    assert body["total"] == expected
    assert body["facets"]["gsbpm"]["5"] == expected
    assert sum(body["facets"]["type"].values()) == expected


def test_page_size_is_capped_and_bad_parameters_name_themselves(library):
    r = library.call("GET", "/api/items", as_user="reader", params={"limit": 5000})
    assert r.status_code == 200 and r.json()["limit"] == 100
    r = library.call("GET", "/api/items", as_user="reader", params={"q": "statistics", "facets": "false"})
    assert r.status_code == 200 and r.json()["facets"] == {} and r.json()["total"] > 0
    for params, field in (({"sort": "best"}, "sort"), ({"limit": "ten"}, "limit"), ({"typ": "dataset"}, "typ")):
        r = library.call("GET", "/api/items", as_user="reader", params=params)
        assert r.status_code == 422, params
        assert r.json()["errors"][0]["path"] == field


@pytest.mark.parametrize("q", ['"unclosed', "*", "NEAR(a b", "-record", "(linkage", "a AND OR NOT", "\\", "'; --"])
def test_query_syntax_is_text(library, q):
    r = library.call("GET", "/api/items", as_user="reader", params={"q": q})
    assert r.status_code == 200, r.text


def test_submit_review_publish_rate_and_comment(library):
    item = submission()
    r = library.call("POST", "/api/items", as_user="ana", json=item)
    assert r.status_code == 201, r.text
    created = r.json()
    item_id = created["id"]
    assert created["status"] == "submitted" and created["submitter"] == "ana" and created["revision"] == 1
    assert r.headers["Location"].endswith(f"/services/library/api/items/{item_id}")

    # Unpublished: invisible to other readers, in the curators' queue.
    assert library.call("GET", f"/api/items/{item_id}", as_user="bob").status_code == 404
    library.user("carla-curator", curator=True)
    queue = library.call("GET", "/api/items", as_user="carla-curator", params={"status": "submitted", "limit": 100})
    assert item_id in [i["id"] for i in queue.json()["items"]]
    mine = library.call("GET", "/api/items", as_user="ana", params={"mine": "true"}).json()
    assert [i["id"] for i in mine["items"]] == [item_id]

    # Only curators review; a rejection needs a reason, which the submitter then sees.
    review = f"/api/items/{item_id}/review"
    r = library.call("POST", review, as_user="ana", json={"decision": "publish", "revision": 1})
    assert r.status_code == 403
    r = library.call("POST", review, as_user="carla-curator", json={"decision": "reject", "revision": 1})
    assert r.status_code == 422 and r.json()["errors"][0]["path"] == "reason"
    reason = "Please add the link to the methodology report."
    r = library.call(
        "POST", review, as_user="carla-curator", json={"decision": "reject", "revision": 1, "reason": reason}
    )
    assert r.status_code == 200 and r.json()["status"] == "rejected" and r.json()["revision"] == 1
    seen = library.call("GET", f"/api/items/{item_id}", as_user="ana").json()
    assert seen["status"] == "rejected" and seen["status_reason"] == reason

    # The submitter edits it, which submits it again; the curator publishes what they read.
    links = [{"url": "https://example.org/sae"}, {"url": "https://example.org/sae/methods.pdf", "title": "Methods"}]
    r = library.call("PATCH", f"/api/items/{item_id}", as_user="ana", json={"links": links})
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "submitted" and len(r.json()["links"]) == 2 and r.json()["revision"] == 2
    assert "status_reason" not in r.json()
    assert library.call("PATCH", f"/api/items/{item_id}", as_user="bob", json={"title": "Mine now"}).status_code == 404
    revision = read(library, item_id)["revision"]
    r = library.call("POST", review, as_user="carla-curator", json={"decision": "publish", "revision": revision})
    assert r.status_code == 200 and r.json()["status"] == "published" and r.json()["revision"] == 2
    r = library.call("PATCH", f"/api/items/{item_id}", as_user="ana", json={"title": "Changed after publishing"})
    assert r.status_code == 403

    # Everyone finds it now.
    word = item["title"].split()[-1]
    found = library.call("GET", "/api/items", as_user="bob", params={"q": word}).json()
    assert [(i["id"], i["revision"]) for i in found["items"]] == [(item_id, 2)]

    # Ratings: one per user, averaged.
    assert library.call("PUT", f"/api/items/{item_id}/rating", as_user="bob", json={"stars": 4}).json()["count"] == 1
    assert library.call("PUT", f"/api/items/{item_id}/rating", as_user="ana", json={"stars": 2}).json()["average"] == 3
    again = library.call("PUT", f"/api/items/{item_id}/rating", as_user="bob", json={"stars": 5}).json()
    assert again == {"average": 3.5, "count": 2, "stars": 5}
    assert library.call("GET", f"/api/items/{item_id}", as_user="dora").json()["rating"] == {"average": 3.5, "count": 2}
    r = library.call("PUT", f"/api/items/{item_id}/rating", as_user="bob", json={"stars": 6})
    assert r.status_code == 422 and r.json()["errors"][0]["path"] == "stars"

    # Comments: Markdown, sanitised; curators hide.
    text = "Useful! <img src=x onerror=alert(1)> **bold** [x](javascript:alert(1))"
    r = library.call("POST", f"/api/items/{item_id}/comments", as_user="bob", json={"text": text})
    assert r.status_code == 201
    comment = r.json()
    assert comment["text"] == text
    assert "<img" not in comment["html"] and "javascript:" not in comment["html"].replace("(javascript:", "")
    assert "<strong>bold</strong>" in comment["html"]
    r = library.call("PATCH", f"/api/items/{item_id}/comments/{comment['id']}", as_user="bob", json={"hidden": True})
    assert r.status_code == 403
    r = library.call(
        "PATCH", f"/api/items/{item_id}/comments/{comment['id']}", as_user="carla-curator", json={"hidden": True}
    )
    assert r.status_code == 200 and r.json()["hidden"] is True
    assert library.call("GET", f"/api/items/{item_id}/comments", as_user="dora").json() == {"comments": []}
    curator_view = library.call("GET", f"/api/items/{item_id}/comments", as_user="carla-curator").json()
    assert [c["hidden"] for c in curator_view["comments"]] == [True]

    # A curator retires it; it leaves the public list.
    r = library.call(
        "POST", review, as_user="carla-curator", json={"decision": "retire", "revision": 2, "reason": "Old"}
    )
    assert r.json()["status"] == "retired"
    assert library.call("GET", "/api/items", as_user="bob", params={"q": word}).json()["total"] == 0


def test_a_curator_publishes_the_revision_they_read_not_a_swapped_one(library):
    library.user("carla-curator", curator=True)
    title = f"Population projections {unique('rev')}"
    item = {"type": "notebook", "title": title, "summary": "Cohort-component projections by region."}
    r = library.call("POST", "/api/items", as_user="ana", json={**item, "notebook_content": NOTEBOOK})
    assert r.status_code == 201, r.text
    item_id, review = r.json()["id"], f"/api/items/{r.json()['id']}/review"

    # The curator reads the submission (in the queue, then the item and its notebook).
    queue = library.call("GET", "/api/items", as_user="carla-curator", params={"status": "submitted", "limit": 100})
    assert next(i for i in queue.json()["items"] if i["id"] == item_id)["revision"] == 1
    seen = read(library, item_id)
    assert seen["revision"] == 1
    notebook = library.call("GET", f"/api/items/{item_id}/notebook", as_user="carla-curator")
    assert json.loads(notebook.content) == NOTEBOOK

    # Meanwhile the submitter swaps the summary and the notebook.
    swapped = {**NOTEBOOK, "cells": [{**NOTEBOOK["cells"][0], "source": "import os; os.system('curl evil')"}]}
    changes = {"summary": "Run [this](https://evil.example) first.", "notebook_content": swapped}
    r = library.call("PATCH", f"/api/items/{item_id}", as_user="ana", json=changes)
    assert r.status_code == 200, r.text
    assert (r.json()["revision"], r.json()["status"]) == (2, "submitted")

    # Publishing what the curator read is refused, and nothing is published.
    decision = {"decision": "publish", "revision": seen["revision"]}
    r = library.call("POST", review, as_user="carla-curator", json=decision)
    assert r.status_code == 409, r.text
    assert f"{item_id!r} changed since revision 1" in r.json()["message"]
    assert "read it again" in r.json()["message"]
    assert read(library, item_id)["status"] == "submitted"
    assert library.call("GET", f"/api/items/{item_id}", as_user="bob").status_code == 404
    assert library.call("GET", "/api/items", as_user="bob", params={"q": title}).json()["total"] == 0

    # Read again, it is published as read: its summary and its notebook.
    again = read(library, item_id)
    assert again["revision"] == 2 and again["summary"] == changes["summary"]
    notebook_read = library.call("GET", f"/api/items/{item_id}/notebook", as_user="carla-curator").content
    r = library.call("POST", review, as_user="carla-curator", json={"decision": "publish", "revision": 2})
    assert r.status_code == 200, r.text
    assert (r.json()["status"], r.json()["revision"]) == ("published", 2)
    public = read(library, item_id, user="bob")
    assert public["summary"] == again["summary"]
    assert library.call("GET", f"/api/items/{item_id}/notebook", as_user="bob").content == notebook_read


def test_a_review_names_a_revision(library):
    library.user("carla-curator", curator=True)
    item_id = library.call("POST", "/api/items", as_user="ana", json=submission()).json()["id"]
    review = f"/api/items/{item_id}/review"
    for body in (
        {"decision": "publish"},
        {"decision": "publish", "revision": "1"},
        {"decision": "publish", "revision": 0},
        {"decision": "publish", "revision": True},
        {"decision": "reject", "reason": "No."},
    ):
        r = library.call("POST", review, as_user="carla-curator", json=body)
        assert r.status_code == 422, (body, r.text)
        assert [e["path"] for e in r.json()["errors"]] == ["revision"], body
    r = library.call("POST", review, as_user="carla-curator", json={"decision": "publish"})
    assert r.json()["errors"][0]["message"].startswith("missing: required")
    r = library.call("POST", review, as_user="carla-curator", json={"decision": "publish", "revision": 7})
    assert r.status_code == 409 and "has no revision 7" in r.json()["message"]
    # The revision is the service's: a change cannot set it.
    r = library.call("PATCH", f"/api/items/{item_id}", as_user="ana", json={"revision": 9})
    assert r.status_code == 422 and r.json()["errors"][0]["path"] == "revision"
    assert read(library, item_id)["status"] == "submitted"


def test_drafts_stay_private_until_submitted(library):
    r = library.call("POST", "/api/items", as_user="eve", json=submission(status="draft"))
    item_id = r.json()["id"]
    assert r.json()["status"] == "draft"
    library.user("carla-curator", curator=True)
    queue = library.call("GET", "/api/items", as_user="carla-curator", params={"status": "submitted", "limit": 100})
    assert item_id not in [i["id"] for i in queue.json()["items"]]
    r = library.call("PATCH", f"/api/items/{item_id}", as_user="eve", json={"status": "submitted"})
    assert r.json()["status"] == "submitted"
    r = library.call("PATCH", f"/api/items/{item_id}", as_user="eve", json={"status": "published"})
    assert r.status_code == 422 and r.json()["errors"][0]["path"] == "status"


def test_the_service_assigns_unique_ids(library):
    first = library.call("POST", "/api/items", as_user="ana", json=submission(title="Nowcasting GDP")).json()
    second = library.call("POST", "/api/items", as_user="ana", json=submission(title="Nowcasting GDP")).json()
    assert first["id"] != second["id"]
    assert first["id"].startswith("nowcasting-gdp") and second["id"].startswith("nowcasting-gdp")


def test_bad_submissions_name_each_field(library):
    bad = submission(colour="red", gsbpm=["9.9"], links=[{"url": "ftp://x"}])
    r = library.call("POST", "/api/items", as_user="ana", json=bad)
    assert r.status_code == 422
    paths = {e["path"] for e in r.json()["errors"]}
    assert {"colour", "gsbpm[0]", "links[0].url"} <= paths
    r = library.call("POST", "/api/items", as_user="ana", json=submission(id="my-own-id"))
    assert r.status_code == 422 and r.json()["errors"][0]["path"] == "id"
    r = library.call("POST", "/api/items", as_user="ana", json={"type": "dataset", "title": "x", "summary": "y"})
    assert r.status_code == 422 and "dataset" in {e["path"] for e in r.json()["errors"]}
    r = library.call(
        "POST", "/api/items", as_user="ana", data=b"{not json", headers={"Content-Type": "application/json"}
    )
    assert r.status_code == 400
    r = library.call("POST", "/api/items", as_user="ana", json=["a list"])
    assert r.status_code == 422
    huge = submission(summary="x" * (20 * 1024 * 1024))
    r = library.call("POST", "/api/items", as_user="ana", json=huge)
    assert r.status_code == 413


def test_a_notebook_submitted_from_home_is_kept_and_served(library):
    item = {"type": "notebook", "title": f"Raking weights {unique('nb')}", "summary": "Calibrating survey weights."}
    r = library.call("POST", "/api/items", as_user="ana", json={**item, "notebook_content": NOTEBOOK})
    assert r.status_code == 201, r.text
    created = r.json()
    assert created["notebook"]["attached"].endswith(".ipynb")
    r = library.call("GET", created["notebook_url"].removeprefix("/services/library"), as_user="ana")
    assert r.status_code == 200
    assert r.headers["Content-Type"].startswith("application/x-ipynb+json")
    assert json.loads(r.content) == NOTEBOOK
    # Not visible to others before it is published.
    assert library.call("GET", f"/api/items/{created['id']}/notebook", as_user="bob").status_code == 404

    r = library.call("POST", "/api/items", as_user="ana", json={**submission(), "notebook_content": NOTEBOOK})
    assert r.status_code == 422 and r.json()["errors"][0]["path"] == "notebook_content"
    r = library.call("POST", "/api/items", as_user="ana", json={**item, "notebook_content": {"cells": "no"}})
    assert r.status_code == 422
    big = {**NOTEBOOK, "cells": [{**NOTEBOOK["cells"][0], "source": "x" * (6 * 1024 * 1024)}]}
    r = library.call("POST", "/api/items", as_user="ana", json={**item, "notebook_content": big})
    assert r.status_code == 413


def test_a_video_file_is_uploaded_by_its_submitter_and_played_with_range_requests(library):
    # Three chunks and a bit, so that ranges cross the storage's chunk boundaries.
    video = bytes(range(256)) * (4096 * 3 + 17)
    library.user("carla-curator", curator=True)
    item = {
        "type": "video",
        "title": f"Webinar on nowcasting {unique('video')}",
        "summary": "A recorded webinar.",
        "video": {"file": "webinar.webm", "duration_seconds": 60},
    }
    r = library.call("POST", "/api/items", as_user="ana", json={**item, "status": "draft"})
    assert r.status_code == 201, r.text
    item_id = r.json()["id"]
    path = f"/api/items/{item_id}/video"
    r = library.call("GET", path, as_user="ana")
    assert r.status_code == 404 and "has not been uploaded" in r.json()["message"]

    r = library.call("PUT", path, as_user="ana", data=video, headers={"Content-Type": "video/mp4"})
    assert r.status_code == 415 and "video/webm" in r.json()["message"]
    r = library.call("PUT", path, as_user="bob", data=video, headers={"Content-Type": "video/webm"})
    assert r.status_code == 404  # a draft of someone else's is not even visible
    r = library.call("PUT", path, as_user="ana", data=video, headers={"Content-Type": "video/webm"})
    assert r.status_code == 200, r.text
    assert r.json()["size"] == len(video)
    uploaded = library.call("GET", f"/api/items/{item_id}", as_user="ana").json()
    assert uploaded["video_file_url"].endswith(path) and uploaded["revision"] == 2

    r = library.call("GET", path, as_user="ana")
    assert r.status_code == 200 and r.content == video
    assert r.headers["Content-Type"] == "video/webm" and r.headers["Accept-Ranges"] == "bytes"
    size = len(video)
    for header, first, last in [
        ("bytes=0-99", 0, 99),
        (f"bytes={1024 * 1024 - 10}-{1024 * 1024 + 9}", 1024 * 1024 - 10, 1024 * 1024 + 9),
        (f"bytes={size - 5}-", size - 5, size - 1),
        ("bytes=-7", size - 7, size - 1),
        (f"bytes=10-{size + 999}", 10, size - 1),
    ]:
        r = library.call("GET", path, as_user="ana", headers={"Range": header})
        assert r.status_code == 206, (header, r.text[:200])
        assert r.headers["Content-Range"] == f"bytes {first}-{last}/{size}"
        assert r.content == video[first : last + 1], header
    r = library.call("GET", path, as_user="ana", headers={"Range": f"bytes={size}-"})
    assert r.status_code == 416 and r.headers["Content-Range"] == f"bytes */{size}"

    # Submitted and published: everyone plays it; the page has a player.
    assert library.call("PATCH", f"/api/items/{item_id}", as_user="ana", json={"status": "submitted"}).ok
    seen = read(library, item_id)
    assert seen["revision"] == 2
    r = library.call(
        "POST", f"/api/items/{item_id}/review", as_user="carla-curator", json={"decision": "publish", "revision": 2}
    )
    assert r.status_code == 200, r.text
    r = library.call("GET", path, as_user="bob", headers={"Range": "bytes=0-3"})
    assert r.status_code == 206 and r.content == video[:4]
    page = library.call("GET", f"/items/{item_id}", as_user="bob")
    assert f'<video class="player" controls preload="metadata" src="/services/library{path}">' in page.text


def test_a_video_item_naming_a_file_cannot_be_published_before_the_upload(library):
    library.user("carla-curator", curator=True)
    item = {"type": "video", "title": f"Talk {unique('video')}", "summary": "A talk.", "video": {"file": "talk.mp4"}}
    item_id = library.call("POST", "/api/items", as_user="ana", json=item).json()["id"]
    r = library.call(
        "POST", f"/api/items/{item_id}/review", as_user="carla-curator", json={"decision": "publish", "revision": 1}
    )
    assert r.status_code == 409 and "has not been uploaded" in r.json()["message"]
    r = library.call("POST", "/api/items", as_user="ana", json={**item, "video": {"provider": "x"}})
    assert r.status_code == 422 and any(e["path"] == "video.url" for e in r.json()["errors"])


def test_only_the_runner_records_last_runs(library):
    notebook = (
        next(i for i in CURATED if i["type"] == "notebook") if any(i["type"] == "notebook" for i in CURATED) else None
    )
    if notebook is None:
        item = {"type": "notebook", "title": unique("Run me "), "summary": "A notebook.", "notebook_content": NOTEBOOK}
        notebook = library.call("POST", "/api/items", as_user="ana", json=item).json()
    run = {"status": "failed", "finished": "2026-11-25T10:00:00Z", "error": "cell 3: KeyError"}
    path = f"/api/items/{notebook['id']}/last-run"
    assert library.call("PUT", path, as_user="ana", json=run).status_code == 403
    ops = {"Authorization": f"token {library.hub.ops_token}"}
    r = library.call("PUT", path, headers=ops, json=run)
    assert r.status_code == 200, r.text
    assert r.json()["last_run"] == run
    assert library.call("PUT", path, headers=ops, json={"status": "fine"}).status_code == 422
    # A record that arrives late, of a run that ended earlier, does not hide the later run.
    late = {"status": "succeeded", "finished": "2026-11-25T09:59:59+00:00", "run": "1"}
    r = library.call("PUT", path, headers=ops, json=late)
    assert r.status_code == 200 and r.json()["last_run"] == run
    later = {"status": "succeeded", "finished": "2026-11-25T10:00:01Z", "run": "3"}
    assert library.call("PUT", path, headers=ops, json=later).json()["last_run"] == later
    assert library.call("GET", f"/api/items/{notebook['id']}", as_user="bob").json()["last_run"] == later


def test_curated_items_are_changed_in_their_files(library):
    item = CURATED[0]
    library.user("carla-curator", curator=True)
    r = library.call("PATCH", f"/api/items/{item['id']}", as_user="carla-curator", json={"title": "New"})
    assert r.status_code == 409
    assert f"library/{item['id']}.yaml" in r.json()["message"]


def test_the_user_endpoint_says_what_the_caller_may_do(library):
    assert library.call("GET", "/api/user", as_user="bob").json() == {
        "name": "bob",
        "kind": "user",
        "can_submit": True,
        "curator": False,
        "admin": False,
    }
    library.user("carla-curator", curator=True)
    assert library.call("GET", "/api/user", as_user="carla-curator").json()["curator"] is True


def test_the_catalogue_as_dcat_ap(library):
    import rdflib

    turtle = library.call("GET", "/api/dcat.ttl", as_user="reader")
    assert turtle.status_code == 200 and turtle.headers["Content-Type"].startswith("text/turtle")
    graph = rdflib.Graph().parse(data=turtle.text, format="turtle")
    dcat = rdflib.Namespace("http://www.w3.org/ns/dcat#")
    datasets = set(graph.subjects(rdflib.RDF.type, dcat.Dataset))
    item_uri = f"{library.url}/items/{CURATED[0]['id']}"
    assert rdflib.URIRef(item_uri) in datasets
    assert len(datasets) >= len(CURATED)
    jsonld = library.call("GET", "/api/dcat.jsonld", as_user="reader")
    assert jsonld.headers["Content-Type"].startswith("application/ld+json")
    assert len(rdflib.Graph().parse(data=jsonld.text, format="json-ld")) == len(graph)
    assert library.call("GET", "/api/dcat.ttl").status_code == 401


def test_a_restart_loads_the_folder_again_without_duplicates_and_keeps_submissions(library):
    before = library.call("GET", "/api/items", as_user="reader", params={"limit": 1}).json()["total"]
    kept = library.call("POST", "/api/items", as_user="ana", json=submission(status="draft")).json()
    library.hub.stop()
    library.hub.start()
    wait_for(lambda: library.call("GET", "/api/openapi.json").status_code == 200, 60, what="the library service")
    after = library.call("GET", "/api/items", as_user="reader", params={"limit": 1}).json()["total"]
    assert after == before
    assert library.call("GET", f"/api/items/{kept['id']}", as_user="ana").json()["status"] == "draft"
    loads = [line for line in library.hub.log().splitlines() if "loaded" in line and "added" in line]
    assert len(loads) == 2 and ": 0 added, 0 updated" in loads[-1], loads
