"""Approving sign-ups: only an admin's form POST with the page's XSRF token (or an API token) changes an account.

The attacks a page of another site can make on a logged-in admin, against a real hub: a GET of
``/hub/authorize/<name>`` or ``/hub/discard/<name>`` (a link, a redirect, an image), and a POST
without the XSRF token (an auto-submitted form). Neither changes anything; the page's buttons do.
"""

from __future__ import annotations

from html.parser import HTMLParser
from urllib.parse import quote

import pytest
import requests

from ..hubtools import Person

pytestmark = pytest.mark.hub

# No service is needed to approve accounts: the hub starts faster without them.
NO_SERVICES = {"library": {"enabled": False}, "runner": {"enabled": False}, "projects": {"enabled": False}}
NOT_AUTHORIZED = "has not been authorized by an administrator yet"
# JupyterHub's refusals of a POST without the session's XSRF token
XSRF_REFUSED = ("argument missing from POST", "XSRF cookie does not match POST argument")
# What a browser sends with a form that a page of another site submits.
CROSS_SITE = {"Origin": "http://127.0.0.2:9999", "Sec-Fetch-Site": "cross-site", "Sec-Fetch-Mode": "navigate"}


class AuthorizationPage(HTMLParser):
    """The rows (``data-approved``) and forms (action, method, fields) of ``/hub/authorize``."""

    def __init__(self, html: str):
        super().__init__()
        self.rows: dict[str, str] = {}
        self.forms: list[dict] = []
        self._row: str | None = None
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "tr" and "data-approved" in attrs:
            self._row = attrs["id"]
            self.rows[self._row] = attrs["data-approved"]
        elif tag == "form":
            form = {"row": self._row, "action": attrs.get("action"), "method": attrs.get("method"), "fields": {}}
            self.forms.append(form)
        elif tag == "input" and self.forms and attrs.get("name"):
            self.forms[-1]["fields"][attrs["name"]] = attrs.get("value", "")

    def form(self, name: str, action: str) -> dict:
        [form] = [f for f in self.forms if f["row"] == name and f["fields"].get("action") == action]
        return form


def hub_without_services(make_bare_hub):
    return make_bare_hub(extra_settings=NO_SERVICES)


def admin(hub) -> Person:
    person = Person(hub, "admin", hub.admin_password)
    person.log_in()
    assert person.logged_in
    return person


def signed_up(hub, name: str) -> Person:
    person = Person(hub, name)
    assert person.sign_up().status_code == 200
    return person


def page(admin: Person) -> AuthorizationPage:
    r = admin.http.get(f"{admin.hub.url}/hub/authorize", timeout=30)
    r.raise_for_status()
    return AuthorizationPage(r.text)


def can_log_in(person: Person) -> bool:
    """A fresh login through the form, in a new cookie jar."""
    fresh = Person(person.hub, person.name, person.password)
    fresh.log_in()
    return fresh.logged_in


def post(admin: Person, path: str, data: dict, headers: dict | None = None) -> requests.Response:
    return admin.http.post(f"{admin.hub.url}/hub{path}", data=data, headers=headers, allow_redirects=False, timeout=30)


def page_token(admin: Person) -> str:
    return page(admin).forms[0]["fields"]["_xsrf"]


def test_a_get_from_a_logged_in_admin_changes_nothing(make_bare_hub):
    hub = hub_without_services(make_bare_hub)
    boss = admin(hub)
    mallory = signed_up(hub, "mallory")
    ana = signed_up(hub, "ana")
    boss.approve("ana")

    # What a link, a redirect or an <img> on another site makes the admin's browser do.
    for url in ("/authorize/mallory", "/discard/mallory", "/authorize/ana", "/discard/ana"):
        r = boss.http.get(f"{hub.url}/hub{url}", headers={"Sec-Fetch-Site": "cross-site"}, timeout=30)
        assert r.status_code == 405, (url, r.status_code)
        assert r.headers["Allow"] == "POST"
        assert "the buttons of" in r.text and "/hub/authorize" in r.text
    # Even with every field of the form in the query string.
    token = page_token(boss)
    r = boss.http.get(f"{hub.url}/hub/authorize/mallory", params={"action": "authorize", "_xsrf": token}, timeout=30)
    assert r.status_code == 405
    r = boss.http.head(f"{hub.url}/hub/authorize/mallory", timeout=30)
    assert r.status_code == 405

    assert page(boss).rows == {"admin": "yes", "ana": "yes", "mallory": "no"}
    refused = mallory.log_in()
    assert not mallory.logged_in and NOT_AUTHORIZED in refused.text
    assert can_log_in(ana)


def test_a_post_without_the_pages_xsrf_token_is_refused(make_bare_hub):
    hub = hub_without_services(make_bare_hub)
    boss = admin(hub)
    mallory = signed_up(hub, "mallory")
    signed_up(hub, "trudy")
    ana = signed_up(hub, "ana")
    boss.approve("ana")
    # A token the attacker can get: the login page's, in a session of their own.
    stranger = requests.Session()
    stranger.get(f"{hub.url}/hub/login", timeout=30)
    foreign_token = stranger.cookies.get("_xsrf")
    assert foreign_token

    for token in (None, "", foreign_token, page_token(boss) + "x"):
        extra = {} if token is None else {"_xsrf": token}
        for path, data in (
            ("/authorize/mallory", {"action": "authorize"}),
            ("/authorize/ana", {"action": "unauthorize"}),
            ("/discard/trudy", {}),
        ):
            r = post(boss, path, {**data, **extra}, headers=CROSS_SITE)
            assert r.status_code == 403, (path, token, r.status_code)
            assert any(refusal in r.text for refusal in XSRF_REFUSED), (path, token)
    # The token in a header instead of the form is the same check: a wrong one is refused.
    r = post(boss, "/authorize/mallory", {"action": "authorize"}, headers={"X-XSRFToken": foreign_token})
    assert r.status_code == 403 and XSRF_REFUSED[1] in r.text

    # An approved user who is not an admin cannot approve, even with a valid token of their own.
    ana.log_in()
    ana.http.get(f"{hub.url}/hub/home", timeout=30)
    r = ana.http.post(
        f"{hub.url}/hub/authorize/mallory",
        data={"action": "authorize", "_xsrf": ana.http.cookies.get("_xsrf")},
        allow_redirects=False,
        timeout=30,
    )
    assert r.status_code == 403 and "admin:users" in r.text

    assert page(boss).rows == {"admin": "yes", "ana": "yes", "mallory": "no", "trudy": "no"}
    assert not can_log_in(mallory)
    assert can_log_in(ana)


def test_the_admin_approves_unapproves_and_discards_with_the_pages_buttons(make_bare_hub):
    hub = hub_without_services(make_bare_hub)
    boss = admin(hub)
    ana = signed_up(hub, "ana")
    trudy = signed_up(hub, "trudy")
    assert not can_log_in(ana)

    before = page(boss)
    assert before.rows == {"admin": "yes", "ana": "no", "trudy": "no"}
    approve = before.form("ana", "authorize")
    assert approve["method"] == "post" and approve["action"] == "/hub/authorize/ana"
    r = post(boss, "/authorize/ana", approve["fields"])
    assert r.status_code == 302 and r.headers["Location"] == "/hub/authorize#ana"
    assert page(boss).rows["ana"] == "yes"
    assert can_log_in(ana)
    # Replayed, the same form leaves the account approved: an explicit action, not a toggle.
    assert post(boss, "/authorize/ana", approve["fields"]).status_code == 302
    assert page(boss).rows["ana"] == "yes"

    unapprove = page(boss).form("ana", "unauthorize")
    for _ in range(2):
        assert post(boss, "/authorize/ana", unapprove["fields"]).status_code == 302
        assert page(boss).rows["ana"] == "no"
    assert not can_log_in(ana)

    # Only a waiting sign-up can be discarded; its name is free again afterwards.
    assert not [f for f in page(boss).forms if f["row"] == "admin" and "/discard/" in f["action"]]
    discard = page(boss).form("trudy", "discard")
    assert discard["action"] == "/hub/discard/trudy"
    assert post(boss, "/discard/trudy", discard["fields"]).status_code == 302
    assert "trudy" not in page(boss).rows
    assert not can_log_in(trudy)
    assert Person(hub, "trudy").sign_up().status_code == 200
    assert page(boss).rows["trudy"] == "no"

    token = page_token(boss)
    boss.approve("ana")
    r = post(boss, "/discard/ana", {"action": "discard", "_xsrf": token})
    assert r.status_code == 409 and "un-approve" in r.text
    # A missing or unknown action is refused, not guessed.
    assert post(boss, "/authorize/trudy", {"_xsrf": token}).status_code == 400
    assert post(boss, "/authorize/trudy", {"action": "toggle", "_xsrf": token}).status_code == 400
    assert post(boss, "/authorize/nobody", {"action": "authorize", "_xsrf": token}).status_code == 404
    assert post(boss, "/discard/nobody", {"action": "discard", "_xsrf": token}).status_code == 404
    assert page(boss).rows == {"admin": "yes", "ana": "yes", "trudy": "no"}


def test_scripts_approve_with_an_api_token(make_bare_hub):
    hub = hub_without_services(make_bare_hub)
    ana = signed_up(hub, "ana")
    signed_up(hub, "trudy")
    ops = {"Authorization": f"token {hub.ops_token}"}
    r = requests.post(
        f"{hub.url}/hub/authorize/ana", data={"action": "authorize"}, headers=ops, allow_redirects=False, timeout=30
    )
    assert r.status_code == 302
    assert can_log_in(ana)
    r = requests.post(f"{hub.url}/hub/discard/trudy", headers=ops, allow_redirects=False, timeout=30)
    assert r.status_code == 302
    assert page(admin(hub)).rows == {"admin": "yes", "ana": "yes"}
    # A token without admin:users cannot.
    r = hub.api("POST", "/users/ana/tokens", json={"note": "test", "expires_in": 600})
    token = r.json()["token"]
    r = requests.post(
        f"{hub.url}/hub/authorize/ana",
        data={"action": "unauthorize"},
        headers={"Authorization": f"token {token}"},
        allow_redirects=False,
        timeout=30,
    )
    assert r.status_code == 403
    assert can_log_in(ana)


def test_the_page_escapes_names_and_its_buttons_post_to_the_right_account(make_bare_hub):
    hub = hub_without_services(make_bare_hub)
    boss = admin(hub)
    name = "x\"'<b>&amp;#?%41;"
    hostile = signed_up(hub, name)
    html = boss.http.get(f"{hub.url}/hub/authorize", timeout=30).text
    assert "<b>" not in html and name not in html
    assert "x&#34;&#39;&lt;b&gt;&amp;amp;#?%41;" in html
    listed = AuthorizationPage(html)
    assert listed.rows[name] == "no"
    approve = listed.form(name, "authorize")
    assert approve["action"] == "/hub/authorize/" + quote(name, safe="")
    assert post(boss, approve["action"].removeprefix("/hub"), approve["fields"]).status_code == 302
    assert page(boss).rows[name] == "yes"
    assert can_log_in(hostile)
