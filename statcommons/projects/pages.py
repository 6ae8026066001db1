"""The projects page: list my projects, create one, manage members, open the project server.

A page for logged-in hub users that looks like the hub's own (it uses the hub's stylesheet and
navigation bar).  Visitors without a session go through the hub's OAuth login and come back.
Actions go through the REST API from ``static/projects.js``, which sends the page's XSRF token
(``<meta name="xsrf-token">``) in an ``X-XSRFToken`` header, as HubOAuth wants for
cookie-authenticated writes.  No inline script or style (see :data:`CSP`); Jinja escapes
everything it prints.

``open/<name>`` is the way into a project server from elsewhere (the hub's home page links to
it): a GET changes nothing, and a start is a form POST carrying this service's XSRF token.
"""

from __future__ import annotations

import functools
from http.client import responses
from urllib.parse import quote

import jinja2
from jupyterhub.utils import url_path_join
from tornado import web

from ..kit.web import PageHeaders
from ..platform import names
from . import api
from .core import ProjectError

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; "
    "connect-src 'self'; frame-ancestors 'self'; base-uri 'self'; form-action 'self'; object-src 'none'"
)


@functools.cache
def _templates(path: str) -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(path), autoescape=True, trim_blocks=True, lstrip_blocks=True
    )


class ProjectsPage(PageHeaders, api.BaseHandler):
    """``GET {prefix}``: the caller's projects."""

    csp = CSP

    async def get(self) -> None:
        if self.caller is None:
            self.redirect(self.get_login_url())
            return
        try:
            projects = await self.projects.list(self.caller)
        except ProjectError as e:
            raise api.ApiError(e.status, e.message) from None
        notices = self.projects.notices(self.caller)
        self.finish(self.page("projects.html", projects=projects, caller=self.caller, notices=notices))

    def page(self, template: str, **context) -> str:
        hub_prefix = self.hub_auth.hub_prefix
        environment = _templates(self.settings["template_path"])
        options = self.projects.options
        return environment.get_template(template).render(
            prefix=self.prefix,
            api=url_path_join(self.prefix, "api/"),
            hub_prefix=hub_prefix,
            hub_static=url_path_join(hub_prefix, "static/"),
            static=self.static_url,
            xsrf=self.xsrf_token.decode() if self.caller else "",
            name_pattern=names.NAME_PATTERN,
            max_name=names.MAX_NAME_LENGTH,
            create_group=options.create_group,
            **context,
        )

    def write_error(self, status_code: int, **kwargs) -> None:
        error = kwargs.get("exc_info", (None, None, None))[1]
        if isinstance(error, api.ApiError):
            message = error.message
        elif isinstance(error, web.HTTPError) and error.log_message and status_code < 500:
            message = error.log_message % error.args if error.args else error.log_message
        else:
            message = "Something went wrong. Try again in a moment."
        self.set_header("Content-Type", "text/html; charset=UTF-8")
        self.finish(
            self.page(
                "error.html",
                caller=getattr(self, "caller", None),
                status=status_code,
                reason=responses.get(status_code, "Error"),
                message=message,
            )
        )


def lab_url(server_url: str) -> str:
    """JupyterLab on a server, from the server's URL path (``/user/<name>-collab/``)."""
    return url_path_join(server_url, "lab")


class OpenServerPage(ProjectsPage):
    """``{prefix}open/<name>``: open a project's server, starting it if need be (members only).

    ``GET`` changes nothing: a running server is a redirect (302) to its JupyterLab; a stopped one
    is a page with a *Start and open* button. That button POSTs a form with this service's XSRF
    token (``_xsrf``), which HubOAuth checks before it accepts the session cookie; the POST starts
    the server as ``POST api/projects/<name>/server`` does and redirects (303) to its JupyterLab.
    Anyone else gets the 404 of the API, as an HTML page; a server that cannot start, an HTML
    page saying why.
    """

    # The form's _xsrf field is read in prepare(), where HubOAuth checks it: the body must be in by then.
    _stream_request_body = False

    async def get(self, name: str) -> None:
        if self.caller is None:
            self.redirect(self.get_login_url())
            return
        try:
            project = await self.projects.get(self.caller, name)
            server = await self.projects.server_status(self.caller, name)
        except ProjectError as e:
            raise api.ApiError(e.status, e.message) from None
        if server.get("running"):
            self.redirect(lab_url(server["url"]))
            return
        action = url_path_join(self.prefix, "open", quote(project["name"], safe=""))
        self.finish(self.page("open.html", project=project, caller=self.caller, action=action))

    async def post(self, name: str) -> None:
        if self.caller is None:
            # No session, or one HubOAuth did not accept: the form's XSRF token is missing or not this page's.
            raise api.ApiError(
                403,
                "This request could not be confirmed as yours (the page was too old, or came from another "
                "site). Open the project server again from your projects.",
            )
        try:
            server = await self.projects.start_server(self.caller, name)
        except ProjectError as e:
            if e.status == 404:
                raise api.ApiError(404, e.message) from None
            raise api.ApiError(e.status, f"The project server of {name} could not be started: {e.message}") from None
        self.redirect(lab_url(server["url"]), status=303)


def handlers(prefix: str) -> list[tuple]:
    return [(prefix, ProjectsPage), (url_path_join(prefix, r"open/([^/]+)"), OpenServerPage)]
