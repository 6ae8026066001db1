"""The projects page: list my projects, create one, manage members, open the project server.

A page for logged-in hub users that looks like the hub's own (it uses the hub's stylesheet and
navigation bar).  Visitors without a session go through the hub's OAuth login and come back.
Actions go through the REST API from ``static/projects.js``, which sends the page's XSRF token
(``<meta name="xsrf-token">``) in an ``X-XSRFToken`` header, as HubOAuth wants for
cookie-authenticated writes.  No inline script or style (see :data:`CSP`); Jinja escapes
everything it prints.
"""

from __future__ import annotations

import functools
from http.client import responses

import jinja2
from jupyterhub.utils import url_path_join
from tornado import web

from . import api, names
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


class ProjectsPage(api.BaseHandler):
    """``GET {prefix}``: the caller's projects."""

    def set_default_headers(self) -> None:
        super().set_default_headers()
        self.set_header("Content-Type", "text/html; charset=UTF-8")
        self.set_header("Content-Security-Policy", CSP)
        self.set_header("Referrer-Policy", "same-origin")

    async def get(self) -> None:
        if self.caller is None:
            self.redirect(self.get_login_url())
            return
        try:
            projects = await self.projects.list(self.caller)
        except ProjectError as e:
            raise api.ApiError(e.status, e.message) from None
        self.finish(self.page("projects.html", projects=projects, caller=self.caller))

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


def handlers(prefix: str) -> list[tuple]:
    return [(prefix, ProjectsPage)]
