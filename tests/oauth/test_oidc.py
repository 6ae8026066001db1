"""Logging in to a real hub through an in-test OpenID Connect provider, like a browser does."""

import base64
import html
import json
import re
from urllib.parse import parse_qs, urlencode, urljoin, urlsplit

import pytest
import requests

from .provider import Provider, s256

pytestmark = pytest.mark.containers

PASSWORD = "correct horse battery"


@pytest.fixture
def provider():
    with Provider() as provider:
        provider.add_user("ana", PASSWORD, groups=["statisticians"])
        provider.add_user("boris", PASSWORD, groups=["hub-admins"])
        provider.add_user("eve", PASSWORD, groups=["marketing"])
        yield provider


@pytest.fixture
def hub(make_hub, provider):
    oidc = provider.oidc_settings(allowed_groups=["statisticians"], admin_groups=["hub-admins"])
    hub = make_hub(
        extra_settings={"auth": {"type": "oidc", "admin_users": ["it-admin"], "oidc": oidc}},
        env=provider.client_env(),
    )
    # The hub's port is known only now; the hub does not talk to the provider before a login.
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

    def submit(self, form: requests.Response, username: str, password: str = PASSWORD, **kwargs):
        login_id = re.search(r"name='login_id' value='([^']*)'", form.text)[1]
        data = {"login_id": login_id, "username": username, "password": password}
        return self.http.post(f"{self.provider.url}/login", data=data, timeout=30, **kwargs)

    def sign_in(self, username: str, **kwargs) -> requests.Response:
        return self.submit(self.open_provider_form(), username, **kwargs)

    def callback_url(self, username: str) -> str:
        """Sign in at the provider but stop before following its redirect back to the hub."""
        redirect = self.sign_in(username, allow_redirects=False)
        assert redirect.status_code == 302
        return redirect.headers["Location"]

    @property
    def logged_in(self) -> bool:
        r = self.http.get(f"{self.hub.url}/hub/home", timeout=30, allow_redirects=False)
        return r.status_code == 200


def with_state(url: str, state: str) -> str:
    parts = urlsplit(url)
    query = {**{k: v[0] for k, v in parse_qs(parts.query).items()}, "state": state}
    return parts._replace(query=urlencode(query)).geturl()


def encoded_state(state_id: str) -> str:
    return base64.urlsafe_b64encode(json.dumps({"state_id": state_id}).encode()).decode()


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
    assert ">ana<" in landed.text.replace(" ", "")
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
    # Refused by the hub's group check after a complete, valid exchange with the provider.
    [grant] = provider.grants.values()
    assert grant.redeemed and provider.received("GET", "/userinfo")
    assert provider.refusals == []

    assert not eve.logged_in
    home = eve.http.get(f"{hub.url}/hub/home", timeout=30, allow_redirects=False)
    assert home.status_code == 302 and urlsplit(home.headers["Location"]).path == "/hub/login"
    assert hub.api("GET", "/users/eve").status_code == 404
    assert "User 'eve' not allowed" in hub.log()


FORGED_STATES = {
    "another state_id": lambda url: with_state(url, encoded_state("0" * 32)),
    "not base64": lambda url: with_state(url, "%%%not-base64%%%"),
    "no state": lambda url: with_state(url, ""),
}


@pytest.mark.parametrize("forgery", FORGED_STATES)
def test_callback_with_forged_state_is_refused(hub, provider, forgery):
    ana = Browser(hub, provider)
    forged = ana.http.get(FORGED_STATES[forgery](ana.callback_url("ana")), timeout=30)
    assert forged.status_code == 400, forged.text[:500]
    assert provider.received("POST", "/token") == [], "the hub redeemed a code from a forged callback"
    assert not ana.logged_in


def test_callback_without_the_login_cookie_is_refused(hub, provider):
    attacker_callback = Browser(hub, provider).callback_url("eve")
    victim = requests.Session()
    forged = victim.get(attacker_callback, timeout=30)
    assert forged.status_code == 400, forged.text[:500]
    assert provider.received("POST", "/token") == []


def test_no_secret_in_hub_log(hub, provider):
    assert Browser(hub, provider).sign_in("ana").status_code == 200
    assert Browser(hub, provider).sign_in("eve").status_code == 403
    log = hub.log()
    assert "User logged in: ana" in log
    grants = list(provider.grants.values())
    assert len(grants) == 2 and all(g.tokens and g.id_tokens for g in grants)
    secrets = {"client secret": provider.client_secret, "ops token": hub.ops_token}
    for grant in grants:
        secrets.update({
            f"{grant.username}'s code": grant.code,
            f"{grant.username}'s access token": grant.tokens[0],
            f"{grant.username}'s ID token": grant.id_tokens[0],
        })
    assert [name for name, value in secrets.items() if value in log] == []
