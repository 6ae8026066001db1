"""The library item model: GSBPM, topics, good and bad example items, nbgitpuller links, the folder loader."""

import re
import subprocess
import sys
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import jsonschema
import pytest
import yaml

from statcommons.library import files, gsbpm, schema

EXAMPLES = Path(__file__).parent / "examples"
GOOD = sorted((EXAMPLES / "good").glob("*.yaml"))
BAD = sorted((EXAMPLES / "bad").glob("*.yaml"))
SUBPROCESS_COUNTS = {"1": 6, "2": 6, "3": 7, "4": 4, "5": 8, "6": 5, "7": 5, "8": 3}


@pytest.fixture(scope="module")
def good():
    return files.load_folder(EXAMPLES / "good")


@pytest.fixture(scope="module")
def bad():
    return files.load_folder(EXAMPLES / "bad")


def test_gsbpm_has_8_phases_and_44_subprocesses():
    assert list(gsbpm.PHASES) == [str(n) for n in range(1, 9)]
    assert len(gsbpm.SUBPROCESSES) == 44
    assert all(name.strip() == name and name for name in [*gsbpm.PHASES.values(), *gsbpm.SUBPROCESSES.values()])


@pytest.mark.parametrize("phase", sorted(SUBPROCESS_COUNTS))
def test_gsbpm_subprocesses_are_contiguous_per_phase(phase):
    expected = [f"{phase}.{n}" for n in range(1, SUBPROCESS_COUNTS[phase] + 1)]
    assert gsbpm.subprocesses_of(phase) == expected
    assert [code for code in gsbpm.SUBPROCESSES if code.startswith(f"{phase}.")] == expected


def test_gsbpm_keeps_the_5_1_names_that_5_2_changed():
    assert gsbpm.SUBPROCESSES["1.5"] == "Check data availability"
    assert gsbpm.SUBPROCESSES["2.2"] == "Design variable descriptions"
    assert gsbpm.SUBPROCESSES["7.3"] == "Manage release of dissemination products"
    assert gsbpm.SUBPROCESSES["7.5"] == "Manage user support"


def test_gsbpm_helpers():
    assert gsbpm.is_valid("5") and gsbpm.is_valid("5.1") and gsbpm.is_valid("8.3")
    for code in ("0", "9", "5.9", "5.", "5.1.1", " 5.1", "", 5, 5.1, None):
        assert not gsbpm.is_valid(code)
    assert gsbpm.phase_of("5.1") == "5"
    assert gsbpm.phase_of("7") == "7"
    assert gsbpm.name("5.1") == "Integrate data"
    assert gsbpm.name("1") == "Specify Needs"
    with pytest.raises(ValueError, match="'5.9' is not a GSBPM 5.1"):
        gsbpm.phase_of("5.9")


def test_topics_are_a_small_vocabulary_of_slugs():
    topics = schema.topics()
    assert 20 <= len(topics) <= 30
    for slug, label in topics.items():
        assert re.match(schema.SLUG_PATTERN, slug), slug
        assert isinstance(label, str) and label.strip(), slug


def test_schema_is_valid_draft_2020_12_with_a_version():
    jsonschema.Draft202012Validator.check_schema(schema.SCHEMA)
    assert schema.SCHEMA["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema.SCHEMA["$id"].endswith("/library-item/" + schema.SCHEMA["version"])
    assert schema.SCHEMA["additionalProperties"] is False


def test_every_type_has_an_example():
    types = {yaml.safe_load(path.read_text())["type"] for path in GOOD}
    assert types == set(schema.TYPES)


@pytest.mark.parametrize("path", GOOD, ids=lambda p: p.stem)
def test_good_examples_validate(path, good):
    items, problems = good
    assert [line for line in problems if f"/{path.name}:" in line] == []
    assert path.stem in [item["id"] for item in items]


@pytest.mark.parametrize("path", BAD, ids=lambda p: p.stem)
def test_bad_examples_name_their_error(path, bad):
    expected = path.read_text().splitlines()[0].removeprefix("# error: ")
    items, problems = bad
    lines = [line for line in problems if line.startswith(f"tests/library/examples/bad/{path.name}: ")]
    assert any(expected in line for line in lines), lines
    assert all("\n" not in line for line in lines)
    assert path.stem not in [item["id"] for item in items]


def test_problems_name_the_field_path():
    item = {"id": "x-1", "type": "publication", "title": "T", "summary": "S", "links": [{"url": "https://a.org"}, {}]}
    assert schema.validate_item(item) == [schema.Problem("links[1].url", "missing: required")]
    assert str(schema.Problem("", "expected a mapping")) == "top level: expected a mapping"


def test_defaults_of_curated_files(good):
    items, _ = good
    item = next(item for item in items if item["id"] == "synthetic-census-sample")
    assert item["status"] == "published"
    assert item["provenance"] == {"source": "local"}
    draft = next(item for item in items if item["id"] == "shared-record-linkage-notebook")
    assert draft["status"] == "draft"


def test_dates_stay_as_written(good):
    items, _ = good
    item = next(item for item in items if item["id"] == "ml-coding-occupations-report")
    assert item["created"] == "2024-03-01"
    assert item["updated"] == "2024-04-15T10:30:00Z"


def _notebook(**notebook):
    return {"id": "nb-1", "type": "notebook", "title": "T", "summary": "S", "notebook": notebook}


def test_nbgitpuller_link_is_encoded_as_nbgitpuller_documents():
    item = _notebook(repository="https://github.com/example/sae-tutorials", branch="dev/2024", path="a b/c&d?.ipynb")
    assert schema.validate_item(item) == []
    link = schema.nbgitpuller_link(item, "https://hub.example.org/")
    parts = urlsplit(link)
    assert (parts.scheme, parts.netloc, parts.path) == ("https", "hub.example.org", "/hub/user-redirect/git-pull")
    assert parse_qs(parts.query, strict_parsing=True) == {
        "repo": ["https://github.com/example/sae-tutorials"],
        "branch": ["dev/2024"],
        "urlpath": ["lab/tree/sae-tutorials/a b/c&d?.ipynb"],
    }
    assert [pair.split("=")[0] for pair in parts.query.split("&")] == ["repo", "branch", "urlpath"]
    assert not set(parts.query) & set(" /:?#")


def test_nbgitpuller_link_keeps_the_hub_prefix_and_the_clone_folder_name():
    item = _notebook(repository="https://git.example.org/group/tutorials.git/", branch="main", path="intro.ipynb")
    link = schema.nbgitpuller_link(item, "https://example.org/statcommons")
    parts = urlsplit(link)
    assert parts.path == "/statcommons/hub/user-redirect/git-pull"
    assert parse_qs(parts.query)["urlpath"] == ["lab/tree/tutorials.git/intro.ipynb"]


def test_nbgitpuller_link_needs_a_repository_and_a_hub_url():
    with pytest.raises(ValueError, match="only notebooks with a repository"):
        schema.nbgitpuller_link(_notebook(shared_path="shared-notebooks/intro.ipynb"), "https://hub.example.org")
    item = _notebook(repository="https://github.com/example/r", branch="main", path="intro.ipynb")
    with pytest.raises(ValueError, match="not an http"):
        schema.nbgitpuller_link(item, "hub.example.org")


def _write(folder: Path, name: str, item_id: str) -> None:
    (folder / name).write_text(f"id: {item_id}\ntype: publication\ntitle: T\nsummary: S\n")


def test_load_folder_finds_duplicate_ids_and_file_name_mismatches(tmp_path):
    _write(tmp_path, "first.yaml", "second")
    _write(tmp_path, "second.yaml", "second")
    _write(tmp_path, "third.yaml", "third")
    items, problems = files.load_folder(tmp_path)
    assert problems == [
        f"{tmp_path}/first.yaml: id: 'second' does not match the file name: name the file second.yaml",
        f"{tmp_path}/first.yaml: id: 'second' is also the id of {tmp_path}/second.yaml",
        f"{tmp_path}/second.yaml: id: 'second' is also the id of {tmp_path}/first.yaml",
    ]
    assert [item["id"] for item in items] == ["third"]


def test_load_folder_reports_yml_files_and_missing_folders(tmp_path):
    _write(tmp_path, "old.yml", "old")
    (tmp_path / "README.md").write_text("# Library\n")
    assert files.load_folder(tmp_path) == (
        [],
        [f"{tmp_path}/old.yml: top level: not read: items are *.yaml files, name it old.yaml"],
    )
    assert files.load_folder(tmp_path / "nope") == ([], [f"{tmp_path}/nope: folder not found"])


def test_the_curated_library_folder_is_valid():
    items, problems = files.load_folder(files.ROOT / "library")
    assert problems == []


def test_dump_item_round_trips_with_a_stable_key_order(good, tmp_path):
    items, _ = good
    for item in items:
        text = files.dump_item(item)
        assert list(yaml.safe_load(text))[:2] == ["id", "type"]
        (tmp_path / f"{item['id']}.yaml").write_text(text)
    reloaded, problems = files.load_folder(tmp_path)
    assert problems == []
    assert reloaded == items
    report = files.dump_item(next(item for item in items if item["id"] == "ml-coding-occupations-report"))
    assert "summary: |\n  How an example statistical office" in report
    assert files.dump_item({"title": "T", "zeta": 1, "alpha": 2, "id": "x"}).splitlines() == [
        "id: x",
        "title: T",
        "alpha: 2",
        "zeta: 1",
    ]


def test_cli_validate_names_file_field_and_problem(tmp_path):
    bad = sorted((EXAMPLES / "bad").glob("*.yaml"))[0]
    (tmp_path / bad.name).write_text(bad.read_text())
    result = subprocess.run(
        [sys.executable, "-m", "statcommons", "library", "validate", str(tmp_path)],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 1
    expected = bad.read_text().splitlines()[0].removeprefix("# error: ")
    assert bad.name in result.stderr and expected in result.stderr
    ok = subprocess.run([sys.executable, "-m", "statcommons", "library", "validate"], capture_output=True, text=True)
    assert ok.returncode == 0, ok.stderr


def test_byte_ranges_of_a_video():
    from statcommons.kit.web import ApiError
    from statcommons.library.service.api import byte_range

    assert byte_range(None, 100) is None
    assert byte_range("bytes=0-9", 100) == (0, 9)
    assert byte_range("bytes=90-", 100) == (90, 99)
    assert byte_range("bytes=-10", 100) == (90, 99)
    assert byte_range("bytes=-500", 100) == (0, 99)
    assert byte_range("bytes=50-5000", 100) == (50, 99)
    assert byte_range("bytes=0-1,5-9", 100) is None  # several ranges: the whole file, as HTTP allows
    assert byte_range("items=0-9", 100) is None
    for header in ("bytes=100-", "bytes=9-3", "bytes=-0"):
        with pytest.raises(ApiError) as e:
            byte_range(header, 100)
        assert e.value.status_code == 416
