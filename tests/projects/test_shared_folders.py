"""Every server: the workspace's shared notebooks and data sets, read-only, and the services' addresses."""

from __future__ import annotations

import json

import pytest

from statcommons.settings import ROOT

from ..hubtools import FROM_CONTAINERS

pytestmark = pytest.mark.containers


@pytest.fixture(scope="module")
def ana(workspace):
    if not (workspace.hub.server("ana") or {}).get("ready"):
        workspace.start_server("ana")
    return "ana"


def test_shared_notebooks_and_datasets_are_listed_in_the_home(workspace, ana):
    home = workspace.listing(ana)
    assert {"shared-notebooks", "datasets", "projects"} <= home
    datasets = {p.name for p in (ROOT / "datasets").iterdir() if not p.name.startswith(".")}
    assert workspace.listing(ana, "datasets") == datasets
    notebooks = {p.name for p in (ROOT / "shared-notebooks").iterdir() if not p.name.startswith(".")}
    assert workspace.listing(ana, "shared-notebooks") == notebooks
    r = workspace.contents(ana, "GET", "datasets/README.md")
    assert r.status_code == 200
    assert r.json()["content"] == (ROOT / "datasets" / "README.md").read_text()


@pytest.mark.parametrize("folder", ["datasets", "shared-notebooks"])
def test_shared_folders_refuse_writes(workspace, ana, folder):
    body = {"type": "file", "format": "text", "content": "mine now"}
    r = workspace.contents(ana, "PUT", f"{folder}/written-by-ana.txt", json=body)
    assert r.status_code >= 400, r.text
    assert "written-by-ana.txt" not in workspace.listing(ana, folder)
    code, output = workspace.exec(ana, ["touch", f"/home/jovyan/{folder}/README.md"])
    assert code != 0, output
    code, mounts = workspace.exec(ana, ["cat", "/proc/mounts"])
    options = [line.split()[3].split(",") for line in mounts.splitlines() if line.split()[1] == f"/mnt/{folder}"]
    assert options and "ro" in options[0], mounts


def test_nothing_in_the_home_belongs_to_anyone_else(workspace, ana):
    code, output = workspace.exec(ana, ["find", "/home/jovyan", "-xdev", "!", "-uid", "1000"])
    assert code == 0, output
    assert output.strip() == ""


def test_the_server_knows_where_the_services_are(workspace, ana):
    script = (
        "import json, os, urllib.request\n"
        "urls = {k: v for k, v in os.environ.items() if k.endswith('_URL') and k.startswith('STATCOMMONS_')}\n"
        "codes = {k: urllib.request.urlopen(v + 'api/openapi.json', timeout=10).status for k, v in urls.items()}\n"
        "print(json.dumps({'urls': urls, 'codes': codes}))\n"
    )
    code, output = workspace.exec(ana, ["python", "-c", script])
    assert code == 0, output
    found = json.loads(output)
    hub = workspace.hub
    assert found["urls"] == {
        "STATCOMMONS_LIBRARY_URL": f"http://{FROM_CONTAINERS}:{hub.port}/services/library/",
        "STATCOMMONS_RUNNER_URL": f"http://{FROM_CONTAINERS}:{hub.port}/services/runner/",
        "STATCOMMONS_PROJECTS_URL": f"http://{FROM_CONTAINERS}:{hub.port}/services/projects/",
    }
    assert found["codes"] == dict.fromkeys(found["urls"], 200)
