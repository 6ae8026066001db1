"""The projects API's pure parts: its request models (a 422 naming each wrong field) and its OpenAPI document."""

from __future__ import annotations

import asyncio
import re

import pytest

from statcommons.kit import openapi
from statcommons.kit.validation import validate
from statcommons.kit.web import ApiError
from statcommons.projects import api, app
from statcommons.projects.access import Caller
from statcommons.projects.core import ProjectError, Projects
from statcommons.projects.models import Membership, NewProject, ProjectChange

PREFIX = "/services/projects/"


def refused(model, data) -> ApiError:
    with pytest.raises(ApiError) as info:
        validate(model, data)
    assert info.value.status_code == 422
    return info.value


@pytest.mark.parametrize(
    "body, path, message",
    [
        ({"name": "Survey"}, "name", "'Survey' is not allowed: use lowercase letters, digits and inner hyphens"),
        ({"name": "-x"}, "name", "'-x' is not allowed"),
        ({"name": "a" * 41}, "name", repr("a" * 41) + " is 41 characters long: at most 40 are allowed"),
        ({"title": "no name"}, "name", "a project name is required"),
        ({"name": "   "}, "name", "'   ' is not allowed"),
        ({"name": 12}, "name", "expected a string, not 12"),
        ({"name": None}, "name", "expected a string, not None"),
        ({"name": "ok", "colour": "red"}, "colour", "unknown field: allowed fields are name, title, description"),
        ({"name": "ok", "title": 5}, "title", "expected a string, not 5"),
        ({"name": "ok", "title": " "}, "title", "a title cannot be empty"),
        ({"name": "ok", "title": "t" * 201}, "title", "201 characters: at most 200 are allowed"),
        ({"name": "ok", "description": "x" * 6000}, "description", "6000 characters: at most 5000 are allowed"),
        (["a"], "", "expected an object"),
    ],
)
def test_a_bad_new_project_is_refused_naming_the_field(body, path, message):
    error = refused(NewProject, body)
    assert error.errors[0]["path"] == path and message in error.errors[0]["message"]
    assert error.message.startswith(f"{path}: " if path else "")


def test_a_new_project_is_named_and_its_title_trimmed():
    project = validate(NewProject, {"name": "survey", "title": "  Labour force  "})
    assert (project.name, project.title, project.description) == ("survey", "Labour force", None)


@pytest.mark.parametrize(
    "body, path",
    [
        ({"title": ""}, "title"),
        ({"title": None}, "title"),
        ({"name": "renamed"}, "name"),
        ({"description": 1}, "description"),
    ],
)
def test_a_bad_change_is_refused_naming_the_field(body, path):
    assert refused(ProjectChange, body).errors[0]["path"] == path


def test_a_change_holds_only_what_was_given():
    assert validate(ProjectChange, {"description": "quarterly"}).model_dump(exclude_unset=True) == {
        "description": "quarterly"
    }


def test_a_role_is_owner_or_member():
    assert validate(Membership, {}).role == "member"
    assert validate(Membership, {"role": "owner"}).role == "owner"
    error = refused(Membership, {"role": "boss"})
    assert error.message == "role: 'boss' is not a role: use owner or member"
    assert refused(Membership, {"role": "owner", "extra": 1}).errors[0]["path"] == "extra"
    assert refused(Membership, {"role": 1}).errors[0]["path"] == "role"


def test_the_command_line_is_refused_in_the_same_words_before_anything_is_asked():
    # No store, hub or engine: the body is checked first.
    projects = Projects(None, None, None)
    with pytest.raises(ProjectError) as info:
        asyncio.run(projects.create(Caller.operator(), {"name": "ok", "colour": "red"}))
    assert info.value.status == 422 and info.value.errors[0]["path"] == "colour"
    with pytest.raises(ProjectError) as info:
        asyncio.run(projects.set_member(Caller.operator(), "ok", "ana", {"role": "boss"}))
    assert (info.value.status, info.value.message) == (422, "role: 'boss' is not a role: use owner or member")


DECLARED = {
    "/openapi.json": {"get"},
    "/projects": {"get", "post"},
    "/projects/{name}": {"get", "patch", "delete"},
    "/projects/{name}/members/{user}": {"put", "delete"},
    "/projects/{name}/server": {"get", "post", "delete"},
    "/user": {"get"},
    "/notices/{id}": {"delete"},
}


def test_the_document_lists_every_route_with_its_methods():
    document = openapi.document(api.API, PREFIX + api.ROOT)
    assert document["servers"] == [{"url": "/services/projects/api"}]
    assert {path: set(operations) for path, operations in document["paths"].items()} == DECLARED
    operations = {(p, m): o for p, ops in document["paths"].items() for m, o in ops.items()}
    assert "401" not in operations["/openapi.json", "get"]["responses"]
    assert operations["/openapi.json", "get"]["security"] == []
    for (path, method), operation in operations.items():
        if path != "/openapi.json":
            assert "401" in operation["responses"], (path, method)
        if "requestBody" in operation:
            assert {"400", "413", "422"} <= set(operation["responses"]), (path, method)
    assert operations["/projects/{name}/members/{user}", "put"]["requestBody"]["required"] is False
    assert operations["/projects", "post"]["requestBody"]["required"] is True
    new = document["components"]["schemas"]["NewProject"]
    assert new["required"] == ["name"] and new["additionalProperties"] is False
    name = operations["/projects/{name}", "get"]["parameters"][0]
    assert name["name"] == "name" and name["schema"]["maxLength"] == 40


def test_each_declared_operation_is_answered_by_the_routes_of_the_app():
    routes = app.handlers(PREFIX)
    for endpoint in api.API.endpoints:
        path = PREFIX + "api" + re.sub(r"\{[^}]+\}", "survey", endpoint.path)
        handler = next(handler for pattern, handler in routes if re.fullmatch(pattern, path))
        assert handler is endpoint.handler and endpoint.method.lower() in vars(handler), endpoint.path
