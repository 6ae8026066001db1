"""The projects' store on SQLite and on a real PostgreSQL server: owners, archives, names used again."""

from __future__ import annotations

import pytest

from statcommons.projects.store import Store
from tests import pgserver


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request, tmp_path):
    if request.param == "sqlite":
        store = Store(f"sqlite:///{tmp_path / 'projects.sqlite'}")
        yield store
        store.close()
        return
    if pgserver.missing():
        pytest.fail(f"the PostgreSQL server is not installed: {pgserver.missing()} is missing (make postgres-deps)")
    with pgserver.running("projects") as server:
        store = Store(pgserver.url(server))
        yield store
        store.close()


def test_a_project_with_its_owners(store):
    row = store.add("survey", "Labour force survey", "LFS", created_by="ana", owner_names=["ana", "bob", "ana"])
    assert row["owners"] == ["ana", "bob"]
    assert row["created"].endswith("Z") and row["archived"] is None
    assert store.get("survey")["title"] == "Labour force survey"
    assert [p["name"] for p in store.live()] == ["survey"]
    assert store.owned_by("ana") == 1 and store.owned_by("carol") == 0
    store.set_owner(row["id"], "bob", False)
    store.set_owner(row["id"], "carol", True)
    assert store.get("survey")["owners"] == ["ana", "carol"]
    store.update(row["id"], title="LFS", description="quarterly")
    assert (store.get("survey")["title"], store.get("survey")["description"]) == ("LFS", "quarterly")


def test_an_archived_project_frees_its_name_and_keeps_its_archive(store):
    first = store.add("census", "Census", "", created_by="ana", owner_names=["ana"])
    store.archive(first["id"], "/var/archive/census-20260101T000000Z.tar.gz")
    assert store.get("census") is None and store.live() == [] and store.owned_by("ana") == 0
    earlier = store.by_archive("/var/archive/census-20260101T000000Z.tar.gz")
    assert earlier["owners"] == ["ana"] and earlier["archived"].endswith("Z")
    second = store.add("census", "Census again", "", created_by="bob", owner_names=["bob"])
    assert store.get("census")["id"] == second["id"] != first["id"]
    assert [p["name"] for p in store.archived()] == ["census"]
    store.forget(second["id"])
    assert store.get("census") is None
