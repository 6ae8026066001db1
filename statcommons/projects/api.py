"""The REST API of the projects service, under ``{prefix}api/``: each endpoint declared on its handler.

``projects`` (list, create), ``projects/{name}`` (read, change, delete),
``projects/{name}/members/{user}`` (add or change a role, remove), ``projects/{name}/server``
(the project's collaboration server: status, start, stop), ``user`` (who the caller is, with
their notices) and ``notices/{id}`` (dismiss one).

Handlers are thin: they check that someone is logged in and call
:class:`~statcommons.projects.core.Projects`, which checks the rest (who may do what, the bodies
against the models of :mod:`.models`, so that the command line is refused in the same words) and
refuses with a :class:`~statcommons.projects.core.ProjectError`. The declarations (:data:`API`)
also route the paths and make the OpenAPI document, whose server is the API's folder
(``{prefix}api``, :data:`ROOT`). Errors are JSON ``{"status", "message"}``, with ``errors`` (each a
``path`` naming the field and a ``message``) when the request has problems; never a redirect. A
project that the caller is not a member of answers 404, whether or not it exists.
"""

from __future__ import annotations

from ..kit.endpoints import Api
from ..kit.web import ApiError, JsonApiHandler
from .access import USE, Caller
from .core import ProjectError, Projects
from .models import NAME_SCHEMA, Deleted, Membership, NewProject, Project, ProjectChange, ProjectList, Server, UserInfo

#: Where the API is, under the service's prefix: the paths below are declared relative to it.
ROOT = "api/"

API = Api(
    "projects",
    title="StatCommons projects",
    description="Project spaces: members, shared folders (~/projects/<name>) and collaboration servers. "
    "Send a hub token (Authorization: token ...). A project the caller is not a member of answers 404.",
    root="",
)
PROJECT = {"name": NAME_SCHEMA}
MEMBER = {"name": NAME_SCHEMA, "user": str}
NOTICE = {"id": {"type": "string", "pattern": "^[0-9]+$"}}

NOT_ALLOWED = "not allowed: not an owner, or not allowed to use or create projects"
NO_PROJECT = "no such project among the caller's (non-members get 404 too)"
UNAVAILABLE = "the hub, the engine or the project servers are not available"


class BaseHandler(JsonApiHandler):
    """The caller, and :class:`Projects` answering in JSON."""

    caller_class = Caller

    @property
    def projects(self) -> Projects:
        return self.settings["projects"]

    @property
    def prefix(self) -> str:
        return self.settings["prefix"]

    def user(self) -> Caller:
        return self.logged_in()

    async def answer(self, awaitable, status: int = 200) -> None:
        try:
            result = await awaitable
        except ProjectError as e:
            raise ApiError(e.status, e.message, e.errors) from None
        if result is None:
            self.set_status(204)
            self.finish()
        else:
            self.write_json(result, status)


class ProjectsHandler(BaseHandler):
    """``GET api/projects``: the caller's projects; ``POST``: create one."""

    @API.get(
        "/projects",
        "the caller's projects (every project for admins)",
        scope=USE,
        responses={200: ProjectList, 503: UNAVAILABLE},
    )
    async def get(self) -> None:
        caller = self.user()
        try:
            found = await self.projects.list(caller)
        except ProjectError as e:
            raise ApiError(e.status, e.message, e.errors) from None
        self.write_json({"projects": found})

    @API.post(
        "/projects",
        "create a project; the caller owns it",
        scope=USE,
        body=NewProject,
        responses={
            201: Project,
            403: NOT_ALLOWED,
            404: "an owner is no hub user",
            409: "the name is taken (a project, a hub group or user, a volume), or the caller owns as many "
            "projects as one person may",
            503: UNAVAILABLE,
        },
    )
    async def post(self) -> None:
        caller = self.user()
        await self.answer(self.projects.create(caller, self.json_body()), 201)


class ProjectHandler(BaseHandler):
    """``GET api/projects/{name}``; ``PATCH`` changes the title or description; ``DELETE`` archives and removes it."""

    @API.get(
        "/projects/{name}",
        "one project",
        scope=USE,
        parameters=PROJECT,
        responses={200: Project, 404: NO_PROJECT, 503: UNAVAILABLE},
    )
    async def get(self, name: str) -> None:
        await self.answer(self.projects.get(self.user(), name))

    @API.patch(
        "/projects/{name}",
        "change the title or description (owners)",
        scope=USE,
        parameters=PROJECT,
        body=ProjectChange,
        responses={200: Project, 403: NOT_ALLOWED, 404: NO_PROJECT, 503: UNAVAILABLE},
    )
    async def patch(self, name: str) -> None:
        caller = self.user()
        await self.answer(self.projects.update(caller, name, self.json_body()))

    @API.delete(
        "/projects/{name}",
        "archive the files, then remove the project (owners)",
        scope=USE,
        parameters=PROJECT,
        responses={
            200: Deleted,
            403: NOT_ALLOWED,
            404: NO_PROJECT,
            409: "servers have the project's folder mounted",
            503: UNAVAILABLE,
        },
    )
    async def delete(self, name: str) -> None:
        await self.answer(self.projects.delete(self.user(), name))


class MemberHandler(BaseHandler):
    """``PUT api/projects/{name}/members/{user}``: add a member or change a role; ``DELETE`` removes them."""

    @API.put(
        "/projects/{name}/members/{user}",
        "add a member, or change a member's role (owners)",
        scope=USE,
        parameters=MEMBER,
        body=Membership,
        body_required=False,
        responses={
            200: Project,
            403: NOT_ALLOWED,
            404: f"{NO_PROJECT}, or no such hub user",
            409: "the last owner cannot become a member",
            503: UNAVAILABLE,
        },
    )
    async def put(self, name: str, username: str) -> None:
        caller = self.user()
        body = self.json_body() if self._received else {}
        await self.answer(self.projects.set_member(caller, name, username, body))

    @API.delete(
        "/projects/{name}/members/{user}",
        "remove a member (owners), or leave (the member)",
        scope=USE,
        parameters=MEMBER,
        responses={
            204: "removed",
            403: NOT_ALLOWED,
            404: f"{NO_PROJECT}, or the user is not a member",
            409: "the last owner cannot leave",
            503: UNAVAILABLE,
        },
    )
    async def delete(self, name: str, username: str) -> None:
        await self.answer(self.projects.remove_member(self.user(), name, username))


class ServerHandler(BaseHandler):
    """``GET api/projects/{name}/server``: the collaboration server's state; ``POST`` starts it, ``DELETE`` stops it."""

    @API.get(
        "/projects/{name}/server",
        "the collaboration server's state",
        scope=USE,
        parameters=PROJECT,
        responses={200: Server, 404: NO_PROJECT, 503: UNAVAILABLE},
    )
    async def get(self, name: str) -> None:
        await self.answer(self.projects.server_status(self.user(), name))

    @API.post(
        "/projects/{name}/server",
        "start the collaboration server (members)",
        scope=USE,
        parameters=PROJECT,
        responses={200: Server, 404: NO_PROJECT, 409: "the server cannot start now", 503: UNAVAILABLE},
    )
    async def post(self, name: str) -> None:
        await self.answer(self.projects.start_server(self.user(), name))

    @API.delete(
        "/projects/{name}/server",
        "stop the collaboration server (members)",
        scope=USE,
        parameters=PROJECT,
        responses={204: "stopped", 404: NO_PROJECT, 503: UNAVAILABLE},
    )
    async def delete(self, name: str) -> None:
        await self.answer(self.projects.stop_server(self.user(), name))


class UserHandler(BaseHandler):
    """``GET api/user``: who the caller is and what they may do."""

    @API.get("/user", "who the caller is, what they may do, and their notices", responses={200: UserInfo})
    def get(self) -> None:
        caller = self.user()
        options = self.projects.options
        self.write_json(
            {
                "name": caller.name,
                "admin": caller.admin,
                "can_use": caller.can_use,
                "create_group": options.create_group,
                "max_projects_per_user": options.max_projects_per_user,
                "notices": self.projects.notices(caller),
            }
        )


class NoticeHandler(BaseHandler):
    """``DELETE api/notices/{id}``: dismiss one of the caller's notices."""

    @API.delete(
        "/notices/{id}",
        "dismiss one of the caller's notices (a server restarted without a project, say)",
        parameters=NOTICE,
        responses={204: "dismissed", 404: "the caller has no such notice"},
    )
    def delete(self, notice_id: str) -> None:
        try:
            self.projects.dismiss(self.user(), notice_id)
        except ProjectError as e:
            raise ApiError(e.status, e.message, e.errors) from None
        self.set_status(204)
        self.finish()
