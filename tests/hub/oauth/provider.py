"""An OpenID Connect provider for tests: the authorization code flow with PKCE.

:class:`Provider` serves on a free 127.0.0.1 port from a background thread and
plays the institution's identity provider (Keycloak, Azure AD, ...) for one
registered client:

- ``GET /authorize`` checks the client, its registered redirect URI, the
  state and an S256 PKCE challenge, then shows a login form;
- ``POST /login`` checks the account's password and redirects back to the
  client with a single-use code and the state;
- ``POST /token`` checks the client's secret (``client_secret_post`` or
  ``client_secret_basic``), the code, the redirect URI and the PKCE verifier,
  and returns a Bearer access token and an ID token (a JWT signed with the
  client secret, HS256);
- ``GET /userinfo`` returns the account's claims for a valid Bearer token.

Every request is kept in :attr:`Provider.requests` and every refusal in
:attr:`Provider.refusals`, so tests can check what the client really sent.
"""

from __future__ import annotations

import base64
import hashlib
import html
import json
import secrets
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, unquote_plus, urlencode, urlsplit

import jwt

CODE_LIFETIME = 60
TOKEN_LIFETIME = 300


class Refused(Exception):
    """A request the provider turns down: an OAuth error code, a description, an HTTP status."""

    def __init__(self, error: str, description: str, status: int = 400):
        super().__init__(f"{error}: {description}")
        self.error = error
        self.description = description
        self.status = status


@dataclass
class Account:
    username: str
    password: str
    claims: dict


@dataclass
class Grant:
    """What an authorization code stands for, and how it was redeemed."""

    code: str
    username: str
    redirect_uri: str
    scope: str
    code_challenge: str
    expires: float
    redeemed: bool = False
    client_auth: str | None = None
    code_verifier: str | None = None
    tokens: list[str] = field(default_factory=list)
    id_tokens: list[str] = field(default_factory=list)


@dataclass
class Request:
    method: str
    path: str
    headers: dict
    params: dict


def s256(verifier: str) -> str:
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).decode("ascii").rstrip("=")


def _same(given: str, expected: str) -> bool:
    return secrets.compare_digest(given.encode(), expected.encode())


def _login_page(login_id: str, message: str = "") -> str:
    notice = f"<p class='error'>{html.escape(message)}</p>" if message else ""
    return (
        "<!doctype html><title>Sign in</title><h1>Test identity provider</h1>"
        f"{notice}<form method='post' action='/login'>"
        f"<input type='hidden' name='login_id' value='{html.escape(login_id)}'>"
        "<input name='username'><input name='password' type='password'>"
        "<button type='submit'>Sign in</button></form>"
    )


class Provider:
    """An OpenID Connect provider with one client and the accounts a test adds."""

    def __init__(self, client_id: str | None = None, client_secret: str | None = None):
        self.client_id = client_id or "statcommons-" + secrets.token_hex(4)
        self.client_secret = client_secret or secrets.token_urlsafe(32)
        self.redirect_uri: str | None = None
        self.accounts: dict[str, Account] = {}
        self.requests: list[Request] = []
        self.refusals: list[str] = []
        self.grants: dict[str, Grant] = {}
        self._logins: dict[str, dict] = {}
        self._tokens: dict[str, tuple[str, float]] = {}
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self._server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, name="oidc-provider", daemon=True)

    # --- life --------------------------------------------------------------
    def start(self) -> Provider:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> Provider:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    # --- what tests set up and read -----------------------------------------
    def add_user(self, username: str, password: str, groups: list[str] = ()) -> Account:
        claims = {
            "sub": secrets.token_hex(8),
            "preferred_username": username,
            "email": f"{username}@stat.example.org",
            "groups": list(groups),
        }
        account = Account(username, password, claims)
        self.accounts[username] = account
        return account

    def oidc_settings(self, **extra) -> dict:
        """The ``auth.oidc`` settings pointing a hub at this provider."""
        return {
            "login_service": "Test Statistical Office",
            "authorize_url": f"{self.url}/authorize",
            "token_url": f"{self.url}/token",
            "userdata_url": f"{self.url}/userinfo",
            **extra,
        }

    def client_env(self) -> dict:
        return {"OAUTH_CLIENT_ID": self.client_id, "OAUTH_CLIENT_SECRET": self.client_secret}

    def received(self, method: str, path: str) -> list[Request]:
        return [r for r in self.requests if r.method == method and r.path == path]

    # --- endpoints ----------------------------------------------------------
    def authorize(self, params: dict) -> tuple[int, dict, str]:
        if params.get("client_id") != self.client_id:
            raise Refused("invalid_request", "unknown client_id")
        if not self.redirect_uri or params.get("redirect_uri") != self.redirect_uri:
            raise Refused("invalid_request", f"redirect_uri {params.get('redirect_uri')!r} is not registered")
        problem = self._authorize_problem(params)
        if problem:
            self.refusals.append(f"authorize: {problem[0]}: {problem[1]}")
            query = {"error": problem[0], "error_description": problem[1], "state": params.get("state", "")}
            return 302, {"Location": f"{self.redirect_uri}?{urlencode(query)}"}, ""
        login_id = secrets.token_urlsafe(16)
        self._logins[login_id] = params
        return 200, {"Content-Type": "text/html; charset=utf-8"}, _login_page(login_id)

    def _authorize_problem(self, params: dict) -> tuple[str, str] | None:
        if params.get("response_type") != "code":
            return "unsupported_response_type", "only the code flow is supported"
        if not params.get("state"):
            return "invalid_request", "state is required"
        if "openid" not in params.get("scope", "").split():
            return "invalid_scope", "the openid scope is required"
        if params.get("code_challenge_method") != "S256" or not params.get("code_challenge"):
            return "invalid_request", "a PKCE code_challenge with method S256 is required"
        return None

    def login(self, form: dict) -> tuple[int, dict, str]:
        login_id = form.get("login_id", "")
        params = self._logins.get(login_id)
        if params is None:
            raise Refused("invalid_request", "no sign-in in progress")
        account = self.accounts.get(form.get("username", ""))
        if account is None or not _same(form.get("password", ""), account.password):
            self.refusals.append(f"login: wrong username or password for {form.get('username')!r}")
            return 401, {"Content-Type": "text/html; charset=utf-8"}, _login_page(login_id, "Wrong password")
        del self._logins[login_id]
        code = secrets.token_urlsafe(24)
        self.grants[code] = Grant(
            code=code,
            username=account.username,
            redirect_uri=params["redirect_uri"],
            scope=params["scope"],
            code_challenge=params["code_challenge"],
            expires=time.time() + CODE_LIFETIME,
        )
        query = urlencode({"code": code, "state": params["state"]})
        return 302, {"Location": f"{params['redirect_uri']}?{query}"}, ""

    def token(self, headers: dict, form: dict) -> tuple[int, dict, str]:
        client_auth = self._authenticate_client(headers, form)
        if form.get("grant_type") != "authorization_code":
            raise Refused("unsupported_grant_type", "only authorization_code is supported")
        grant = self.grants.get(form.get("code", ""))
        if grant is None or grant.expires < time.time():
            raise Refused("invalid_grant", "unknown or expired code")
        if grant.redeemed:
            for token in grant.tokens:
                self._tokens.pop(token, None)
            raise Refused("invalid_grant", "code already used: its tokens are revoked")
        grant.redeemed = True
        if form.get("redirect_uri") != grant.redirect_uri:
            raise Refused("invalid_grant", "redirect_uri differs from the authorization request")
        verifier = form.get("code_verifier", "")
        if not verifier or not _same(s256(verifier), grant.code_challenge):
            raise Refused("invalid_grant", "PKCE code_verifier does not match the code_challenge")
        grant.client_auth, grant.code_verifier = client_auth, verifier
        access_token = secrets.token_urlsafe(32)
        grant.tokens.append(access_token)
        self._tokens[access_token] = (grant.username, time.time() + TOKEN_LIFETIME)
        grant.id_tokens.append(self._id_token(grant.username))
        body = {
            "access_token": access_token,
            "token_type": "Bearer",
            "expires_in": TOKEN_LIFETIME,
            "id_token": grant.id_tokens[-1],
            "scope": grant.scope,
        }
        return 200, {"Content-Type": "application/json", "Cache-Control": "no-store"}, json.dumps(body)

    def _authenticate_client(self, headers: dict, form: dict) -> str:
        authorization = headers.get("authorization", "")
        if authorization.lower().startswith("basic "):
            try:
                decoded = base64.b64decode(authorization[6:], validate=True).decode()
            except ValueError:
                raise Refused("invalid_client", "malformed Basic credentials", status=401) from None
            client_id, secret = (unquote_plus(part) for part in decoded.partition(":")[::2])
            method = "client_secret_basic"
        else:
            client_id, secret = form.get("client_id", ""), form.get("client_secret", "")
            method = "client_secret_post"
        if client_id != self.client_id or not _same(secret, self.client_secret):
            raise Refused("invalid_client", f"client authentication failed ({method})", status=401)
        return method

    def _id_token(self, username: str) -> str:
        now = int(time.time())
        claims = {
            "iss": self.url,
            "sub": self.accounts[username].claims["sub"],
            "aud": self.client_id,
            "iat": now,
            "exp": now + TOKEN_LIFETIME,
            "preferred_username": username,
        }
        return jwt.encode(claims, self.client_secret, algorithm="HS256")

    def userinfo(self, headers: dict) -> tuple[int, dict, str]:
        scheme, _, token = headers.get("authorization", "").partition(" ")
        username, expires = self._tokens.get(token, (None, 0.0))
        if scheme.lower() != "bearer" or username is None or expires < time.time():
            self.refusals.append("userinfo: invalid_token")
            headers = {"Content-Type": "application/json", "WWW-Authenticate": 'Bearer error="invalid_token"'}
            return 401, headers, json.dumps({"error": "invalid_token"})
        return 200, {"Content-Type": "application/json"}, json.dumps(self.accounts[username].claims)

    # --- HTTP -----------------------------------------------------------------
    def _dispatch(self, method: str, path: str, headers: dict, params: dict) -> tuple[int, dict, str]:
        routes = {
            ("GET", "/authorize"): lambda: self.authorize(params),
            ("POST", "/login"): lambda: self.login(params),
            ("POST", "/token"): lambda: self.token(headers, params),
            ("GET", "/userinfo"): lambda: self.userinfo(headers),
        }
        route = routes.get((method, path))
        if route is None:
            return 404, {"Content-Type": "text/plain"}, "not found"
        with self._lock:
            self.requests.append(Request(method, path, headers, params))
            try:
                return route()
            except Refused as e:
                self.refusals.append(f"{path.strip('/')}: {e}")
                body = {"error": e.error, "error_description": e.description}
                return e.status, {"Content-Type": "application/json"}, json.dumps(body)

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        provider = self

        class Handler(BaseHTTPRequestHandler):
            def _serve(self, method: str) -> None:
                url = urlsplit(self.path)
                params = dict(parse_qsl(url.query))
                if method == "POST":
                    length = int(self.headers.get("Content-Length") or 0)
                    params.update(parse_qsl(self.rfile.read(length).decode()))
                headers = {k.lower(): v for k, v in self.headers.items()}
                status, response_headers, body = provider._dispatch(method, url.path, headers, params)
                data = body.encode()
                self.send_response(status)
                for name, value in {**response_headers, "Content-Length": str(len(data))}.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self) -> None:
                self._serve("GET")

            def do_POST(self) -> None:
                self._serve("POST")

            def log_message(self, format, *args) -> None:
                pass

        return Handler
