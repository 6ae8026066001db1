"""The projects API's models: what a request may hold (checked) and what an answer holds (documented).

Request models check what can be checked without asking anyone: a project's name (a DNS label),
a title that is not empty, the lengths, a role. :class:`~statcommons.projects.core.Projects`
checks the rest (a name already taken, a user who does not exist, the last owner) and checks
its requests against these models too, so that the command line gets the same refusals.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator

from ..kit.validation import Body, problem
from ..platform import names

ROLES = ("owner", "member")
MAX_TITLE = 200
MAX_DESCRIPTION = 5000

#: A project's name as the document gives it (a path parameter, a field of a request and an answer).
NAME_SCHEMA = {
    "type": "string",
    "pattern": names.NAME_PATTERN,
    "maxLength": names.MAX_NAME_LENGTH,
    "description": "lowercase letters, digits and inner hyphens (a DNS label)",
}


def _name(name: str) -> str:
    message = names.name_problem(name)
    if message:
        raise problem(message)
    return name


def _title(title: str) -> str:
    if not title.strip():
        raise problem("a title cannot be empty")
    return title.strip()


# The name's length is checked by its validator, whose message names the rule in full.
ProjectName = Annotated[str, AfterValidator(_name), Field(json_schema_extra=NAME_SCHEMA)]
# An empty title is refused by its validator, in words of its own.
Title = Annotated[
    str,
    Field(max_length=MAX_TITLE, json_schema_extra={"minLength": 1, "pattern": r"\S"}),
    AfterValidator(_title),
]
Description = Annotated[str, Field(max_length=MAX_DESCRIPTION)]
Role = Literal[ROLES]


class ProjectChange(Body):
    """A project's title or description, or both (owners change them)."""

    title: Title = None
    description: Description = None


class NewProject(Body):
    """A project to create: the caller owns it."""

    model_config = ConfigDict(json_schema_extra={"required": ["name"]})
    name: ProjectName = None
    title: Title = Field(None, description="default: the name")
    description: Description = None

    @model_validator(mode="after")
    def _named(self) -> NewProject:
        if self.name is None:
            raise problem(names.name_problem(None), at="name")
        return self


class Membership(Body):
    """A member's role (the body may be left out: a member)."""

    role: Role = "member"


class Member(BaseModel):
    """Someone in the project, and their role."""

    name: str
    role: Role


class Project(BaseModel):
    """One project."""

    name: str = Field(json_schema_extra=NAME_SCHEMA)
    title: str = Field(max_length=MAX_TITLE)
    description: str = Field(max_length=MAX_DESCRIPTION)
    created: datetime
    created_by: str
    owners: list[str]
    members: list[Member] = Field(description="everyone in the project, owners included, each with their role")
    role: Role | None = Field(description="the caller's role (null: an admin who is not a member)")
    folder: str = Field(description="where members find the files: ~/projects/<name>")


class ProjectList(BaseModel):
    """The caller's projects (every project for admins), by name."""

    projects: list[Project]


class Deleted(BaseModel):
    """The project is deleted; its files are kept in an archive."""

    name: str
    archive: str | None = Field(description="the archive's file name (null: the project had no files to keep)")


class Server(BaseModel):
    """The project's collaboration server."""

    running: bool
    url: str = Field(description="the server's URL path, e.g. /user/<name>-collab/")


class Notice(BaseModel):
    """Something the caller should know: their server restarted without a project's folder, say."""

    id: int
    project: str
    message: str
    created: datetime


class UserInfo(BaseModel):
    """Who is calling, what they may do, and their notices."""

    name: str
    admin: bool = Field(description="sees and manages every project")
    can_use: bool = Field(description="may create projects and work in them")
    create_group: str | None = Field(description="only members of this hub group create projects (null: everyone)")
    max_projects_per_user: int = Field(description="how many projects one person may own")
    notices: list[Notice]
