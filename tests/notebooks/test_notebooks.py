"""The tutorials of shared-notebooks/ and the training sets of datasets/, run inside the user image.

Each notebook runs in the image the runner would give it: the image of the profile that
offers the notebook's kernel (``metadata.kernelspec.name``), as
:class:`statcommons.runner.kernels.Kernels` chooses it from the default settings, so a
Python notebook runs in ``statcommons/lab:latest`` and an R notebook (kernel ``ir``) in
``statcommons/lab-r:latest``. ``STATCOMMONS_TEST_LAB_IMAGE`` and
``STATCOMMONS_TEST_LAB_R_IMAGE`` replace these two tags with images built elsewhere (a
development build of the images, for example); the data sets are checked in the first.
One container per image, the environment users get: shared-notebooks/ and datasets/
mounted read-only where they sit in the repository (so a notebook finds
``../../datasets/<name>``), test-artifacts/notebooks/ mounted read-write for the executed
notebooks, uid 1000, the host network (no bridge), and the ulimits of the hub's settings.

- every notebook runs with papermill, with the ``test_parameters`` of its metadata
  (``"statcommons": {"test_parameters": {...}}``) injected for a quick run; a failure
  names the notebook, the failing cell and the error;
- notebooks marked ``"statcommons": {"regression_stable": true}`` keep their outputs in
  the repository, and ``pytest --nbval`` checks that a fresh run gives the same outputs;
  the other notebooks must be committed without outputs;
- every data package is validated with frictionless (schema, hash, bytes), and a data
  set made by a ``generate.py`` is regenerated and compared byte for byte; a package may
  hold files that are not tables (SDMX-ML messages, say): they need a format and a
  description instead of a schema;
- every notebook and data set is an item of the library catalogue.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import time
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

import docker
import pytest
import yaml

from statcommons.platform import images
from statcommons.runner.kernels import Kernels, notebook_kernel
from statcommons.settings import validate

pytestmark = [pytest.mark.notebooks, pytest.mark.containers]

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS = ROOT / "shared-notebooks"
DATASETS = ROOT / "datasets"
LIBRARY = ROOT / "library"
# The official tags of the two user images, each replaceable by an image built elsewhere.
IMAGE = os.environ.get("STATCOMMONS_TEST_LAB_IMAGE") or images.IMAGES["lab"].tag
R_IMAGE = os.environ.get("STATCOMMONS_TEST_LAB_R_IMAGE") or images.IMAGES["r"].tag
TESTED_INSTEAD = {images.IMAGES["lab"].tag: IMAGE, images.IMAGES["r"].tag: R_IMAGE}
KERNELS = Kernels.from_settings(validate({}))
IN_IMAGE = PurePosixPath("/srv/statcommons")  # the repository's layout, inside the container
OUTPUT = PurePosixPath("/srv/output")
USER = "1000:100"
CELL_TIMEOUT = 120  # seconds, for one cell
RUN_TIMEOUT = 600  # seconds, for one whole command in the container
PAPERMILL_TAGS = {"injected-parameters", "papermill-error-cell-tag"}
TABLE_FORMATS = ("csv",)  # resources in these formats are tables, with a schema


def _notebooks() -> list[Path]:
    return sorted(p for p in NOTEBOOKS.rglob("*.ipynb") if ".ipynb_checkpoints" not in p.parts)


def _packages() -> list[Path]:
    return sorted(DATASETS.glob("*/datapackage.json"))


def _read(notebook: Path) -> dict:
    return json.loads(notebook.read_text(encoding="utf-8"))


def _options(notebook: Path) -> dict:
    return _read(notebook).get("metadata", {}).get("statcommons", {})


def _stable() -> list[Path]:
    return [nb for nb in _notebooks() if _options(nb).get("regression_stable")]


def _image(notebook: Path) -> str:
    """The image the runner gives the notebook (by its kernel, from the settings' profiles), or its replacement."""
    official = KERNELS.choose(notebook_kernel(_read(notebook))).image
    return TESTED_INSTEAD.get(official, official)


def _name(path: Path) -> str:
    base = NOTEBOOKS if path.is_relative_to(NOTEBOOKS) else DATASETS
    return path.relative_to(base).as_posix()


@dataclass
class Lab:
    container: docker.models.containers.Container
    output: Path

    def run(self, cmd: list[str], workdir: PurePosixPath = IN_IMAGE) -> tuple[int, str, str]:
        code, (out, err) = self.container.exec_run(
            ["timeout", str(RUN_TIMEOUT), *cmd], user=USER, workdir=str(workdir), demux=True
        )
        return code, (out or b"").decode(errors="replace"), (err or b"").decode(errors="replace")


def _writable_by_notebook_user(path: Path) -> None:
    path.mkdir(parents=True, exist_ok=True)
    if os.geteuid() == 0:
        os.chown(path, 1000, 100)
    else:
        path.chmod(0o777)


@pytest.fixture(scope="module")
def labs(engine, artifacts):
    """``labs(image)``: the one container of ``image`` for this module, started on first use."""
    output = artifacts / "notebooks"
    shutil.rmtree(output, ignore_errors=True)
    _writable_by_notebook_user(output)
    ulimits = validate({})["engine"]["ulimits"]
    client = engine.client()
    started: dict[str, Lab] = {}

    def lab(image: str) -> Lab:
        if image not in started:
            container = client.containers.run(
                image,
                ["sleep", "infinity"],
                detach=True,
                name=f"statcommons-notebooks-{os.getpid()}-{len(started)}",
                user=USER,
                network_mode="host",
                ulimits=[docker.types.Ulimit(name=k, soft=v, hard=v) for k, v in sorted(ulimits.items())],
                cap_drop=["ALL"],
                security_opt=["no-new-privileges"],
                environment={"PYTHONHASHSEED": "0"},
                volumes={
                    str(NOTEBOOKS): {"bind": str(IN_IMAGE / "shared-notebooks"), "mode": "ro"},
                    str(DATASETS): {"bind": str(IN_IMAGE / "datasets"), "mode": "ro"},
                    str(output): {"bind": str(OUTPUT), "mode": "rw"},
                },
            )
            started[image] = Lab(container, output)
        return started[image]

    try:
        yield lab
    finally:
        for running in started.values():
            running.container.remove(force=True)
        client.close()


@pytest.fixture(scope="module")
def lab(labs):
    """The container of the Python image, where the data sets are checked."""
    return labs(IMAGE)


# ---------------------------------------------------------------- notebooks


def _failure(executed: dict) -> str | None:
    """'cell N (execution count C): Name: value' for the first cell with an error, numbered as in the repository."""
    index = 0
    for cell in executed["cells"]:
        if PAPERMILL_TAGS & set(cell.get("metadata", {}).get("tags", [])):
            continue
        for output in cell.get("outputs", []):
            if output.get("output_type") == "error":
                return (
                    f"cell index {index} (execution count {cell.get('execution_count')}): "
                    f"{output.get('ename')}: {output.get('evalue')}"
                )
        index += 1
    return None


@pytest.mark.parametrize("notebook", _notebooks(), ids=_name)
def test_notebook_runs_in_the_user_image(labs, notebook, record_property):
    lab = labs(_image(notebook))
    relative = notebook.relative_to(NOTEBOOKS)
    _writable_by_notebook_user(lab.output / relative.parent)
    parameters = _options(notebook).get("test_parameters", {})
    started = time.monotonic()
    code, out, err = lab.run(
        [
            "papermill",
            "--no-progress-bar",
            "--execution-timeout",
            str(CELL_TIMEOUT),
            "-y",
            json.dumps(parameters),
            relative.name,
            str(OUTPUT / relative.as_posix()),
        ],
        workdir=IN_IMAGE / "shared-notebooks" / relative.parent.as_posix(),
    )
    seconds = time.monotonic() - started
    record_property("seconds", round(seconds, 1))
    with open(lab.output / "timings.txt", "a", encoding="utf-8") as timings:
        timings.write(f"{relative.as_posix()}\t{seconds:.1f}s\t{_image(notebook)}\t{json.dumps(parameters)}\n")
    if code == 0:
        return
    executed = lab.output / relative
    where = _failure(_read(executed)) if executed.exists() else None
    if where:
        pytest.fail(f"{relative.as_posix()}: {where} (executed notebook: {executed})", pytrace=False)
    tail = "\n".join((out + err).strip().splitlines()[-20:])
    pytest.fail(f"{relative.as_posix()}: papermill exited with {code}:\n{tail}", pytrace=False)


@pytest.mark.parametrize("notebook", _stable(), ids=_name)
def test_regression_stable_notebook_outputs_unchanged(labs, notebook):
    lab = labs(_image(notebook))
    relative = notebook.relative_to(NOTEBOOKS)
    code, out, err = lab.run(
        [
            "python",
            "-m",
            "pytest",
            "--nbval",
            "--nbval-cell-timeout",
            str(CELL_TIMEOUT),
            "-p",
            "no:cacheprovider",
            "-o",
            "addopts=",
            "--rootdir",
            "/tmp",
            "-q",
            "--color=no",
            str(IN_IMAGE / "shared-notebooks" / relative.as_posix()),
        ],
        workdir=PurePosixPath("/tmp"),
    )
    if code != 0:
        tail = "\n".join((out + err).strip().splitlines()[-60:])
        pytest.fail(f"{relative.as_posix()}: outputs differ from the committed ones (nbval):\n{tail}", pytrace=False)


@pytest.mark.parametrize("notebook", _notebooks(), ids=_name)
def test_notebook_is_a_tutorial(notebook):
    """A parameters cell, a narrative naming the data's licence, and no outputs unless regression-stable."""
    content = _read(notebook)
    cells = content["cells"]
    tagged = [i for i, c in enumerate(cells) if "parameters" in c.get("metadata", {}).get("tags", [])]
    assert len(tagged) == 1, f"{_name(notebook)}: expected one cell tagged 'parameters', found {len(tagged)}"
    markdown = " ".join(" ".join("".join(c["source"]).split()) for c in cells if c["cell_type"] == "markdown").lower()
    assert "**data.**" in markdown and ("licen" in markdown or "public domain" in markdown), (
        f"{_name(notebook)}: the narrative must say where the data come from and under which licence"
    )
    if not _options(notebook).get("regression_stable"):
        with_outputs = [i for i, c in enumerate(cells) if c["cell_type"] == "code" and c.get("outputs")]
        assert not with_outputs, f"{_name(notebook)}: clear the outputs of cells {with_outputs} before committing"


# ---------------------------------------------------------------- datasets

_VALIDATE = """
import json, sys
from frictionless import validate
results = {}
for path in sys.argv[1:]:
    report = validate(path)
    results[path] = [f"{task.name}: {error.type}: {error.note}" for task in report.tasks for error in task.errors]
    results[path] += [f"{error.type}: {error.note}" for error in report.errors]
print(json.dumps(results))
"""

_REGENERATE = """
import hashlib, json, pathlib, subprocess, sys
results = {}
for name in sys.argv[1:]:
    out = pathlib.Path("/tmp/regenerated") / name
    run = subprocess.run([sys.executable, f"{name}/generate.py", "--out", str(out)], capture_output=True, text=True)
    if run.returncode:
        results[name] = {"error": run.stderr[-2000:]}
        continue
    results[name] = {p.name: "sha256:" + hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(out.iterdir())}
print(json.dumps(results))
"""


@pytest.fixture(scope="module")
def frictionless_reports(lab) -> dict:
    paths = [str(IN_IMAGE / "datasets" / p.relative_to(DATASETS).as_posix()) for p in _packages()]
    code, out, err = lab.run(["python", "-c", _VALIDATE, *paths], workdir=IN_IMAGE / "datasets")
    assert code == 0, f"frictionless validation could not run:\n{err[-3000:]}"
    return {Path(path).parent.name: errors for path, errors in json.loads(out).items()}


@pytest.fixture(scope="module")
def regenerated(lab) -> dict:
    names = [p.parent.name for p in _packages() if (p.parent / "generate.py").exists()]
    code, out, err = lab.run(["python", "-c", _REGENERATE, *names], workdir=IN_IMAGE / "datasets")
    assert code == 0, f"the generators could not run:\n{err[-3000:]}"
    return json.loads(out)


def _descriptor(package: Path) -> dict:
    return json.loads(package.read_text(encoding="utf-8"))


@pytest.mark.parametrize("package", _packages(), ids=lambda p: p.parent.name)
def test_datapackage_describes_its_data(package):
    """Name, title, description, licences, sources; each resource with hash, bytes and described fields.

    A resource that is not a table (an SDMX-ML message, say) has a format, a media type and a
    description instead of a schema.
    """
    descriptor = _descriptor(package)
    name = package.parent.name
    assert descriptor.get("name") == name, f"{name}: 'name' must be the folder name"
    for key in ("title", "description", "licenses", "sources", "resources"):
        assert descriptor.get(key), f"{name}: '{key}' is missing or empty"
    for licence in descriptor["licenses"]:
        assert licence.get("name") and licence.get("path"), f"{name}: each licence needs a name and a path"
    listed = set()
    for resource in descriptor["resources"]:
        where = f"{name}/{resource.get('name')}"
        assert str(resource.get("hash", "")).startswith("sha256:"), f"{where}: 'hash' must be sha256:<hex>"
        assert isinstance(resource.get("bytes"), int), f"{where}: 'bytes' is missing"
        if resource.get("format") not in TABLE_FORMATS:
            assert "schema" not in resource, f"{where}: only tables ({', '.join(TABLE_FORMATS)}) have a schema"
            for key in ("mediatype", "description"):
                assert resource.get(key), f"{where}: a file that is not a table needs '{key}'"
            listed.add(resource["path"])
            continue
        for field in resource["schema"]["fields"]:
            assert field.get("type") and field.get("description"), f"{where}.{field.get('name')}: type and description"
        listed.add(resource["path"])
    data_files = {p.name for p in package.parent.iterdir() if p.suffix in (".csv", ".json", ".xml") and p != package}
    assert data_files <= listed, f"{name}: files not described in datapackage.json: {sorted(data_files - listed)}"


@pytest.mark.parametrize("package", _packages(), ids=lambda p: p.parent.name)
def test_datapackage_is_valid_frictionless(frictionless_reports, package):
    errors = frictionless_reports[package.parent.name]
    assert not errors, f"{package.parent.name}: frictionless found:\n" + "\n".join(errors[:20])


@pytest.mark.parametrize(
    "package", [p for p in _packages() if (p.parent / "generate.py").exists()], ids=lambda p: p.parent.name
)
def test_generated_dataset_is_reproduced(regenerated, package):
    name = package.parent.name
    result = regenerated[name]
    assert "error" not in result, f"{name}: generate.py failed:\n{result.get('error')}"
    recorded = {r["path"]: r["hash"] for r in _descriptor(package)["resources"]}
    differ = sorted(path for path, digest in recorded.items() if result.get(path) != digest)
    assert not differ, (
        f"{name}: generate.py no longer reproduces {differ}: regenerate the files "
        "(python generate.py, in the user image) and run python datasets/checksums.py"
    )


# ---------------------------------------------------------------- library catalogue


def _library_items() -> list[dict]:
    return [yaml.safe_load(p.read_text(encoding="utf-8")) for p in sorted(LIBRARY.glob("*.yaml"))]


@pytest.mark.parametrize("notebook", _notebooks(), ids=_name)
def test_notebook_is_in_the_library(notebook):
    path = notebook.relative_to(ROOT).as_posix()
    shared = [i for i in _library_items() if (i.get("notebook") or {}).get("shared_path") == path]
    assert len(shared) == 1, f"{path}: expected one library/*.yaml item with notebook.shared_path {path}"


@pytest.mark.parametrize("package", _packages(), ids=lambda p: p.parent.name)
def test_dataset_is_in_the_library(package):
    path = package.relative_to(ROOT).as_posix()
    items = [i for i in _library_items() if (i.get("dataset") or {}).get("datapackage") == path]
    assert len(items) == 1, f"{path}: expected one library/*.yaml item with dataset.datapackage {path}"
    dataset = items[0]["dataset"]
    size = sum(r["bytes"] for r in _descriptor(package)["resources"])
    checksum = "sha256:" + hashlib.sha256(package.read_bytes()).hexdigest()
    assert dataset.get("size_bytes") == size, f"{path}: library size_bytes should be {size} (sum of the resources)"
    assert dataset.get("checksum") == checksum, f"{path}: library checksum should be {checksum} (of datapackage.json)"
