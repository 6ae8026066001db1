"""The library's web pages in a real browser: search, a facet, an item, stars and a comment, hostile text."""

from __future__ import annotations

import re

import pytest
import requests
from playwright.sync_api import expect

from ...chromium import log_in
from ...hubtools import wait_for

pytestmark = [pytest.mark.browser, pytest.mark.hub]

HOSTILE_TITLE = "Tricky </script><script>alert(1)</script> title"
HOSTILE_SUMMARY = '<img src=x onerror=alert(1)> <a data-commandlinker-command="x">run</a> [click](javascript:alert(1))'


def hostile_item(hub, library: str) -> str:
    """An item with markup in its title and summary, submitted by a user and published by the operator."""
    hub.api("POST", "/users/mallory").raise_for_status()
    r = hub.api("POST", "/users/mallory/tokens", json={"note": "library browser test", "expires_in": 3600})
    r.raise_for_status()
    item = {"type": "publication", "title": HOSTILE_TITLE, "summary": HOSTILE_SUMMARY, "keywords": ["</script>"]}
    r = requests.post(
        f"{library}/api/items", json=item, headers={"Authorization": f"token {r.json()['token']}"}, timeout=30
    )
    assert r.status_code == 201, r.text
    item_id, revision = r.json()["id"], r.json()["revision"]
    # The operator's token is in the library's admin role.
    r = requests.post(
        f"{library}/api/items/{item_id}/review",
        json={"decision": "publish", "revision": revision},
        headers={"Authorization": f"token {hub.ops_token}"},
        timeout=30,
    )
    assert r.status_code == 200, r.text
    return item_id


def open_library_page(page, url: str) -> None:
    """Go to a library page; the first time, the hub may ask to authorize the library to identify the user."""
    page.goto(url)
    if "/hub/api/oauth2/authorize" in page.url:
        page.get_by_role("button", name="Authorize").click()
        page.wait_for_url(re.compile(r"/services/library/"))


def test_search_facet_item_rating_comment_and_hostile_text(make_bare_hub, page, artifacts):
    hub = make_bare_hub()
    library = f"{hub.url}/services/library"
    wait_for(lambda: requests.get(f"{library}/api/openapi.json", timeout=5).status_code == 200, 60, what="the library")
    hostile_id = hostile_item(hub, library)
    dialogs: list[str] = []
    problems: list[str] = []

    def on_dialog(dialog) -> None:
        dialogs.append(dialog.message)
        dialog.dismiss()

    page.on("dialog", on_dialog)
    page.on("pageerror", lambda error: problems.append(str(error)))
    page.on("console", lambda message: problems.append(message.text) if message.type == "error" else None)

    log_in(page, hub, hub.admin_password)
    open_library_page(page, f"{library}/")
    expect(page.get_by_role("heading", name="Library", level=1)).to_be_visible()
    expect(page.get_by_role("link", name="Hub home")).to_have_attribute("href", "/hub/home")

    # Search, then narrow to a GSBPM phase with its facet link.
    page.get_by_label("Search words").fill("record linkage")
    page.get_by_role("button", name="Search").click()
    expect(page.locator("#results-heading")).to_contain_text("for “record linkage”")
    expect(page.locator(".hit mark").first).to_be_visible()
    page.locator(".facets").get_by_role("link", name="5 Process").click()
    expect(page.locator(".active-filters")).to_contain_text("GSBPM phase: 5 Process")
    page.screenshot(path=str(artifacts / "library-search.png"), full_page=True)

    # Open the first result, rate it with the stars and comment on it.
    first = page.locator(".hit-title a").first
    title = first.inner_text()
    first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text(title)
    page.locator("label[for=star-4]").click()
    page.get_by_role("button", name="Save my rating").click()
    expect(page.locator("#rating-summary")).to_have_text("4 out of 5 from 1 rating")
    expect(page.locator("#rating-form .form-status")).to_have_text("Saved: you gave 4 stars.")
    page.get_by_label("Add a comment").fill("Worked well on our **business register**.")
    page.get_by_role("button", name="Post comment").click()
    expect(page.locator("#comment-list .comment-body strong")).to_have_text("business register")
    expect(page.locator("#comment-form .form-status")).to_have_text("Your comment is posted.")
    # Both were saved, not only shown.
    page.reload()
    expect(page.locator("#rating-summary")).to_have_text("4 out of 5 from 1 rating")
    expect(page.locator("#star-4")).to_be_checked()
    expect(page.locator("#comment-list .comment")).to_have_count(1)
    expect(page.locator("#comment-list .comment")).to_contain_text("admin")
    page.screenshot(path=str(artifacts / "library-item.png"), full_page=True)

    # Markup in an item's text is shown as text: no image, no command link, no dialog.
    page.goto(f"{library}/items/{hostile_id}")
    expect(page.get_by_role("heading", level=1)).to_have_text(HOSTILE_TITLE)
    expect(page.locator(".summary")).to_contain_text("<img src=x onerror=alert(1)>")
    expect(page.locator(".summary img")).to_have_count(0)
    expect(page.locator("img")).to_have_count(0)
    expect(page.locator("[data-commandlinker-command]")).to_have_count(0)
    expect(page.locator(".summary a")).to_have_count(0)
    page.screenshot(path=str(artifacts / "library-hostile.png"), full_page=True)
    page.goto(f"{library}/?q=tricky")
    expect(page.locator(".hit-title a", has_text="</script>")).to_have_count(1)
    page.wait_for_timeout(300)
    assert dialogs == []
    # The pages keep to their Content-Security-Policy: no inline script or style was needed.
    assert [p for p in problems if "Content Security Policy" in p or "Refused" in p] == []
