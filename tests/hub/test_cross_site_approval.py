"""A page of another origin, opened by a logged-in admin in chromium, cannot approve or discard an account.

The attacker's pages are served on 127.0.0.2 (another site) and on another port of 127.0.0.1 (the
same site, so the browser sends the hub's cookies even with a POST). Each one sends the admin's
browser to the approval URLs: a navigation, an image, auto-submitted forms. Then the admin uses the
page's own buttons, which do work.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from playwright.sync_api import expect

from ..chromium import log_in
from ..hubtools import Person

pytestmark = [pytest.mark.browser, pytest.mark.hub]

NO_SERVICES = {"library": {"enabled": False}, "runner": {"enabled": False}, "projects": {"enabled": False}}


def attack_pages(hub_url: str) -> dict[str, tuple[str, str]]:
    """Attacker page -> (the hub URL it makes the browser request, the page's HTML)."""
    approve = f"{hub_url}/hub/authorize/mallory"
    discard = f"{hub_url}/hub/discard/trudy"

    def form(action: str, fields: str) -> str:
        submit = "setTimeout(() => document.getElementById('f').submit(), 50)"
        return f'<form id="f" method="post" action="{action}">{fields}</form><script>onload = () => {submit}</script>'

    def navigate(url: str) -> str:
        return f"<script>onload = () => setTimeout(() => location.assign('{url}'), 50)</script>"

    return {
        "/navigate-approve": (approve, navigate(approve)),
        "/navigate-discard": (discard, navigate(discard)),
        "/image-approve": (approve, f'<img src="{approve}" alt="">'),
        "/form-approve": (approve, form(approve, '<input type="hidden" name="action" value="authorize">')),
        "/form-old-style": (approve, form(approve, "")),
        "/form-discard": (discard, form(discard, '<input type="hidden" name="action" value="discard">')),
    }


@contextmanager
def attacker(host: str, pages: dict[str, tuple[str, str]]) -> Iterator[str]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            if self.path not in pages:
                self.send_error(404)
                return
            body = f"<!doctype html><title>Cute cats</title><h1>Cute cats</h1>{pages[self.path][1]}".encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer((host, 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://{host}:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def can_log_in(person: Person) -> bool:
    fresh = Person(person.hub, person.name, person.password)
    fresh.log_in()
    return fresh.logged_in


def test_a_page_of_another_origin_cannot_approve_or_discard(make_bare_hub, page, artifacts):
    hub = make_bare_hub(extra_settings=NO_SERVICES)
    mallory = Person(hub, "mallory")
    trudy = Person(hub, "trudy")
    for person in (mallory, trudy):
        assert person.sign_up().status_code == 200
    log_in(page, hub, hub.admin_password)
    pages = attack_pages(hub.url)

    for host in ("127.0.0.2", "127.0.0.1"):
        with attacker(host, pages) as origin:
            for path, (target, _) in pages.items():
                with page.expect_request(target) as sent:
                    page.goto(origin + path)
                request = sent.value
                if request.is_navigation_request():
                    expected = 405 if request.method == "GET" else 403
                    assert request.response().status == expected, (origin + path, request.method)
                    page.wait_for_url(target)
                # (an image gets no response event: the browser blocks its HTML answer from the page)
                page.wait_for_load_state()
                # Nothing changed: mallory still waits, trudy's sign-up is still there.
                assert not can_log_in(mallory), origin + path
                page.goto(f"{hub.url}/hub/authorize")
                expect(page.locator('tr[id="mallory"]')).to_have_attribute("data-approved", "no")
                expect(page.locator('tr[id="trudy"]')).to_have_count(1)

    # The admin's own buttons work.
    page.goto(f"{hub.url}/hub/authorize")
    page.screenshot(path=str(artifacts / "browser-authorize.png"), full_page=True)
    page.locator('tr[id="mallory"]').get_by_role("button", name="Authorize", exact=True).click()
    expect(page.locator('tr[id="mallory"]')).to_have_attribute("data-approved", "yes")
    assert can_log_in(mallory)
    page.locator('tr[id="trudy"]').get_by_role("button", name="Discard", exact=True).click()
    expect(page.locator('tr[id="trudy"]')).to_have_count(0)
    assert not can_log_in(trudy)
