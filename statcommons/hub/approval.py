"""Approving local accounts: explicit actions on a POST, never a change on a GET.

NativeAuthenticator toggles an account's approval on ``GET /hub/authorize/<name>`` and deletes a
waiting sign-up on ``GET /hub/discard/<name>``, so any page that sends a logged-in admin's browser
to those addresses (a link, a redirect, an image) approves or discards an account.  These handlers
replace its two: a GET answers 405 and changes nothing; a POST says what it wants
(``action=authorize`` or ``unauthorize``, so a replayed request cannot flip the state) and passes
JupyterHub's XSRF check, which every cookie-authenticated POST to a hub page must pass (the
``_xsrf`` field of the buttons on ``/hub/authorize``); scripts use an API token with
``admin:users`` instead.
"""

from __future__ import annotations

from jupyterhub.handlers import BaseHandler
from jupyterhub.scopes import needs_scope
from jupyterhub.utils import maybe_future
from tornado import web
from tornado.escape import url_escape

# action field of the form -> the approval it sets
ACTIONS = {"authorize": True, "unauthorize": False}


class ApprovalHandler(BaseHandler):
    """Common to both: no change on a GET, the account by its name, back to the page after a change."""

    # Scripts may send an API token (only in the Authorization header, which no other site's
    # page can set); such requests skip the XSRF check, cookie-authenticated ones never do.
    _accept_token_auth = True

    def get(self, name: str):
        error = web.HTTPError(
            405,
            "Opening this address changes nothing: approve, un-approve or discard accounts with the buttons of %s",
            f"{self.hub.base_url}authorize",
        )
        error.headers = {"Allow": "POST"}  # JupyterHub's error page keeps an exception's headers
        raise error

    def account(self, name: str):
        info = self.authenticator.get_user(name)
        if info is None:
            raise web.HTTPError(404, "No account %r signed up", name)
        return info

    def back_to_the_page(self, name: str) -> None:
        self.redirect(f"{self.hub.base_url}authorize#{url_escape(name, plus=False)}")


class AuthorizeHandler(ApprovalHandler):
    """``POST /hub/authorize/<name>`` with ``action`` ``authorize`` or ``unauthorize``."""

    @needs_scope("admin:users")
    def post(self, name: str):
        action = self.get_body_argument("action", "")
        if action not in ACTIONS:
            raise web.HTTPError(400, "action must be authorize or unauthorize, not %r", action)
        info = self.account(name)
        if info.is_authorized != ACTIONS[action]:
            info.is_authorized = ACTIONS[action]
            self.authenticator.db.commit()
            self.log.info("%s: %s %r", self.current_user.name, action, info.username)
        self.back_to_the_page(info.username)


class DiscardHandler(ApprovalHandler):
    """``POST /hub/discard/<name>``: delete a sign-up that waits for approval."""

    @needs_scope("admin:users")
    async def post(self, name: str):
        info = self.account(name)
        if info.is_authorized:
            raise web.HTTPError(409, "%s is approved: un-approve the account before discarding it", info.username)
        user = self.users.get(info.username)
        if user is not None and user.active:
            raise web.HTTPError(409, "%s has a running server: stop it first", info.username)
        # NativeAuthenticator's delete_user wants an object with a name; it deletes the sign-up.
        await maybe_future(self.authenticator.delete_user(type("User", (), {"name": info.username})))
        if user is not None:
            self.users.delete(info.username)
        self.log.info("%s: discarded the sign-up of %r", self.current_user.name, info.username)
        self.redirect(f"{self.hub.base_url}authorize")


# NativeAuthenticator's routes these replace (under the hub's base URL)
HANDLERS = {
    r"/authorize/([^/]*)": AuthorizeHandler,
    r"/discard/([^/]*)": DiscardHandler,
}
