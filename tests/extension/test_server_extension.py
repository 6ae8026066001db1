"""The server extension's pure parts, on the host: what the proxy forwards, and the copies into the home.

The schema fixture of the jest tests is checked against the library's schema here, so that
the browser-side validation tests never drift from the service.
"""

from __future__ import annotations

import json
import os
import re
import sys
from pathlib import Path

import pytest

from statcommons.library import schema

EXTENSION = Path(__file__).resolve().parents[2] / "extensions" / "statcommons-workspace"
sys.path.insert(0, str(EXTENSION))

from statcommons_workspace import rules, workspace  # noqa: E402


@pytest.mark.parametrize(
    ("service", "path", "method"),
    [
        ("library", "api/items", "GET"),
        ("library", "api/items", "POST"),
        ("library", "api/items/tutorial-record-linkage-splink", "GET"),
        ("library", "api/items/a-b/review", "POST"),
        ("library", "api/items/a-b/rating", "PUT"),
        ("library", "api/items/a-b/comments", "POST"),
        ("library", "api/items/a-b/comments/12", "PATCH"),
        ("library", "api/items/a-b/video", "GET"),
        ("library", "api/items/a-b/notebook", "GET"),
        ("library", "api/schema", "GET"),
        ("library", "api/user", "GET"),
        ("runner", "api/runs", "POST"),
        ("runner", "api/runs/7/notebook", "GET"),
        ("runner", "api/schedules/3", "DELETE"),
        ("projects", "api/projects", "GET"),
        ("projects", "api/projects/survey", "GET"),
        ("projects", "api/projects/census-2031/server", "GET"),
        ("projects", "api/projects/census-2031/server", "POST"),
        ("projects", "api/projects/a", "GET"),
        ("projects", "api/projects/" + "a" * 40 + "/server", "POST"),
    ],
)
def test_the_calls_the_panel_makes_are_forwarded(service, path, method):
    assert rules.allowed(service, path, method) is None


@pytest.mark.parametrize(
    ("service", "path", "method", "why"),
    [
        ("library", "api/items/a-b", "DELETE", "DELETE is not allowed"),
        ("library", "api/items/a-b/video", "PUT", "PUT is not allowed"),
        ("library", "api/items/a-b/last-run", "PUT", "not a path"),  # only the runner records runs
        ("library", "api/dcat.ttl", "GET", "not a path"),
        ("library", "oauth_callback", "GET", "not a path"),
        ("library", "api/items/../../hub/api/users", "GET", "not a path"),
        ("library", "api/items/A_B", "GET", "not a path"),
        ("library", "api//items", "GET", "not a path"),
        ("runner", "api/runs/7", "PATCH", "PATCH is not allowed"),
        ("runner", "api/runs/x", "GET", "not a path"),
        ("hub", "api/users", "GET", "no such service"),
        # The projects service: reading and starting only; the rest stays on the Projects page.
        ("projects", "api/projects", "POST", "POST is not allowed"),
        ("projects", "api/projects/survey", "DELETE", "DELETE is not allowed"),
        ("projects", "api/projects/survey", "PATCH", "PATCH is not allowed"),
        ("projects", "api/projects/survey/server", "DELETE", "DELETE is not allowed"),
        ("projects", "api/projects/survey/members/bob", "PUT", "not a path"),
        ("projects", "api/user", "POST", "POST is not allowed"),
        ("projects", "api/notices/7", "GET", "GET is not allowed"),
        ("projects", "api/notices/x", "DELETE", "not a path"),
        ("projects", "api/projects/Survey", "GET", "not a path"),
        ("projects", "api/projects/-survey", "GET", "not a path"),
        ("projects", "api/projects/survey-", "GET", "not a path"),
        ("projects", "api/projects/sur_vey", "GET", "not a path"),
        ("projects", "api/projects/" + "a" * 41, "GET", "not a path"),
        ("projects", "api/projects/../../hub/api/users", "GET", "not a path"),
        ("projects", "api/projects/survey/server/", "POST", "not a path"),
        ("projects", "oauth_callback", "GET", "not a path"),
    ],
)
def test_anything_else_is_refused_with_a_reason(service, path, method, why):
    refusal = rules.allowed(service, path, method)
    assert refusal is not None and why in refusal


def test_only_starting_a_project_server_may_take_minutes():
    assert rules.slow("projects", "api/projects/survey/server", "POST")
    assert not rules.slow("projects", "api/projects/survey/server", "GET")
    assert not rules.slow("projects", "api/projects", "GET")
    assert not rules.slow("runner", "api/runs", "POST")


def test_the_token_and_cookies_are_never_passed_on_from_the_browser():
    for header in ("Authorization", "Cookie", "X-XSRFToken", "Host"):
        assert header not in rules.REQUEST_HEADERS
    assert "Set-Cookie" not in rules.RESPONSE_HEADERS
    assert "Range" in rules.REQUEST_HEADERS and "Content-Range" in rules.RESPONSE_HEADERS


@pytest.fixture
def home(tmp_path) -> Path:
    """A home like a server's: read-only shared notebooks and datasets, a project."""
    shared = tmp_path / "shared-notebooks" / "record-linkage"
    shared.mkdir(parents=True)
    (shared / "record-linkage-splink.ipynb").write_text('{"cells": []}')
    data = tmp_path / "datasets" / "synthetic-persons"
    data.mkdir(parents=True)
    (data / "datapackage.json").write_text("{}")
    (data / "census.csv").write_text("id\n1\n")
    (tmp_path / "projects" / "census-2031").mkdir(parents=True)
    for folder, _dirs, files in os.walk(tmp_path / "shared-notebooks"):
        for file in files:
            os.chmod(os.path.join(folder, file), 0o444)
    return tmp_path


def test_a_shared_tutorial_is_copied_as_deep_as_the_original_and_writable(home):
    path, created = workspace.copy_shared_notebook(home, "shared-notebooks/record-linkage/record-linkage-splink.ipynb")
    assert (str(path), created) == ("tutorials/record-linkage/record-linkage-splink.ipynb", True)
    copy = home / path
    assert copy.read_text() == '{"cells": []}'
    assert os.access(copy, os.W_OK)
    # ../../datasets from the copy is the home's datasets folder, as from the original.
    assert (copy.parent / ".." / ".." / "datasets").resolve() == (home / "datasets").resolve()


def test_an_existing_copy_is_never_overwritten(home):
    target = home / "tutorials" / "record-linkage" / "record-linkage-splink.ipynb"
    target.parent.mkdir(parents=True)
    target.write_text("my edits")
    path, created = workspace.copy_shared_notebook(home, "shared-notebooks/record-linkage/record-linkage-splink.ipynb")
    assert created is False
    assert target.read_text() == "my edits"
    assert workspace.write_new(home, path, b"other") is False
    assert target.read_text() == "my edits"


@pytest.mark.parametrize(
    ("shared_path", "status"),
    [
        ("shared-notebooks/record-linkage/missing.ipynb", 404),
        ("shared-notebooks/../../etc/passwd.ipynb", 422),
        ("/etc/passwd", 422),
        ("datasets/x/y.ipynb", 422),
        ("shared-notebooks/record-linkage/notes.txt", 422),
    ],
)
def test_bad_or_missing_shared_paths_are_refused(home, shared_path, status):
    with pytest.raises(workspace.WorkspaceError) as refused:
        workspace.copy_shared_notebook(home, shared_path)
    assert refused.value.status == status


def test_a_server_without_the_shared_mount_says_so(tmp_path):
    with pytest.raises(workspace.WorkspaceError) as refused:
        workspace.copy_shared_notebook(tmp_path, "shared-notebooks/a/b.ipynb")
    assert refused.value.status == 503 and "~/shared-notebooks" in refused.value.message


def test_attached_notebooks_go_under_the_item_id():
    assert str(workspace.attached_path("my-item", "analysis.ipynb")) == "tutorials/my-item/analysis.ipynb"
    with pytest.raises(workspace.WorkspaceError):
        workspace.attached_path("my-item", "../analysis.ipynb")


def test_a_dataset_is_added_to_a_project_once(home):
    assert workspace.projects(home) == ["census-2031"]
    path = workspace.add_dataset(home, "datasets/synthetic-persons/datapackage.json", "census-2031")
    assert str(path) == "projects/census-2031/datasets/synthetic-persons"
    assert (home / path / "census.csv").read_text() == "id\n1\n"
    (home / path / "census.csv").write_text("edited")
    with pytest.raises(workspace.WorkspaceError) as refused:
        workspace.add_dataset(home, "datasets/synthetic-persons/datapackage.json", "census-2031")
    assert refused.value.status == 409
    assert (home / path / "census.csv").read_text() == "edited"


def test_a_dataset_goes_only_into_an_existing_project(home):
    with pytest.raises(workspace.WorkspaceError) as refused:
        workspace.add_dataset(home, "datasets/synthetic-persons/datapackage.json", "../../etc")
    assert refused.value.status == 404
    with pytest.raises(workspace.WorkspaceError) as refused:
        workspace.add_dataset(home, "https://example.org/datapackage.json", "census-2031")
    assert refused.value.status == 422


def test_no_projects_folder_means_no_projects(tmp_path):
    assert workspace.projects(tmp_path) == []


def test_the_jest_schema_fixture_is_the_library_schema():
    fixture = EXTENSION / "src" / "__tests__" / "fixtures" / "item-schema.json"
    assert json.loads(fixture.read_text()) == json.loads(json.dumps(schema.SCHEMA)), (
        f"the library's item schema changed: refresh {fixture} from GET /api/schema"
    )


def _documents() -> dict[str, dict]:
    """Each service's OpenAPI document, made by the service's own code (paths relative to its base URL)."""
    from statcommons.kit import openapi as kit_openapi
    from statcommons.library.service import api as library_api
    from statcommons.projects import api as projects_api
    from statcommons.runner import api as runner_api

    return {
        "library": kit_openapi.document(library_api.API, "/services/library/"),
        "runner": kit_openapi.document(runner_api.API, "/services/runner/"),
        "projects": kit_openapi.document(projects_api.API, "/services/projects/" + projects_api.ROOT),
    }


# Values of path parameters: an item id, a number, a project name.
_SAMPLES = ("a-b", "12", "survey")


@pytest.mark.parametrize("service", sorted(rules.RULES))
def test_the_allowlist_allows_only_declared_endpoints(service):
    """Every allowed path and method is an endpoint of the service's own OpenAPI document."""
    document = _documents()[service]
    # The document's server is the service's base URL, or its api/ folder.
    root = document["servers"][0]["url"].split(f"/services/{service}", 1)[1].strip("/")
    declared = set()
    for template, operations in document["paths"].items():
        for method in operations:
            for sample in _SAMPLES:
                path = re.sub(r"\{[^}]+\}", sample, f"{root}/{template.lstrip('/')}".lstrip("/"))
                declared |= {
                    (pattern.pattern, method.upper())
                    for pattern, methods in rules.RULES[service]
                    if pattern.fullmatch(path) and method.upper() in methods
                }
    allowed = {(pattern.pattern, method) for pattern, methods in rules.RULES[service] for method in methods}
    # HEAD is answered wherever GET is (tornado), without a declaration of its own.
    allowed -= {(p, "HEAD") for p, m in allowed if m == "HEAD" and (p, "GET") in declared}
    assert allowed - declared == set()
