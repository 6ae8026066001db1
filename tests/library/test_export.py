"""``statcommons library export``: the items of a real SQLite catalogue written back as curated files, or as DCAT-AP."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import rdflib
import yaml

from statcommons.__main__ import main
from statcommons.library import files
from statcommons.library.store import Store

DCAT = rdflib.Namespace("http://www.w3.org/ns/dcat#")


@pytest.fixture
def catalogue(tmp_path, items):
    """A SQLite file with two curated items (loaded from a folder) and the others added through the store."""
    url = f"sqlite:///{tmp_path / 'library.db'}"
    store = Store(url)
    curated = tmp_path / "curated-source"
    curated.mkdir()
    for entry in items[:2]:
        (curated / f"{entry['id']}.yaml").write_text(files.dump_item(entry), encoding="utf-8")
    assert store.load_folder(curated)["problems"] == []
    for n, entry in enumerate(items[2:]):
        store.add(entry, submitter="ana", status=("published", "submitted", "rejected")[n % 3])
    store.update(items[2]["id"], {"updated": "2030-01-02T03:04:05Z"})
    yield store, url
    store.close()


def export(*args: str) -> int:
    return main(["library", "export", *args])


def snapshot(folder: Path) -> dict[str, tuple[str, int]]:
    return {path.name: (path.read_text(encoding="utf-8"), path.stat().st_mtime_ns) for path in folder.glob("*.yaml")}


def test_items_added_through_the_store_round_trip_through_the_folder(catalogue, tmp_path, capsys):
    store, url = catalogue
    out = tmp_path / "library"
    assert export("--database", url, "--to", str(out)) == 0
    submitted = store.export(origin="api")
    loaded, problems = files.load_folder(out)
    assert problems == []
    assert loaded == submitted
    assert {entry["id"] for entry in loaded}.isdisjoint(entry["id"] for entry in store.export(origin="folder"))
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == len(submitted) + 1 and all(line.endswith(": added") for line in lines[:-1])
    assert lines[-1].startswith(f"{len(submitted)} items submitted through the library service in sqlite:///")
    assert lines[-1].endswith(f": {len(submitted)} added, 0 updated, 0 unchanged, 0 not written")


def test_exporting_again_changes_nothing(catalogue, tmp_path, capsys):
    _, url = catalogue
    out = tmp_path / "library"
    export("--database", url, "--to", str(out))
    before = snapshot(out)
    capsys.readouterr()
    assert export("--database", url, "--to", str(out)) == 0
    assert snapshot(out) == before
    assert (
        capsys.readouterr()
        .out.splitlines()[-1]
        .endswith(f": 0 added, 0 updated, {len(before)} unchanged, 0 not written")
    )


def test_a_file_that_differs_is_kept_unless_forced(catalogue, tmp_path, capsys):
    store, url = catalogue
    out = tmp_path / "library"
    export("--database", url, "--to", str(out))
    changed = out / f"{store.export(origin='api')[0]['id']}.yaml"
    changed.write_text(changed.read_text(encoding="utf-8").replace("title:", "title: Edited", 1), encoding="utf-8")
    edited = changed.read_text(encoding="utf-8")
    reformatted = out / f"{store.export(origin='api')[1]['id']}.yaml"
    reformatted.write_text("# kept by hand\n" + reformatted.read_text(encoding="utf-8"), encoding="utf-8")
    capsys.readouterr()
    assert export("--database", url, "--to", str(out)) == 1
    output = capsys.readouterr()
    assert (
        f"{changed.name}: not written: the file differs from the item in the database; --force replaces it"
        in output.out
    )
    assert changed.read_text(encoding="utf-8") == edited
    assert reformatted.read_text(encoding="utf-8").startswith("# kept by hand")  # same item, other text
    assert "some files were not written" in output.err
    assert export("--database", url, "--to", str(out), "--force") == 0
    assert f"{changed.name}: updated" in capsys.readouterr().out
    assert files.load_folder(out)[0] == store.export(origin="api")


def test_all_writes_the_curated_items_too(catalogue, tmp_path):
    store, url = catalogue
    out = tmp_path / "everything"
    assert export("--database", url, "--to", str(out), "--all") == 0
    assert files.load_folder(out) == (store.export(), [])


def test_a_missing_database_is_not_created(tmp_path, capsys):
    missing = tmp_path / "nothing.db"
    with pytest.raises(SystemExit) as stopped:
        export("--database", f"sqlite:///{missing}", "--to", str(tmp_path / "out"))
    assert stopped.value.code == 1
    assert "no library database there" in capsys.readouterr().err
    assert not missing.exists() and not (tmp_path / "out").exists()


def test_the_catalogue_as_dcat_ap(catalogue, tmp_path, capsys):
    store, url = catalogue
    base = "https://hub.example.org/services/library/"
    assert export("--database", url, "--format", "turtle", "--base-url", base) == 0
    graph = rdflib.Graph().parse(data=capsys.readouterr().out, format="turtle")
    published = {entry["id"] for entry in store.export() if entry["status"] == "published"}
    datasets = set(graph.objects(rdflib.URIRef(f"{base}catalogue"), DCAT.dataset))
    assert datasets == {rdflib.URIRef(f"{base}items/{item_id}") for item_id in published}
    target = tmp_path / "catalogue.jsonld"
    assert export("--database", url, "--format", "jsonld", "--to", str(target), "--base-url", base.rstrip("/")) == 0
    assert len(rdflib.Graph().parse(target, format="json-ld")) == len(graph)
    assert export("--database", url, "--format", "jsonld", "--to", str(target), "--base-url", base) == 0
    assert capsys.readouterr().out.splitlines()[-1].startswith(f"{target}: unchanged")
    assert export("--database", url, "--format", "turtle", "--to", str(target), "--base-url", base) == 1
    assert json.loads(target.read_text(encoding="utf-8"))["@context"]


def run_cli(*args: str, settings_file: Path, cwd: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "STATCOMMONS_SETTINGS": str(settings_file)}
    env.pop("STATCOMMONS_LIBRARY_DB", None)
    return subprocess.run(
        [sys.executable, "-m", "statcommons", "library", "export", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_the_command_reads_the_database_and_folder_of_the_settings(catalogue, tmp_path):
    store, url = catalogue
    folder = tmp_path / "curated"
    settings_file = tmp_path / "statcommons.yaml"
    settings_file.write_text(
        yaml.safe_dump(
            {
                "state_dir": str(tmp_path / "state"),
                "hub": {"public_url": "https://stats.example.org", "base_url": "/hub/"},
                "library": {"database": url, "folder": str(folder)},
            }
        ),
        encoding="utf-8",
    )
    done = run_cli(settings_file=settings_file, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    submitted = store.export(origin="api")
    assert done.stdout.splitlines()[0] == f"curated/{submitted[0]['id']}.yaml: added"
    assert files.load_folder(folder) == (submitted, [])
    again = run_cli(settings_file=settings_file, cwd=tmp_path)
    assert again.returncode == 0 and f"{len(submitted)} unchanged" in again.stdout
    turtle = run_cli("--format", "turtle", settings_file=settings_file, cwd=tmp_path)
    assert turtle.returncode == 0, turtle.stderr
    graph = rdflib.Graph().parse(data=turtle.stdout, format="turtle")
    assert (rdflib.URIRef("https://stats.example.org/hub/services/library/catalogue"), None, None) in graph
    assert "published items as DCAT-AP (turtle)" in turtle.stderr


def test_the_default_database_in_the_state_folder_is_found_without_a_hub(tmp_path, items):
    state = tmp_path / "state"
    state.mkdir()
    store = Store(f"sqlite:///{state / 'library.sqlite'}")
    store.add(items[0], submitter="ana")
    store.close()
    settings_file = tmp_path / "statcommons.yaml"
    out = tmp_path / "out"
    settings_file.write_text(
        yaml.safe_dump({"state_dir": str(state), "library": {"folder": str(out)}}), encoding="utf-8"
    )
    done = run_cli(settings_file=settings_file, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[-1].startswith(
        f"1 items submitted through the library service in sqlite:///{state}"
    )
    assert [path.name for path in out.iterdir()] == [f"{items[0]['id']}.yaml"]
