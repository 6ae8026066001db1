"""The living library on a fresh hub: the notebooks it ships run by themselves, and everyone sees how they went.

A hub with the default ``runner.rerun_library_every`` (a week) and a small catalogue: a shipped
tutorial (run as it is, from the repository's shared-notebooks/ and datasets/) and a notebook that
needs a package no image has. Within minutes of the start, with nobody asking, both have run as
the library's own runs; the API, the library's pages, the curators' list of failing notebooks and
the JupyterLab panel say how each went, and the missing package is named as such.
"""

from __future__ import annotations

import json
import shutil

import pytest
import requests
import yaml
from playwright.sync_api import expect

from ..hubtools import ROOT, wait_for
from .conftest import extension_hub
from .test_extension import open_library, search

pytestmark = [pytest.mark.browser, pytest.mark.containers]

TUTORIAL = "tutorial-disclosure-control"
NEEDS_PYMC = "needs-pymc"
CODE = {"cell_type": "code", "metadata": {}, "outputs": [], "execution_count": None}
NOTEBOOK = {
    "nbformat": 4,
    "nbformat_minor": 5,
    "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}},
    "cells": [
        {"cell_type": "markdown", "id": "m0", "metadata": {}, "source": "A model with PyMC."},
        {**CODE, "id": "c1", "source": "x = 1"},
        {**CODE, "id": "c2", "source": "import pymc"},
    ],
}


@pytest.fixture(scope="module")
def living_hub(engine, tmp_path_factory):
    work = tmp_path_factory.mktemp("livinghub")
    shared = work / "shared-notebooks"
    shutil.copytree(ROOT / "shared-notebooks" / "disclosure-control", shared / "disclosure-control")
    (shared / "pymc").mkdir()
    (shared / "pymc" / "model.ipynb").write_text(json.dumps(NOTEBOOK))
    library = work / "library"
    library.mkdir()
    shutil.copy(ROOT / "library" / f"{TUTORIAL}.yaml", library)
    item = {
        "id": NEEDS_PYMC,
        "type": "notebook",
        "status": "published",
        "title": "A Bayesian model that needs PyMC",
        "summary": "Imports a package the images do not have.",
        "notebook": {"shared_path": "shared-notebooks/pymc/model.ipynb"},
    }
    (library / f"{NEEDS_PYMC}.yaml").write_text(yaml.safe_dump(item, sort_keys=False))
    settings = {
        "library": {"folder": str(library)},
        "runner": {
            "rerun_library_every": 604800,  # the default, which the other test hubs turn off
            "shared_notebooks": str(shared),
            "datasets": str(ROOT / "datasets"),
        },
    }
    (work / "hub").mkdir()
    yield from extension_hub(engine, work / "hub", settings)


def test_a_fresh_hub_runs_its_notebooks_and_shows_how_they_went(living_hub):
    hub = living_hub.hub
    ana = living_hub.user("ana")
    cora = living_hub.user("cora", curator=True)

    def library(path: str, user=ana) -> requests.Response:
        headers = {"Authorization": f"token {user.token}"}
        return requests.get(f"{hub.url}/services/library/{path}", headers=headers, timeout=30)

    def ran() -> dict | None:
        runs = {i: library(f"api/items/{i}").json().get("last_run") for i in (TUTORIAL, NEEDS_PYMC)}
        return runs if all(runs.values()) else None

    runs = wait_for(ran, 300, interval=2, what="the shipped notebooks to have run by themselves")
    assert runs[TUTORIAL]["status"] == "succeeded", runs[TUTORIAL]
    failed = runs[NEEDS_PYMC]
    assert failed["status"] == "failed"
    assert failed["missing_package"] == "pymc"
    assert failed["cell"] == 2  # the markdown cell counts: the third cell as written
    assert "No module named 'pymc'" in failed["error"]

    # They are the library's own runs, which curators see with everyone's.
    r = requests.get(
        f"{hub.url}/services/runner/api/runs?user=statcommons%2Flibrary",
        headers={"Authorization": f"token {cora.token}"},
        timeout=30,
    )
    assert r.status_code == 200, r.text
    mine = {run["item"]: run for run in r.json()["runs"] if run["user"] == "statcommons/library"}
    assert set(mine) == {TUTORIAL, NEEDS_PYMC}
    assert mine[NEEDS_PYMC]["missing_package"] == "pymc"

    # The item pages say it in words.
    assert "ran successfully on " in library(f"items/{TUTORIAL}").text
    page = library(f"items/{NEEDS_PYMC}").text
    assert "failed on " in page and "in cell 3: it needs the package pymc, which its image lacks" in page

    # Curators get the list of failing notebooks; others do not.
    failing = library("api/failing", cora).json()["items"]
    assert [(f["id"], f["last_run"]["missing_package"]) for f in failing] == [(NEEDS_PYMC, "pymc")]
    assert library("api/failing").status_code == 403
    assert "1 notebook failed its latest run" in library("", cora).text
    assert "A Bayesian model that needs PyMC" in library("failing", cora).text

    # And the panel in JupyterLab.
    panel = open_library(living_hub.lab(ana))
    results = search(panel, "model")
    expect(results.locator(f'.sc-result[data-id="{NEEDS_PYMC}"]')).to_contain_text(
        "it needs the package pymc, which its image lacks"
    )
    results = search(panel, "anonymity")
    expect(results.locator(f'.sc-result[data-id="{TUTORIAL}"]')).to_contain_text("ran successfully on ")
