"""The Library panel in JupyterLab, in a real chromium, against a real hub and the real lab image.

Search, open the Splink tutorial in the workspace; submit a notebook and publish it from a
curator's review queue; hostile Markdown in a summary stays inert. Then the server extension's
proxy, called like the panel calls it (under ``/user/<name>/statcommons/``, as the user): only
allowlisted calls, the server's own token, the services' errors as they are, video ranges.
One hub and the people's servers are shared by the whole module.
"""

from __future__ import annotations

import functools
import json
import re
import subprocess
import threading
import time
from http.server import CGIHTTPRequestHandler, ThreadingHTTPServer

import pytest
import requests
from playwright.sync_api import expect

from ..hubtools import FROM_CONTAINERS

pytestmark = [pytest.mark.browser, pytest.mark.containers]

SPLINK = "tutorial-record-linkage-splink"
GIT_HTTP_BACKEND = "/usr/lib/git-core/git-http-backend"
TUTORIAL = "tutorials/record-linkage/record-linkage-splink.ipynb"
# Markup a summary must not turn into: an image running script, a link running a lab command.
HOSTILE = (
    '<img src=x onerror="alert(1)"> '
    '<a data-commandlinker-command="help:about" href="#">about</a> '
    "[click](javascript:alert(2))"
)


def open_library(page):
    """The Library tab of the left sidebar, with its search box."""
    panel = page.locator("#statcommons-library")
    if not panel.is_visible():  # the lab may have restored it open; a click would close it
        page.locator('.jp-SideBar [data-id="statcommons-library"]').click()
    expect(panel.get_by_label("Search the library")).to_be_visible()
    return panel


# Records what took the focus away from an element (and where from), should typing go astray.
TRACK_FOCUS = """() => {
  window.__focusLost = [];
  document.addEventListener('focusout', e => window.__focusLost.push({
    from: String(e.target.className || e.target.tagName),
    to: e.relatedTarget ? String(e.relatedTarget.className || e.relatedTarget.tagName) : null,
    stack: new Error().stack.slice(0, 500)
  }), true);
}"""


def search(panel, words: str):
    """Type ``words`` in the panel's search box; the results once the panel shows them for these words."""
    box = panel.get_by_label("Search the library")
    page = panel.page
    page.evaluate(TRACK_FOCUS)
    box.click()
    box.fill("")
    box.press_sequentially(words, delay=20)
    assert box.input_value() == words, f"the search box lost the focus: {page.evaluate('window.__focusLost')}"
    expect(panel).to_have_attribute("data-rendered-query", words)
    expect(panel).to_have_attribute("data-state", "results")
    return panel.locator(".sc-results").first


def watch(page) -> list[str]:
    """Browser dialogs (alert, confirm) the page opens: dismissed and recorded."""
    dialogs: list[str] = []

    def on_dialog(dialog) -> None:
        dialogs.append(dialog.message)
        dialog.dismiss()

    page.on("dialog", on_dialog)
    return dialogs


def test_search_and_open_the_splink_tutorial_in_my_workspace(lab_hub, artifacts):
    out = artifacts / "extension"
    out.mkdir(exist_ok=True)
    ana = lab_hub.user("ana")
    page = lab_hub.lab(ana)
    dialogs = watch(page)
    panel = open_library(page)

    results = search(panel, "record linkage")
    expect(results.locator('.sc-result[data-id="splink"]')).to_contain_text("Ministry of Justice (UK)")
    expect(panel.locator('.sc-facet[data-facet="type"]')).to_contain_text("algorithm")
    page.screenshot(path=str(out / "panel-search.png"))

    # The tutorial is among the results; the keyboard goes from the search box to it.
    result = results.locator(f'.sc-result[data-id="{SPLINK}"]')
    expect(result).to_contain_text("GSBPM 5.1")
    expect(result).to_contain_text("never run")
    box = panel.get_by_label("Search the library")
    box.press("ArrowDown")
    first = results.locator(".sc-result").first
    expect(first).to_be_focused()
    for _ in range(results.locator(".sc-result").count()):
        if page.evaluate("document.activeElement.dataset.id") == SPLINK:
            break
        page.keyboard.press("ArrowDown")
    expect(result).to_be_focused()
    page.keyboard.press("Enter")
    view = page.locator(f"#statcommons-item-{SPLINK}")
    expect(view.get_by_role("heading", level=1)).to_contain_text("Splink")
    expect(view.locator(".sc-summary")).to_contain_text("Fellegi-Sunter")
    page.screenshot(path=str(out / "item-view.png"))

    # Stars (one rating per person) and a Markdown comment, shown sanitised.
    view.get_by_role("button", name="Rate 4 stars").click()
    expect(view.locator(".sc-rate .sc-rating")).to_have_text("4.0 ★ (1)")
    view.get_by_role("button", name="Rate 5 stars").click()
    expect(view.locator(".sc-rate .sc-rating")).to_have_text("5.0 ★ (1)")
    view.get_by_label("Your comment (Markdown)").fill('**Clear** tutorial <img src=x onerror="alert(3)">')
    view.get_by_role("button", name="Comment").click()
    comment = view.locator(".sc-comment").last
    expect(comment.locator("strong")).to_have_text("Clear")
    expect(comment).to_contain_text("ana,")
    assert comment.locator("img[onerror]").count() == 0

    view.get_by_role("button", name="Open in my workspace").click()
    expect(view.locator(".sc-message")).to_contain_text(f"Copied to ~/{TUTORIAL} and opened.")
    notebook = page.locator(".jp-NotebookPanel:visible")
    expect(page.locator(".lm-TabBar-tab.lm-mod-current", has_text="record-linkage-splink.ipynb")).to_be_visible()
    expect(notebook.locator(".jp-Cell").nth(3)).to_be_visible(timeout=60_000)
    expect(notebook.locator(".jp-MarkdownCell").first).to_contain_text("Splink")
    page.screenshot(path=str(out / "tutorial-open.png"))

    # The copy is the user's: edited, then opened again from the library, it is left as it is.
    copy = ana.contents("GET", TUTORIAL, params={"content": "1"}).json()
    assert copy["writable"] is True
    edited = copy["content"]
    edited["cells"][0]["source"] = "# My own notes"
    r = ana.contents("PUT", TUTORIAL, json={"type": "notebook", "format": "json", "content": edited})
    assert r.status_code == 200, r.text
    page.locator(".lm-TabBar-tab", has_text=re.compile("Tutorial|Splink|linking", re.I)).first.click()
    view.get_by_role("button", name="Open in my workspace").click()
    expect(view.locator(".sc-message")).to_contain_text("it was there already and is left as it was")
    # JupyterLab may be saving the reopened notebook at that moment: read it once it answers.
    again = None
    for _ in range(30):
        r = ana.contents("GET", TUTORIAL, params={"content": "1"})
        if r.status_code == 200:
            again = r.json()
            break
        time.sleep(0.5)
    assert again is not None, f"{TUTORIAL} could not be read back: {r.status_code} {r.text[:300]}"
    assert "".join(again["content"]["cells"][0]["source"]) == "# My own notes"
    assert dialogs == []


def hostile_notebook() -> dict:
    cells = [
        {"cell_type": "markdown", "metadata": {}, "source": f"# Hostile summary test\n\n{HOSTILE}"},
        {"cell_type": "code", "metadata": {}, "source": "print('hello')", "outputs": [], "execution_count": None},
    ]
    for i, cell in enumerate(cells):
        cell["id"] = f"c{i}"
    kernel = {"name": "python3", "display_name": "Python 3", "language": "python"}
    return {"nbformat": 4, "nbformat_minor": 5, "metadata": {"kernelspec": kernel}, "cells": cells}


def test_submit_a_notebook_and_a_curator_publishes_it_with_hostile_text_inert(lab_hub, artifacts):
    out = artifacts / "extension"
    out.mkdir(exist_ok=True)
    ana = lab_hub.user("ana")
    r = ana.contents("PUT", "work", json={"type": "directory"})
    assert r.status_code in (200, 201), r.text
    notebook = {"type": "notebook", "format": "json", "content": hostile_notebook()}
    r = ana.contents("PUT", "work/hostile.ipynb", json=notebook)
    assert r.status_code in (200, 201), r.text

    page = lab_hub.lab(ana, "lab/tree/work/hostile.ipynb?reset")
    dialogs = watch(page)
    notebook = page.locator(".jp-NotebookPanel", has=page.locator(".jp-MarkdownCell", has_text="Hostile summary test"))
    notebook.locator(".jp-Toolbar .sc-submit-button").click()
    form = page.locator(".sc-SubmitForm:visible")
    expect(form.get_by_label("Title")).to_have_value("Hostile summary test")
    # The schema of the service checks the form before anything is sent.
    form.get_by_label("Languages").fill("english")
    form.get_by_role("button", name="Submit for review").click()
    expect(form.locator('[data-field="languages"] .sc-field-error')).to_contain_text("ISO 639-1")
    form.get_by_label("Languages").fill("en")
    form.get_by_label("Topics").fill("record-linkage")
    form.get_by_role("button", name="Submit for review").click()
    expect(form.locator(".sc-message")).to_contain_text("waits for a curator")
    page.screenshot(path=str(out / "submitted.png"))
    item_id = re.search(r"\(([a-z0-9-]+)\) waits", form.locator(".sc-message").inner_text()).group(1)

    panel = open_library(page)
    panel.get_by_role("tab", name="My submissions").click()
    mine = panel.locator(f'.sc-result[data-id="{item_id}"]')
    expect(mine).to_contain_text("submitted")
    expect(panel.get_by_role("tab", name="Review queue")).to_be_hidden()

    # A curator's server has the review scope: the review queue shows, with the submission.
    curator = lab_hub.user("cora", curator=True)
    review_page = lab_hub.lab(curator)
    curator_dialogs = watch(review_page)
    panel = open_library(review_page)
    panel.get_by_role("tab", name="Review queue").click()
    queued = panel.locator(f'.sc-result[data-id="{item_id}"]')
    expect(queued).to_be_visible()
    queued.locator(".sc-result-title").click()
    view = review_page.locator(f"#statcommons-item-{item_id}")
    summary = view.locator(".sc-summary")
    expect(summary).to_contain_text("about")
    # The markup is inert: no image with a handler, no command link, no script URL.
    assert summary.locator("img[onerror]").count() == 0
    assert review_page.locator("[data-commandlinker-command='help:about']").count() == 0
    assert summary.locator("a[href^='javascript']").count() == 0
    summary.get_by_text("about").click()
    summary.get_by_text("click").click()
    review_page.screenshot(path=str(out / "hostile-summary.png"))
    expect(review_page.locator(".jp-Dialog")).to_have_count(0)
    assert curator_dialogs == []

    view.get_by_role("button", name="Publish").click()
    review_page.locator(".jp-Dialog").get_by_role("button", name="Publish").click()
    expect(view.locator(".sc-badge")).to_have_count(0)  # published items carry no status badge
    panel.get_by_role("tab", name="Review queue").click()
    expect(panel.locator(f'.sc-result[data-id="{item_id}"]')).to_have_count(0)
    review_page.screenshot(path=str(out / "review-queue.png"))

    # The submitter sees it published.
    panel = page.locator("#statcommons-library")
    panel.get_by_role("tab", name="Search").click()
    panel.get_by_role("tab", name="My submissions").click()
    mine = panel.locator(f'.sc-result[data-id="{item_id}"]')
    expect(mine).to_be_visible()
    expect(mine.locator(".sc-badge")).to_have_count(0)  # no draft/submitted/rejected badge: published
    assert dialogs == []


def call(user, method: str, path: str, **kwargs) -> requests.Response:
    headers = {"Authorization": f"token {user.token}", **kwargs.pop("headers", {})}
    return requests.request(method, user.server_url(f"statcommons/{path}"), headers=headers, timeout=30, **kwargs)


def test_the_proxy_forwards_the_allowlist_and_passes_errors_on(lab_hub):
    ana = lab_hub.user("ana")
    # The server reaches the services at the addresses the hub gives it (not the fallback through the proxy).
    container = next(c for c in lab_hub.hub.containers() if c.name.endswith("-ana"))
    env = dict(item.split("=", 1) for item in container.attrs["Config"]["Env"])
    assert env["STATCOMMONS_LIBRARY_URL"] == f"http://{FROM_CONTAINERS}:{lab_hub.hub.port}/services/library/"
    assert env["STATCOMMONS_RUNNER_URL"] == f"http://{FROM_CONTAINERS}:{lab_hub.hub.port}/services/runner/"
    r = call(ana, "GET", "library/api/items", params={"q": "splink", "limit": "5"})
    assert r.status_code == 200, r.text
    assert "tutorial-record-linkage-splink" in [item["id"] for item in r.json()["items"]]
    assert call(ana, "GET", "library/api/user").json()["name"] == "ana"  # the server's token is ana's

    refused = call(ana, "GET", "library/api/dcat.ttl")
    assert refused.status_code == 404
    assert refused.json()["message"] == "'api/dcat.ttl' is not a path of the library service that this server forwards"
    wrong_method = call(ana, "DELETE", "library/api/items/tutorial-record-linkage-splink")
    assert wrong_method.status_code == 405 and "DELETE is not allowed" in wrong_method.json()["message"]

    # The services' own errors come back with their status and message.
    missing = call(ana, "GET", "library/api/items/no-such-item")
    assert (missing.status_code, missing.json()["message"]) == (404, "no library item 'no-such-item'")
    bad = call(ana, "GET", "library/api/items", params={"colour": "red"})
    assert bad.status_code == 422 and bad.json()["message"] == "unknown parameter 'colour'"
    # ana is no curator: her server's token cannot review.
    decision = {"decision": "retire", "revision": 1, "reason": "Old"}
    review = call(ana, "POST", "library/api/items/tutorial-record-linkage-splink/review", json=decision)
    assert review.status_code == 403, review.text


def test_the_runner_through_the_proxy(lab_hub):
    ana = lab_hub.user("ana")
    runs = call(ana, "GET", "runner/api/runs")
    assert runs.status_code == 200, runs.text
    bad = call(ana, "POST", "runner/api/schedules", json={"path": "work/report.ipynb", "cron": "every day"})
    assert bad.status_code == 422 and bad.json()["errors"][0]["path"] == "cron"
    made = call(ana, "POST", "runner/api/schedules", json={"path": "work/report.ipynb", "cron": "0 6 * * 1"})
    assert made.status_code == 201, made.text
    schedule = made.json()
    assert schedule["user"] == "ana"
    assert call(ana, "DELETE", f"runner/api/schedules/{schedule['id']}").status_code == 204
    assert call(ana, "GET", f"runner/api/schedules/{schedule['id']}").status_code == 404


def test_video_ranges_pass_through(lab_hub):
    ana = lab_hub.user("ana")
    item = {"type": "video", "title": "Range test video", "summary": "Bytes.", "video": {"file": "clip.webm"}}
    made = call(ana, "POST", "library/api/items", json=item)
    assert made.status_code == 201, made.text
    item_id = made.json()["id"]
    video = bytes(range(256)) * 40
    # The upload is not something the panel does: straight to the library, as ana.
    r = requests.put(
        f"{lab_hub.hub.url}/services/library/api/items/{item_id}/video",
        data=video,
        headers={"Authorization": f"token {ana.token}", "Content-Type": "video/webm"},
        timeout=30,
    )
    assert r.status_code == 200, r.text
    part = call(ana, "GET", f"library/api/items/{item_id}/video", headers={"Range": "bytes=100-199"})
    assert part.status_code == 206, part.text
    assert part.headers["Content-Range"] == f"bytes 100-199/{len(video)}"
    assert part.headers["Content-Type"] == "video/webm"
    assert part.content == video[100:200]
    whole = call(ana, "GET", f"library/api/items/{item_id}/video")
    assert whole.status_code == 200 and whole.content == video
    beyond = call(ana, "GET", f"library/api/items/{item_id}/video", headers={"Range": f"bytes={len(video)}-"})
    assert beyond.status_code == 416


def test_an_attached_notebook_and_a_dataset_come_into_the_home_once(lab_hub):
    ana = lab_hub.user("ana")
    item = {
        "type": "notebook",
        "title": "Attached notebook test",
        "summary": "A notebook sent with its submission.",
        "status": "draft",
        "notebook_content": hostile_notebook(),
    }
    made = call(ana, "POST", "library/api/items", json=item)
    assert made.status_code == 201, made.text
    item_id = made.json()["id"]
    opened = call(ana, "POST", "workspace/open-notebook", json={"item": item_id})
    assert opened.status_code == 200, opened.text
    path = f"tutorials/{item_id}/{made.json()['notebook']['attached']}"
    assert opened.json() == {"path": path, "created": True, "how": "attached"}
    assert ana.contents("GET", path).json()["type"] == "notebook"
    again = call(ana, "POST", "workspace/open-notebook", json={"item": item_id})
    assert again.json()["created"] is False
    wrong = call(ana, "POST", "workspace/open-notebook", json={"item": "synthetic-persons"})
    assert wrong.status_code == 409 and "not a notebook" in wrong.json()["message"]
    unknown = call(ana, "POST", "workspace/open-notebook", json={"item": "no-such-item"})
    assert (unknown.status_code, unknown.json()["message"]) == (404, "no library item 'no-such-item'")

    # A project folder (as the start hook links them), then the dataset into it, once.
    assert ana.contents("PUT", "projects/census-2031", json={"type": "directory"}).status_code in (200, 201)
    assert call(ana, "GET", "workspace/projects").json() == {"projects": ["census-2031"]}
    added = call(ana, "POST", "workspace/add-dataset", json={"item": "synthetic-persons", "project": "census-2031"})
    assert added.status_code == 201, added.text
    assert added.json() == {"path": "projects/census-2031/datasets/synthetic-persons"}
    listing = ana.contents("GET", "projects/census-2031/datasets/synthetic-persons").json()
    assert "datapackage.json" in {entry["name"] for entry in listing["content"]}
    twice = call(ana, "POST", "workspace/add-dataset", json={"item": "synthetic-persons", "project": "census-2031"})
    assert twice.status_code == 409 and "left as it is" in twice.json()["message"]
    nowhere = call(ana, "POST", "workspace/add-dataset", json={"item": "synthetic-persons", "project": "nope"})
    assert nowhere.status_code == 404


def test_run_a_notebook_with_the_runner_and_see_it_in_my_runs(lab_hub, artifacts):
    ana = lab_hub.user("ana")
    assert ana.contents("PUT", "work", json={"type": "directory"}).status_code in (200, 201)
    notebook = {"type": "notebook", "format": "json", "content": hostile_notebook()}
    assert ana.contents("PUT", "work/hostile.ipynb", json=notebook).status_code in (200, 201)
    page = lab_hub.lab(ana, "lab/tree/work/hostile.ipynb?reset")
    expect(page.locator(".jp-NotebookPanel .jp-MarkdownCell").first).to_contain_text("Hostile summary test")

    page.get_by_role("menuitem", name="Run", exact=True).click()
    page.get_by_role("menuitem", name="Run this notebook with the runner…").click()
    dialog = page.locator(".jp-Dialog")
    dialog.get_by_label("Parameters (JSON, optional)").fill("[1, 2]")
    dialog.get_by_role("button", name="Run").click()
    expect(page.locator(".jp-toast-message, .Toastify__toast").first).to_contain_text("must be a JSON object")

    page.get_by_role("menuitem", name="Run", exact=True).click()
    page.get_by_role("menuitem", name="Run this notebook with the runner…").click()
    page.locator(".jp-Dialog").get_by_role("button", name="Run").click()
    expect(page.get_by_text(re.compile(r"Run \d+ of work/hostile.ipynb is (queued|running)"))).to_be_visible()

    page.get_by_role("menuitem", name="Run", exact=True).click()
    page.get_by_role("menuitem", name="My notebook runs").click()
    runs = page.locator(".sc-RunsView")
    row = runs.locator("tr[data-run]", has_text="work/hostile.ipynb").first
    expect(row.locator(".sc-run")).to_have_text("succeeded", timeout=120_000)
    link = row.get_by_role("link", name="Executed notebook")
    href = link.get_attribute("href")
    # Same origin, through ana's own server, and no token in the address.
    assert re.fullmatch(rf"{re.escape(lab_hub.hub.url)}/user/ana/statcommons/runner/api/runs/\d+/notebook", href), href
    executed = page.request.get(href)
    assert executed.status == 200
    outputs = [o for cell in executed.json()["cells"] for o in cell.get("outputs", [])]
    assert any("hello" in "".join(o.get("text", "")) for o in outputs)
    page.screenshot(path=str(artifacts / "extension" / "my-runs.png"))


class GitBackend(CGIHTTPRequestHandler):
    """Runs git's HTTP backend as a subprocess of the test (not forked and switched to nobody, as root would)."""

    have_fork = False

    def log_message(self, *args) -> None:
        pass


def served_repository(tmp_path, monkeypatch, name: str, notebook: dict) -> tuple[ThreadingHTTPServer, str]:
    """A git repository holding ``nb/intro.ipynb``, served on loopback by git's own smart HTTP backend (CGI).

    nbgitpuller clones shallow, which git's plain-files (dumb) HTTP protocol cannot serve.
    """
    work = tmp_path / "work"
    git = ["git", "-c", "user.name=Test", "-c", "user.email=test@example.org", "-c", "init.defaultBranch=main"]
    subprocess.run([*git, "init", "-q", str(work)], check=True)
    (work / "nb").mkdir()
    (work / "nb" / "intro.ipynb").write_text(json.dumps(notebook))
    subprocess.run([*git, "-C", str(work), "add", "."], check=True)
    subprocess.run([*git, "-C", str(work), "commit", "-q", "-m", "intro"], check=True)
    served = tmp_path / "served"
    subprocess.run([*git, "clone", "-q", "--bare", str(work), str(served / "repos" / name)], check=True)
    (served / "cgi-bin").mkdir()
    (served / "cgi-bin" / "git").symlink_to(GIT_HTTP_BACKEND)
    monkeypatch.setenv("GIT_PROJECT_ROOT", str(served / "repos"))  # read by the backend, which gets our environment
    monkeypatch.setenv("GIT_HTTP_EXPORT_ALL", "1")
    handler = functools.partial(GitBackend, directory=str(served))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    # Cloned from inside the user's container, which reaches this machine's loopback at its gateway.
    return server, f"http://{FROM_CONTAINERS}:{server.server_port}/cgi-bin/git/{name}"


def test_a_repository_notebook_is_pulled_with_nbgitpuller_keeping_edits(lab_hub, tmp_path, monkeypatch):
    ana = lab_hub.user("ana")
    server, repository = served_repository(tmp_path, monkeypatch, "course-notebooks.git", hostile_notebook())
    try:
        item = {
            "type": "notebook",
            "title": "Repository notebook test",
            "summary": "A notebook kept in git.",
            "notebook": {"repository": repository, "branch": "main", "path": "nb/intro.ipynb"},
        }
        made = call(ana, "POST", "library/api/items", json=item)
        assert made.status_code == 201, made.text
        item_id = made.json()["id"]
        # Links clone only from the origins of published notebooks: before publication, refused.
        refused = call(ana, "POST", "workspace/open-notebook", json={"item": item_id})
        assert refused.status_code == 403 and "servers.git_origins" in refused.json()["message"], refused.text
        curator = lab_hub.user("cora", curator=True)
        review = {"decision": "publish", "revision": made.json()["revision"]}
        assert call(curator, "POST", f"library/api/items/{item_id}/review", json=review).status_code == 200
        time.sleep(3.5)  # ana's server asks the library for its origins again after 3 s
        opened = call(ana, "POST", "workspace/open-notebook", json={"item": item_id})
        assert opened.status_code == 200, opened.text
        path = "course-notebooks.git/nb/intro.ipynb"  # where the library's nbgitpuller link puts it too
        assert opened.json() == {"path": path, "created": True, "how": "repository"}
        assert made.json()["nbgitpuller_url"].endswith("urlpath=lab%2Ftree%2Fcourse-notebooks.git%2Fnb%2Fintro.ipynb")

        copy = ana.contents("GET", path).json()["content"]
        copy["cells"][0]["source"] = "# My own notes"
        r = ana.contents("PUT", path, json={"type": "notebook", "format": "json", "content": copy})
        assert r.status_code == 200, r.text
        again = call(ana, "POST", "workspace/open-notebook", json={"item": item_id})
        assert again.status_code == 200 and again.json()["created"] is False
        kept = ana.contents("GET", path).json()["content"]
        assert "".join(kept["cells"][0]["source"]) == "# My own notes"
    finally:
        server.shutdown()


def test_a_curator_rejects_with_a_reason_the_submitter_reads(lab_hub):
    ana = lab_hub.user("ana")
    item = {"type": "publication", "title": "Rejection test paper", "summary": "Too short.", "status": "submitted"}
    made = call(ana, "POST", "library/api/items", json=item)
    assert made.status_code == 201, made.text
    item_id = made.json()["id"]

    curator = lab_hub.user("cora", curator=True)
    page = lab_hub.lab(curator)
    panel = open_library(page)
    panel.get_by_role("tab", name="Review queue").click()
    row = panel.locator(f'.sc-result[data-id="{item_id}"]')
    row.get_by_role("button", name="Reject").click()
    dialog = page.locator(".jp-Dialog")
    dialog.get_by_label("Reason for the submitter").fill("Please add a link to the paper.")
    dialog.get_by_role("button", name="Reject").click()
    expect(row).to_have_count(0)

    ana_page = lab_hub.lab(ana)
    panel = open_library(ana_page)
    panel.get_by_role("tab", name="My submissions").click()
    mine = panel.locator(f'.sc-result[data-id="{item_id}"]')
    expect(mine.locator(".sc-badge")).to_have_text("rejected")
    expect(mine.locator(".sc-reason")).to_have_text("Reason: Please add a link to the paper.")
