"""The projects service's REST API: tornado handlers over :class:`statcommons.projects.core.Projects`.

Under ``{prefix}api/``: ``projects`` (list, create), ``projects/{name}`` (read, change, delete),
``projects/{name}/members/{user}`` (add or change a role, remove), ``projects/{name}/server``
(the project's collaboration server: status, start, stop), ``user`` (who the caller is, with
their notices) and ``notices/{id}`` (dismiss one).  A project that the caller is not a member of
answers 404, whether or not it exists.
"""

from __future__ import annotations

from ..kit.web import ApiError, JsonApiHandler
from .access import Caller
from .core import ProjectError, Projects


class BaseHandler(JsonApiHandler):
    """The caller, and :class:`Projects` answering in JSON."""

    @property
    def projects(self) -> Projects:
        return self.settings["projects"]

    @property
    def prefix(self) -> str:
        return self.settings["prefix"]

    async def prepare(self) -> None:
        await super().prepare()
        self.caller = Caller.from_model(self.hub_user) if self.hub_user else None

    def user(self) -> Caller:
        if self.caller is None:
            raise ApiError(401, "not logged in: log in through the hub, or send a hub token (Authorization: token ...)")
        return self.caller

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
    async def get(self) -> None:
        caller = self.user()
        try:
            found = await self.projects.list(caller)
        except ProjectError as e:
            raise ApiError(e.status, e.message, e.errors) from None
        self.write_json({"projects": found})

    async def post(self) -> None:
        caller = self.user()
        await self.answer(self.projects.create(caller, self.json_body()), 201)


class ProjectHandler(BaseHandler):
    async def get(self, name: str) -> None:
        await self.answer(self.projects.get(self.user(), name))

    async def patch(self, name: str) -> None:
        caller = self.user()
        await self.answer(self.projects.update(caller, name, self.json_body()))

    async def delete(self, name: str) -> None:
        await self.answer(self.projects.delete(self.user(), name))


class MemberHandler(BaseHandler):
    async def put(self, name: str, username: str) -> None:
        caller = self.user()
        body = self.json_body() if self._received else {}
        await self.answer(self.projects.set_member(caller, name, username, body))

    async def delete(self, name: str, username: str) -> None:
        await self.answer(self.projects.remove_member(self.user(), name, username))


class ServerHandler(BaseHandler):
    async def get(self, name: str) -> None:
        await self.answer(self.projects.server_status(self.user(), name))

    async def post(self, name: str) -> None:
        await self.answer(self.projects.start_server(self.user(), name))

    async def delete(self, name: str) -> None:
        await self.answer(self.projects.stop_server(self.user(), name))


class UserHandler(BaseHandler):
    """``GET api/user``: who the caller is and what they may do."""

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

    def delete(self, notice_id: str) -> None:
        try:
            self.projects.dismiss(self.user(), notice_id)
        except ProjectError as e:
            raise ApiError(e.status, e.message, e.errors) from None
        self.set_status(204)
        self.finish()


class OpenAPIHandler(BaseHandler):
    """``GET api/openapi.json``: readable without logging in."""

    def get(self) -> None:
        self.write_json(self.settings["openapi"])
