"""The projects' functions when a part is missing: no collaboration module, no hub, no engine: a 503 that says so."""

from __future__ import annotations

import asyncio
import sys

import docker
import pytest

from statcommons.projects import registration
from statcommons.projects.access import Caller
from statcommons.projects.core import ProjectError, Projects
from statcommons.projects.hub import Hub
from statcommons.projects.store import Store
from statcommons.settings import validate

from ..hubtools import free_port

ANA = Caller("ana", scopes=frozenset({"custom:projects:use"}))


@pytest.fixture
def projects(tmp_path):
    hub = Hub(f"http://127.0.0.1:{free_port()}/hub/api", "not-a-token", timeout=5)
    engine = docker.APIClient(base_url=f"unix://{tmp_path / 'no-engine.sock'}", version="1.41", timeout=5)
    options = registration.options(validate({}), {})
    projects = Projects(Store(f"sqlite:///{tmp_path / 'projects.sqlite'}"), hub, options, engine=engine)
    yield projects
    projects.store.close()


def refusal(awaitable) -> ProjectError:
    with pytest.raises(ProjectError) as info:
        asyncio.run(awaitable)
    return info.value


def test_without_the_collaboration_module_the_server_endpoints_answer_503(projects, monkeypatch):
    import statcommons.projects

    monkeypatch.setitem(sys.modules, "statcommons.projects.collab", None)  # import fails
    monkeypatch.delattr(statcommons.projects, "collab", raising=False)  # imported earlier by other tests
    with pytest.raises(ProjectError) as info:
        projects._servers()
    assert (info.value.status, info.value.message) == (503, "project servers are not available")
    assert projects._servers(required=False) is None


def test_without_the_hub_a_503_names_it(projects):
    error = refusal(projects.list(ANA))
    assert error.status == 503 and "the hub does not answer at 127.0.0.1:" in error.message


def test_a_caller_without_the_scope_is_refused_before_anything_else(projects):
    error = refusal(projects.list(Caller("mallory")))
    assert (error.status, error.message) == (403, "mallory may not use projects: ask an administrator for access")


def test_bad_input_is_refused_before_the_hub_is_asked(projects):
    error = refusal(projects.create(ANA, {"name": "Bad Name"}))
    assert error.status == 422 and error.errors == [
        {"path": "name", "message": "'Bad Name' is not allowed: use lowercase letters, digits and inner hyphens, "
         "at most 40 characters (a DNS label)"}
    ]  # fmt: skip


def test_only_admins_restore(projects, tmp_path):
    error = refusal(projects.restore(ANA, tmp_path / "x.tar.gz"))
    assert (error.status, error.message) == (403, "only administrators restore projects")
    error = refusal(projects.restore(Caller.operator(), tmp_path / "x.tar.gz"))
    assert error.status == 404 and error.message.endswith("x.tar.gz: no such archive")
    (tmp_path / "y.tar.gz").write_text("not an archive")
    error = refusal(projects.restore(Caller.operator(), tmp_path / "y.tar.gz"))
    assert error.status == 422 and "not a .tar.gz archive" in error.message


def test_without_the_engine_a_503_names_it(projects):
    from statcommons.platform import volumes

    error = refusal(projects._on_engine(volumes.exists, "statcommons-project-x"))
    assert error.status == 503 and error.message.startswith("the container engine did not do it:")
