"""The stand-in provider refuses what a real one refuses, so the hub tests mean something."""

import base64
import re
import secrets
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from .provider import Provider, s256

REDIRECT_URI = "http://127.0.0.1:9/hub/oauth_callback"


@pytest.fixture
def provider():
    with Provider() as provider:
        provider.redirect_uri = REDIRECT_URI
        provider.add_user("ana", "pw-ana", groups=["statisticians"])
        yield provider


def authorize_params(provider, verifier: str, **overrides) -> dict:
    params = {
        "response_type": "code",
        "client_id": provider.client_id,
        "redirect_uri": REDIRECT_URI,
        "scope": "openid profile email",
        "state": "s1",
        "code_challenge": s256(verifier),
        "code_challenge_method": "S256",
    }
    return {**params, **overrides}


def get_code(provider, verifier: str, password: str = "pw-ana") -> requests.Response:
    form = requests.get(f"{provider.url}/authorize", params=authorize_params(provider, verifier), timeout=10)
    login_id = re.search(r"name='login_id' value='([^']*)'", form.text)[1]
    data = {"login_id": login_id, "username": "ana", "password": password}
    return requests.post(f"{provider.url}/login", data=data, allow_redirects=False, timeout=10)


def redirect_query(response: requests.Response) -> dict:
    return {k: v[0] for k, v in parse_qs(urlsplit(response.headers["Location"]).query).items()}


def redeem(provider, code: str, verifier: str, secret: str | None = None, basic: bool = False):
    data = {"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT_URI, "code_verifier": verifier}
    credentials = (provider.client_id, secret or provider.client_secret)
    headers = {}
    if basic:
        headers["Authorization"] = "Basic " + base64.b64encode(":".join(credentials).encode()).decode()
    else:
        data.update(client_id=credentials[0], client_secret=credentials[1])
    return requests.post(f"{provider.url}/token", data=data, headers=headers, timeout=10)


def userinfo(provider, token: str) -> requests.Response:
    return requests.get(f"{provider.url}/userinfo", headers={"Authorization": f"Bearer {token}"}, timeout=10)


def test_code_flow_with_basic_client_authentication(provider):
    verifier = secrets.token_urlsafe(32)
    redirect = get_code(provider, verifier)
    assert redirect.status_code == 302 and redirect.headers["Location"].startswith(REDIRECT_URI + "?")
    query = redirect_query(redirect)
    assert query["state"] == "s1"
    tokens = redeem(provider, query["code"], verifier, basic=True).json()
    assert tokens["token_type"] == "Bearer" and tokens["id_token"].count(".") == 2
    claims = userinfo(provider, tokens["access_token"]).json()
    assert claims["preferred_username"] == "ana" and claims["groups"] == ["statisticians"]
    assert provider.grants[query["code"]].client_auth == "client_secret_basic"


def test_token_endpoint_refusals(provider):
    verifier = secrets.token_urlsafe(32)
    wrong_secret = redeem(provider, redirect_query(get_code(provider, verifier))["code"], verifier, "nope")
    assert wrong_secret.status_code == 401 and wrong_secret.json()["error"] == "invalid_client"

    wrong_verifier = redeem(provider, redirect_query(get_code(provider, verifier))["code"], "x" * 43)
    assert wrong_verifier.status_code == 400 and "PKCE" in wrong_verifier.json()["error_description"]

    code = redirect_query(get_code(provider, verifier))["code"]
    token = redeem(provider, code, verifier).json()["access_token"]
    assert userinfo(provider, token).status_code == 200
    reused = redeem(provider, code, verifier)
    assert reused.status_code == 400 and reused.json()["error"] == "invalid_grant"
    assert userinfo(provider, token).status_code == 401


def test_authorize_refusals(provider):
    verifier = secrets.token_urlsafe(32)
    other_redirect = authorize_params(provider, verifier, redirect_uri="http://127.0.0.1:9/elsewhere")
    r = requests.get(f"{provider.url}/authorize", params=other_redirect, allow_redirects=False, timeout=10)
    assert r.status_code == 400 and "Location" not in r.headers

    plain_pkce = authorize_params(provider, verifier, code_challenge_method="plain")
    r = requests.get(f"{provider.url}/authorize", params=plain_pkce, allow_redirects=False, timeout=10)
    assert r.status_code == 302 and redirect_query(r)["error"] == "invalid_request"

    assert get_code(provider, verifier, password="wrong").status_code == 401
    assert provider.grants == {}
