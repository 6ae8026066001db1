"""The services' handler base (the HubOAuth a service configures is the one its handlers use) and their imports."""

import subprocess
import sys
from unittest import mock

from jupyterhub.services.auth import HubOAuth
from tornado import httputil, web

from statcommons.kit.web import JsonApiHandler, NotFoundHandler, OAuthCallbackHandler


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


def _json_handler(body: bytes):
    handler = _handler(JsonApiHandler, web.Application([]))
    handler._chunks, handler._received = [body], len(body)
    return handler


def test_deeply_nested_json_is_a_400_not_a_500():
    import pytest

    from statcommons.kit.web import ApiError

    with pytest.raises(ApiError) as refused:
        _json_handler(b"[" * 5000 + b"]" * 5000).json_body()
    assert refused.value.status_code == 400 and "nested too deeply" in refused.value.message
    with pytest.raises(ApiError) as refused:
        _json_handler(b'{"a": ' + b"[" * 40 + b"1" + b"]" * 40 + b"}").json_body()
    assert refused.value.status_code == 422 and "nested more than 32 levels" in refused.value.message


def test_a_lone_surrogate_is_a_422_naming_its_field():
    import pytest

    from statcommons.kit.web import ApiError

    with pytest.raises(ApiError) as refused:
        _json_handler(b'{"title": "ok", "links": [{"url": "x\\ud800y"}]}').json_body()
    assert refused.value.status_code == 422
    assert refused.value.errors == [
        {"path": "links[0].url", "message": "not valid text: it holds a lone surrogate (\\ud800-\\udfff)"}
    ]
    assert _json_handler('{"title": "Émilie 😀"}'.encode()).json_body() == {"title": "Émilie 😀"}


def test_a_service_imports_no_parser_it_does_not_use():
    """A managed service has about ten seconds to answer the hub; under load, rfc3987-syntax's
    parsers (built by jsonschema at import, for a format StatCommons never checks) took most of them."""
    code = (
        "import sys, time; started = time.perf_counter()\n"
        "import statcommons.library.service.app, statcommons.runner.app, statcommons.projects.app\n"
        "print(sys.modules.get('rfc3987_syntax') is None, round(time.perf_counter() - started, 2))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    skipped, seconds = done.stdout.split()
    assert skipped == "True", f"the services imported rfc3987_syntax ({seconds} s of imports)"
