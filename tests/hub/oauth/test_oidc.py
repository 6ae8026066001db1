"""Logging in to a real hub through an in-test OpenID Connect provider, like a browser does."""

import base64
import html
import json
import re
from urllib.parse import parse_qs, urlencode, urljoin, urlsplit

import pytest
import requests

from .provider import Provider, s256

pytestmark = pytest.mark.hub

PASSWORD = "correct horse battery"


@pytest.fixture
def provider():
    with Provider() as provider:
        provider.add_user("ana", PASSWORD, groups=["statisticians"])
        provider.add_user("boris", PASSWORD, groups=["hub-admins"])
        provider.add_user("eve", PASSWORD, groups=["marketing"])
        yield provider


@pytest.fixture
def hub(make_bare_hub, provider):
    oidc = provider.oidc_settings(allowed_groups=["statisticians"], admin_groups=["hub-admins"])
    hub = make_bare_hub(
        extra_settings={"auth": {"type": "oidc", "admin_users": ["it-admin"], "oidc": oidc}},
        env=provider.client_env(),
    )
    # The port is chosen when make_bare_hub creates the hub; no request reaches the provider before a login.
    provider.redirect_uri = f"{hub.url}/hub/oauth_callback"
    return hub


class Browser:
    """Someone going from the hub's login page to the provider's form and back."""

    def __init__(self, hub, provider):
        self.hub = hub
        self.provider = provider
        self.http = requests.Session()

    def open_provider_form(self) -> requests.Response:
        page = self.http.get(f"{self.hub.url}/hub/login?next=%2Fhub%2Fhome", timeout=30)
        button = re.search(r"href='([^']*oauth_login[^']*)'", page.text)
        assert button, f"no OAuth login button on {page.url}"
        return self.http.get(urljoin(page.url, html.unescape(button[1])), timeout=30)

    def submit(self, form: requests.Response, username: str, **kwargs) -> requests.Response:
        login_id = re.search(r"name='login_id' value='([^']*)'", form.text)[1]
        data = {"login_id": login_id, "username": username, "password": PASSWORD}
        return self.http.post(f"{self.provider.url}/login", data=data, timeout=30, **kwargs)

    def sign_in(self, username: str, **kwargs) -> requests.Response:
        return self.submit(self.open_provider_form(), username, **kwargs)

    def callback_url(self, username: str) -> str:
        """Sign in at the provider but keep its redirect back to the hub instead of following it."""
        redirect = self.sign_in(username, allow_redirects=False)
        assert redirect.status_code == 302, redirect.text
        return redirect.headers["Location"]

    @property
    def logged_in(self) -> bool:
        r = self.http.get(f"{self.hub.url}/hub/home", timeout=30, allow_redirects=False)
        return r.status_code == 200


def with_state(url: str, state: str) -> str:
    parts = urlsplit(url)
    query = {**{k: v[0] for k, v in parse_qs(parts.query).items()}, "state": state}
    return parts._replace(query=urlencode(query)).geturl()


def encoded(value) -> str:
    return base64.urlsafe_b64encode(json.dumps(value).encode()).decode()


def test_statistician_signs_in_with_code_flow_and_pkce(hub, provider):
    ana = Browser(hub, provider)
    form = ana.open_provider_form()
    assert form.status_code == 200 and form.url.startswith(f"{provider.url}/authorize?")
    [authorize] = provider.received("GET", "/authorize")
    assert authorize.params["client_id"] == provider.client_id
    assert authorize.params["redirect_uri"] == f"{hub.url}/hub/oauth_callback"
    assert authorize.params["scope"].split() == ["openid", "profile", "email"]
    assert authorize.params["code_challenge_method"] == "S256"

    landed = ana.submit(form, "ana")
    assert landed.status_code == 200 and landed.url == f"{hub.url}/hub/home"
    assert re.search(r">\s*ana\s*<", landed.text)
    assert ana.logged_in

    user = hub.api("GET", "/users/ana").json()
    assert user["groups"] == ["statisticians"] and user["admin"] is False
    assert hub.api("GET", "/groups/statisticians").json()["users"] == ["ana"]

    [grant] = provider.grants.values()
    assert grant.redeemed and grant.client_auth == "client_secret_post"
    assert s256(grant.code_verifier) == authorize.params["code_challenge"]
    [token_request] = provider.received("POST", "/token")
    assert token_request.params["client_secret"] == provider.client_secret
    [userinfo] = provider.received("GET", "/userinfo")
    assert userinfo.headers["authorization"] == f"Bearer {grant.tokens[0]}"
    assert provider.refusals == []


def test_member_of_admin_group_becomes_admin(hub, provider):
    boris = Browser(hub, provider)
    assert boris.sign_in("boris").status_code == 200
    user = hub.api("GET", "/users/boris").json()
    assert user["admin"] is True and user["groups"] == ["hub-admins"]
    assert boris.http.get(f"{hub.url}/hub/admin", timeout=30).status_code == 200


def test_user_outside_allowed_groups_is_refused(hub, provider):
    eve = Browser(hub, provider)
    refused = eve.sign_in("eve")
    assert refused.status_code == 403
    assert urlsplit(refused.url).path == "/hub/oauth_callback"
    # Refused by the hub's group check, after a complete and valid exchange with the provider.
    [grant] = provider.grants.values()
    assert grant.redeemed and provider.received("GET", "/userinfo") and provider.refusals == []

    assert not eve.logged_in
    home = eve.http.get(f"{hub.url}/hub/home", timeout=30, allow_redirects=False)
    assert home.status_code == 302 and urlsplit(home.headers["Location"]).path == "/hub/login"
    assert hub.api("GET", "/users/eve").status_code == 404
    assert "User 'eve' not allowed" in hub.log()


FORGED_STATES = {
    "another login's state": encoded({"state_id": "0" * 32}),
    "not base64": "%%%not-base64%%%",
    "empty": "",
}


def test_forged_callbacks_are_refused(hub, provider):
    for forgery, state in FORGED_STATES.items():
        ana = Browser(hub, provider)
        forged = ana.http.get(with_state(ana.callback_url("ana"), state), timeout=30)
        assert forged.status_code == 400, f"{forgery}: {forged.status_code} {forged.text[:300]}"
        assert not ana.logged_in, forgery

    # Login CSRF: someone else's valid callback opened in a browser that never started a login.
    attacker_callback = Browser(hub, provider).callback_url("eve")
    victim = Browser(hub, provider)
    forged = victim.http.get(attacker_callback, timeout=30)
    assert forged.status_code == 400 and not victim.logged_in

    assert provider.received("POST", "/token") == [], "the hub redeemed a code from a forged callback"
    assert hub.api("GET", "/users/ana").status_code == 404


def test_malformed_state_is_a_client_error(hub, provider):
    statuses = {}
    for forgery, state in {"JSON list": encoded([1]), "JSON null": encoded(None), "not ASCII": "été"}.items():
        ana = Browser(hub, provider)
        statuses[forgery] = ana.http.get(with_state(ana.callback_url("ana"), state), timeout=30).status_code
    assert provider.received("POST", "/token") == []
    assert statuses == dict.fromkeys(statuses, 400)


def test_no_secret_or_token_in_hub_log(hub, provider):
    assert Browser(hub, provider).sign_in("ana").status_code == 200
    assert Browser(hub, provider).sign_in("eve").status_code == 403
    log = hub.log()
    assert "User logged in: ana" in log and "User 'eve' not allowed" in log
    grants = list(provider.grants.values())
    assert len(grants) == 2 and all(g.tokens and g.id_tokens for g in grants)
    secrets = {"client secret": provider.client_secret, "ops token": hub.ops_token}
    for grant in grants:
        secrets[f"{grant.username}'s access token"] = grant.tokens[0]
        secrets[f"{grant.username}'s ID token"] = grant.id_tokens[0]
    assert [name for name, value in secrets.items() if value in log] == []


def test_refused_callbacks_keep_codes_out_of_log(hub, provider):
    assert Browser(hub, provider).sign_in("eve").status_code == 403
    ana = Browser(hub, provider)
    forged = ana.http.get(with_state(ana.callback_url("ana"), encoded({"state_id": "0" * 32})), timeout=30)
    assert forged.status_code == 400
    log = hub.log()
    assert [g.username for g in provider.grants.values() if g.code in log] == []


def test_provider_groups_never_take_a_projects_group_and_projects_stay(hub, provider):
    provider.add_user("gus", PASSWORD, groups=["statisticians", "project-census", "collaboration-accounts"])
    # gus is already in the project atlas (its member group, marked by the projects service).
    assert hub.api("POST", "/users/gus").status_code == 201
    assert hub.api("POST", "/groups/project-atlas", json={"users": ["gus"]}).status_code == 201
    marked = hub.api("PUT", "/groups/project-atlas/properties", json={"statcommons_project": "atlas"})
    assert marked.status_code == 200
    gus = Browser(hub, provider)
    assert gus.sign_in("gus").status_code == 200 and gus.logged_in
    user = hub.api("GET", "/users/gus").json()
    assert sorted(user["groups"]) == ["project-atlas", "statisticians"]
    assert hub.api("GET", "/groups/project-census").status_code == 404
    assert "Ignored the groups collaboration-accounts, project-census of 'gus'" in hub.log()
