"""The OAuth authenticators StatCommons uses, with a callback that refuses malformed state with a 400.

oauthenticator 17.4 decodes the callback's ``state`` and calls ``.get`` on it:
a value that is valid base64 JSON but not an object (``[1]``, ``null``), or
that is not ASCII, raises inside ``check_state`` and the hub answers 500.
"""

from __future__ import annotations

from oauthenticator.generic import GenericOAuthenticator
from oauthenticator.github import GitHubOAuthenticator
from oauthenticator.gitlab import GitLabOAuthenticator
from oauthenticator.oauth2 import OAuthCallbackHandler
from tornado import web


class CallbackHandler(OAuthCallbackHandler):
    def check_state(self):
        try:
            super().check_state()
        except (AttributeError, UnicodeError):
            raise web.HTTPError(400, "OAuth state malformed") from None


class OIDCAuthenticator(GenericOAuthenticator):
    callback_handler = CallbackHandler


class GitHubAuthenticator(GitHubOAuthenticator):
    callback_handler = CallbackHandler


class GitLabAuthenticator(GitLabOAuthenticator):
    callback_handler = CallbackHandler
