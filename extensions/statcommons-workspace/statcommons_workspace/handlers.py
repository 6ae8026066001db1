"""The server extension's HTTP handlers, under ``{base_url}statcommons/``.

* ``statcommons/library/<path>``, ``statcommons/runner/<path>`` and ``statcommons/projects/<path>``:
  a proxy to the library, runner and projects services for the browser, which talks only to its
  own server. The server adds its own
  ``JUPYTERHUB_API_TOKEN``, so no token ever reaches the browser; only the paths and methods of
  :mod:`.rules` are forwarded. Errors of the services (JSON ``{"status", "message"}``) come back
  as they are; a service that does not answer is a 502 that names it. Video ranges stream.
* ``statcommons/workspace/...``: copies into the home (tutorials, datasets), done here in the
  container rather than in the browser, see :mod:`.workspace`.
* ``git-pull``: nbgitpuller's links, checked first (:mod:`.gitpull`, :mod:`.links`).
"""

from __future__ import annotations

import asyncio
import json
import os
from pathlib import Path
from urllib.parse import urlsplit

import tornado.web
from jupyter_server.base.handlers import APIHandler
from jupyter_server.utils import url_path_join
from tornado.httpclient import AsyncHTTPClient, HTTPClientError, HTTPRequest
from tornado.httputil import HTTPHeaders
from traitlets import Float, Unicode, default
from traitlets.config import Configurable

from . import links, rules, workspace
from .gitpull import setup_gitpull

NAMES = {"library": "library service", "runner": "notebook runner", "projects": "projects service"}


class StatCommonsServices(Configurable):
    """Where the StatCommons services are, as this server reaches them."""

    library_url = Unicode(
        help="Base URL of the library service, such as http://127.0.0.1:8082/services/library/. "
        "Defaults to $STATCOMMONS_LIBRARY_URL, else the hub's proxy (see public_hub_url)."
    ).tag(config=True)

    runner_url = Unicode(
        help="Base URL of the notebook runner, such as http://127.0.0.1:8083/services/runner/. "
        "Defaults to $STATCOMMONS_RUNNER_URL, else the hub's proxy (see public_hub_url)."
    ).tag(config=True)

    projects_url = Unicode(
        help="Base URL of the projects service, such as http://127.0.0.1:8084/services/projects/. "
        "Defaults to $STATCOMMONS_PROJECTS_URL, else the hub's proxy (see public_hub_url)."
    ).tag(config=True)

    public_hub_url = Unicode(
        help="The hub's public URL (its proxy), used when the service URLs are not set. Defaults to "
        "$JUPYTERHUB_PUBLIC_HUB_URL or $JUPYTERHUB_PUBLIC_URL; when empty, the proxy is taken to be on "
        "the host of $JUPYTERHUB_API_URL at the port the browser's request came in on."
    ).tag(config=True)

    timeout = Float(60.0, help="Seconds to wait for a service before answering 502.").tag(config=True)

    start_timeout = Float(
        300.0,
        help="Seconds to wait for the projects service to start a project server (POST "
        "api/projects/<name>/server) before answering 502: a start can take minutes when the image "
        "is cold. Keep it above the service's own limit, so that its message reaches the browser.",
    ).tag(config=True)

    @default("library_url")
    def _library_url(self):
        return os.environ.get("STATCOMMONS_LIBRARY_URL", "")

    @default("runner_url")
    def _runner_url(self):
        return os.environ.get("STATCOMMONS_RUNNER_URL", "")

    @default("projects_url")
    def _projects_url(self):
        return os.environ.get("STATCOMMONS_PROJECTS_URL", "")

    @default("public_hub_url")
    def _public_hub_url(self):
        return os.environ.get("JUPYTERHUB_PUBLIC_HUB_URL") or os.environ.get("JUPYTERHUB_PUBLIC_URL") or ""

    def base_url(self, service: str, request_host: str) -> str:
        """The service's base URL, ending in /."""
        explicit = {"library": self.library_url, "runner": self.runner_url, "projects": self.projects_url}[service]
        if explicit:
            return explicit.rstrip("/") + "/"
        hub = self.public_hub_url
        if not hub:
            # The browser reached this server through the hub's proxy, which is on the hub's host
            # (servers run on the host network): only the port is taken from the request, never
            # the host, so that a forged Host header cannot send the token elsewhere.
            api_host = urlsplit(os.environ.get("JUPYTERHUB_API_URL", "http://127.0.0.1:8081")).hostname
            port = request_host.rsplit(":", 1)[1] if ":" in request_host else "80"
            if not port.isdigit():
                port = "80"
            hub = f"http://{api_host}:{port}/"
        return f"{hub.rstrip('/')}/services/{service}/"


def _token_header() -> dict:
    token = os.environ.get("JUPYTERHUB_API_TOKEN", "")
    return {"Authorization": f"token {token}"} if token else {}


class BaseHandler(APIHandler):
    @property
    def services(self) -> StatCommonsServices:
        return self.settings["statcommons_services"]

    @property
    def home(self) -> Path:
        return Path(self.settings["server_root_dir"]).expanduser()

    def error(self, status: int, message: str, errors: list | None = None) -> None:
        self.set_status(status)
        self.set_header("Content-Type", "application/json")
        body = {"status": status, "message": message}
        if errors:
            body["errors"] = errors
        self.finish(json.dumps(body))

    async def service_json(self, service: str, path: str, method: str = "GET", body: bytes | None = None):
        """Call a service with the server's token; the decoded JSON, or WorkspaceError carrying its message."""
        url = self.services.base_url(service, self.request.host) + path
        headers = {**_token_header(), "Accept": "application/json"}
        if body is not None:
            headers["Content-Type"] = "application/json"
        request = HTTPRequest(url, method=method, headers=headers, body=body, request_timeout=self.services.timeout)
        try:
            response = await AsyncHTTPClient().fetch(request, raise_error=False)
        except OSError as e:
            raise workspace.WorkspaceError(502, f"The {NAMES[service]} did not answer: {e}") from None
        if response.code == 599:
            raise workspace.WorkspaceError(502, f"The {NAMES[service]} did not answer: {response.error}")
        if response.code >= 400:
            try:
                message = json.loads(response.body)["message"]
            except (ValueError, KeyError, TypeError):
                message = f"{response.code} {response.reason}"
            raise workspace.WorkspaceError(response.code, message)
        return response


class ProxyHandler(BaseHandler):
    """``/statcommons/(library|runner|projects)/<path>``: forwards allowlisted calls with the server's token."""

    @tornado.web.authenticated
    async def get(self, service: str, path: str) -> None:
        await self.forward(service, path)

    @tornado.web.authenticated
    async def head(self, service: str, path: str) -> None:
        await self.forward(service, path)

    @tornado.web.authenticated
    async def post(self, service: str, path: str) -> None:
        await self.forward(service, path)

    @tornado.web.authenticated
    async def put(self, service: str, path: str) -> None:
        await self.forward(service, path)

    @tornado.web.authenticated
    async def patch(self, service: str, path: str) -> None:
        await self.forward(service, path)

    @tornado.web.authenticated
    async def delete(self, service: str, path: str) -> None:
        await self.forward(service, path)

    async def forward(self, service: str, path: str) -> None:
        method = self.request.method
        refusal = rules.allowed(service, path, method)
        if refusal:
            return self.error(405 if " is not allowed on " in refusal else 404, refusal)
        url = self.services.base_url(service, self.request.host) + path
        if self.request.query:
            url += "?" + self.request.query
        headers = {k: v for k in rules.REQUEST_HEADERS if (v := self.request.headers.get(k))}
        headers.update(_token_header())
        body = self.request.body if method in ("POST", "PUT", "PATCH") else None
        state = {"status": None, "headers": HTTPHeaders(), "started": False}

        def on_header(line: str) -> None:
            if line.startswith("HTTP/"):
                state["status"] = int(line.split(" ", 2)[1])
                state["headers"] = HTTPHeaders()
            elif line.strip():
                state["headers"].parse_line(line)

        def start() -> None:
            if state["started"]:
                return
            state["started"] = True
            self.set_status(state["status"])
            for name in rules.RESPONSE_HEADERS:
                value = state["headers"].get(name)
                if value:
                    self.set_header(name, value)
            if state["status"] in (200, 206) and state["headers"].get("Content-Range"):
                self.set_header("Content-Length", state["headers"]["Content-Length"])

        def on_chunk(chunk: bytes) -> None:
            start()
            self.write(chunk)
            self.flush()

        request = HTTPRequest(
            url,
            method=method,
            headers=headers,
            body=body,
            allow_nonstandard_methods=True,
            follow_redirects=False,
            request_timeout=self.services.start_timeout if rules.slow(service, path, method) else self.services.timeout,
            header_callback=on_header,
            streaming_callback=on_chunk,
        )
        try:
            response = await AsyncHTTPClient().fetch(request, raise_error=False)
        except (OSError, HTTPClientError) as e:
            return self.error(502, f"The {NAMES[service]} did not answer: {e}")
        if response.code == 599 and not state["started"]:
            return self.error(502, f"The {NAMES[service]} did not answer: {response.error}")
        if state["status"] is None:
            state["status"] = response.code
        start()
        if state["status"] == 204:
            self.clear_header("Content-Type")
        self.finish()


class WorkspaceHandler(BaseHandler):
    """Shared helpers of the workspace handlers."""

    async def item(self, item_id: str) -> dict:
        if not item_id or rules.allowed("library", f"api/items/{item_id}", "GET") is not None:
            raise workspace.WorkspaceError(422, f"{item_id!r} is not a library item id")
        response = await self.service_json("library", f"api/items/{item_id}")
        return json.loads(response.body)

    def body(self, fields: tuple[str, ...]) -> dict:
        try:
            data = json.loads(self.request.body or b"{}")
        except ValueError:
            raise workspace.WorkspaceError(400, "the request body is not JSON") from None
        if not isinstance(data, dict):
            raise workspace.WorkspaceError(422, "expected a JSON object")
        unknown = sorted(set(data) - set(fields))
        if unknown:
            raise workspace.WorkspaceError(422, f"unknown field {unknown[0]!r}: allowed fields are {', '.join(fields)}")
        for name in fields:
            if not isinstance(data.get(name), str) or not data[name]:
                raise workspace.WorkspaceError(422, f"{name}: missing, expected a text")
        return data


class OpenNotebookHandler(WorkspaceHandler):
    """``POST statcommons/workspace/open-notebook`` ``{"item": id}``: the notebook in the home, never overwritten.

    Answers ``{"path": relative to the home, "created": bool, "how": "shared"|"repository"|"attached"}``.
    """

    @tornado.web.authenticated
    async def post(self) -> None:
        try:
            data = self.body(("item",))
            item = await self.item(data["item"])
            if item.get("type") != "notebook":
                raise workspace.WorkspaceError(409, f"{data['item']!r} is a {item.get('type')}, not a notebook")
            result = await self.bring(item)
        except workspace.WorkspaceError as e:
            return self.error(e.status, e.message)
        self.finish(json.dumps(result))

    async def bring(self, item: dict) -> dict:
        notebook = item.get("notebook") or {}
        if notebook.get("shared_path"):
            path, created = await asyncio.to_thread(workspace.copy_shared_notebook, self.home, notebook["shared_path"])
            return {"path": str(path), "created": created, "how": "shared"}
        if notebook.get("attached"):
            path = workspace.attached_path(item["id"], notebook["attached"])
            if (self.home / path).exists():
                return {"path": str(path), "created": False, "how": "attached"}
            response = await self.service_json("library", f"api/items/{item['id']}/notebook")
            created = await asyncio.to_thread(workspace.write_new, self.home, path, response.body)
            return {"path": str(path), "created": created, "how": "attached"}
        if notebook.get("repository"):
            try:
                await self.settings["statcommons_git_origins"].check(notebook["repository"])
            except links.LinkRefused as e:
                raise workspace.WorkspaceError(e.status, e.message) from None
            path, created = await asyncio.to_thread(self.pull, notebook)
            return {"path": path, "created": created, "how": "repository"}
        raise workspace.WorkspaceError(409, f"{item['id']!r} does not say where its notebook is")

    def pull(self, notebook: dict) -> tuple[str, bool]:
        """nbgitpuller into ``~/<last part of the repository URL>``, the folder its own links use (and the
        library's nbgitpuller_url); its merge keeps the user's edits."""
        from nbgitpuller.pull import GitPuller

        repository = notebook["repository"].rstrip("/")
        folder = repository.rsplit("/", 1)[-1]
        file = workspace._relative(notebook["path"], "notebook path")
        folder_path = workspace._relative(folder, "repository name")
        try:
            target = links.target(self.home, str(folder_path))
        except links.LinkRefused as e:
            raise workspace.WorkspaceError(e.status, e.message) from None
        existed = (target / file).exists()
        try:
            for _line in GitPuller(repository, str(target), branch=notebook.get("branch") or None).pull():
                pass
        except Exception as e:  # nbgitpuller raises plain exceptions with git's output
            raise workspace.WorkspaceError(502, f"nbgitpuller could not pull {repository}: {e}") from None
        if not (target / file).exists():
            raise workspace.WorkspaceError(404, f"{notebook['path']} is not in {repository}")
        return str(folder_path / file), not existed


class ProjectsHandler(WorkspaceHandler):
    """``GET statcommons/workspace/projects``: ``{"projects": [names of folders under ~/projects]}``."""

    @tornado.web.authenticated
    def get(self) -> None:
        self.finish(json.dumps({"projects": workspace.projects(self.home)}))


class AddDatasetHandler(WorkspaceHandler):
    """``POST statcommons/workspace/add-dataset`` ``{"item", "project"}``: copy the dataset into the project."""

    @tornado.web.authenticated
    async def post(self) -> None:
        try:
            data = self.body(("item", "project"))
            item = await self.item(data["item"])
            datapackage = (item.get("dataset") or {}).get("datapackage")
            if item.get("type") != "dataset" or not datapackage:
                raise workspace.WorkspaceError(409, f"{data['item']!r} is not a dataset kept on this platform")
            path = await asyncio.to_thread(workspace.add_dataset, self.home, datapackage, data["project"])
        except workspace.WorkspaceError as e:
            return self.error(e.status, e.message)
        self.set_status(201)
        self.finish(json.dumps({"path": str(path)}))


def setup_handlers(server_app) -> None:
    web_app = server_app.web_app
    services = StatCommonsServices(parent=server_app)
    web_app.settings["statcommons_services"] = services
    setup_gitpull(server_app, services.library_url)
    base = web_app.settings["base_url"]
    web_app.add_handlers(
        ".*$",
        [
            (url_path_join(base, r"statcommons/(library|runner|projects)/(.*)"), ProxyHandler),
            (url_path_join(base, "statcommons/workspace/open-notebook"), OpenNotebookHandler),
            (url_path_join(base, "statcommons/workspace/projects"), ProjectsHandler),
            (url_path_join(base, "statcommons/workspace/add-dataset"), AddDatasetHandler),
        ],
    )
