"""The services' handler base: the HubOAuth a service configures is the one its handlers use."""

from unittest import mock

from jupyterhub.services.auth import HubOAuth
from tornado import httputil, web

from statcommons.hubservice import JsonApiHandler, NotFoundHandler, OAuthCallbackHandler


def _handler(cls, app: web.Application):
    request = httputil.HTTPServerRequest(method="GET", uri="/services/x/api/nothing", connection=mock.Mock())
    return cls(app, request)


def test_handlers_use_the_services_own_hub_auth():
    hub_auth = HubOAuth(api_token="secret-for-test", api_url="http://127.0.0.1:9/hub/api", cache_max_age=7)
    hub_auth.allow_token_in_url = False
    app = web.Application([], hub_auth=hub_auth)
    for cls in (JsonApiHandler, NotFoundHandler, OAuthCallbackHandler):
        handler = _handler(cls, app)
        assert handler.hub_auth is hub_auth
        assert handler.hub_auth.cache_max_age == 7 and handler.hub_auth.allow_token_in_url is False


def test_unknown_endpoints_are_refused_in_the_method_not_before_the_body_is_read():
    # prepare() answering would close the connection under the proxy's feet (a 503 for the next request).
    assert "prepare" not in NotFoundHandler.__dict__
    for method in ("get", "post", "put", "patch", "delete", "head", "options"):
        assert getattr(NotFoundHandler, method) is NotFoundHandler._not_found
