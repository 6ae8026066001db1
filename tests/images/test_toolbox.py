"""Every package a profile promises imports in its user image, at the version pinned.

One container per image, with no network: the lab image imports every direct dependency of
``images/lab/requirements.txt`` (and checks its version against the pin); the lab-r image
loads, with ``library()``, every ``r-cran-*`` package that ``images/r/Containerfile`` installs
(and haven and readxl, which come with tidyverse). The lists come from those two files, so a
package added there is tested here. Each package is its own test, named for it; the versions
are printed (``pytest -s``).

The images are the official tags unless STATCOMMONS_TEST_LAB_IMAGE / STATCOMMONS_TEST_LAB_R_IMAGE
name others (images built by hand under dev tags; see images/README.md).
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import docker
import pytest

from statcommons.platform.images import IMAGES
from statcommons.settings import validate

pytestmark = pytest.mark.containers

ROOT = Path(__file__).resolve().parents[2]
REQUIREMENTS = ROOT / "images" / "lab" / "requirements.txt"
R_CONTAINERFILE = ROOT / "images" / "r" / "Containerfile"
LAB_IMAGE = os.environ.get("STATCOMMONS_TEST_LAB_IMAGE") or IMAGES["lab"].tag
LAB_R_IMAGE = os.environ.get("STATCOMMONS_TEST_LAB_R_IMAGE") or IMAGES["r"].tag
USER = "1000:100"
TIMEOUT = 300  # seconds, for all the imports of one image

# Distributions whose module is not their name with "-" as "_".
PYTHON_MODULES = {"scikit-learn": "sklearn", "sdmx1": "sdmx"}
# geopandas' engines, not pinned themselves: their wheels carry GDAL, GEOS and PROJ.
PYTHON_EXTRA = {"pyogrio": "pyogrio", "shapely": "shapely", "pyproj": "pyproj"}
# Debian's r-cran-<name> is lower case; R's package names are not always.
R_NAMES = {"irkernel": "IRkernel", "vim": "VIM"}
# Installed with tidyverse but not attached by library(tidyverse): the readers of other packages' files.
R_EXTRA = ["haven", "readxl"]

PYTHON_SCRIPT = """
import importlib, importlib.metadata, json, sys, traceback
results = {}
for dist, module in json.loads(sys.argv[1]).items():
    try:
        importlib.import_module(module)
        results[dist] = {"version": importlib.metadata.version(dist)}
    except BaseException as e:
        results[dist] = {"error": traceback.format_exception_only(type(e), e)[-1].strip()}
print(json.dumps(results))
"""

# One line per package: name, then "ok" and its version or "error" and the message.
R_SCRIPT = """
for (p in commandArgs(trailingOnly = TRUE)) {
  r <- tryCatch({
    suppressPackageStartupMessages(library(p, character.only = TRUE))
    paste("ok", as.character(packageVersion(p)))
  }, error = function(e) paste("error", gsub("[\\r\\n]+", " ", conditionMessage(e))))
  cat(p, "\\t", r, "\\n", sep = "")
}
"""


def pins() -> dict[str, str]:
    """``{distribution: version}`` of the lab image's requirements file (every line ``name==version``)."""
    found = {}
    for line in REQUIREMENTS.read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            name, sep, version = line.partition("==")
            assert sep, f"{REQUIREMENTS.name}: {line!r} is not pinned with =="
            found[name.strip().lower()] = version.strip()
    return found


def module(dist: str) -> str:
    return PYTHON_MODULES.get(dist) or PYTHON_EXTRA.get(dist) or dist.replace("-", "_")


def r_packages() -> list[str]:
    """R names of the r-cran-* packages that the R image's Containerfile installs."""
    names = re.findall(r"\br-cran-([a-z0-9.]+)", R_CONTAINERFILE.read_text())
    return [R_NAMES.get(name, name) for name in dict.fromkeys(names)] + R_EXTRA


def _run(engine, image: str, cmd: list[str]) -> str:
    """Run ``cmd`` in a fresh container of ``image`` (uid 1000, no network, no capabilities); its stdout."""
    client = engine.client(timeout=TIMEOUT + 60)
    try:
        try:
            client.images.get(image)
        except docker.errors.ImageNotFound:
            pytest.fail(f"the image {image} is not on the engine: build it first (images/README.md)", pytrace=False)
        ulimits = validate({})["engine"]["ulimits"]
        container = client.containers.run(
            image,
            ["timeout", str(TIMEOUT), *cmd],
            detach=True,
            user=USER,
            network_mode="none",
            ulimits=[docker.types.Ulimit(name=k, soft=v, hard=v) for k, v in sorted(ulimits.items())],
            cap_drop=["ALL"],
            security_opt=["no-new-privileges"],
        )
        try:
            code = container.wait(timeout=TIMEOUT + 30)["StatusCode"]
            out = container.logs(stdout=True, stderr=False).decode(errors="replace")
            if code != 0:
                err = container.logs(stdout=False, stderr=True).decode(errors="replace")
                pytest.fail(f"{' '.join(cmd[:2])} in {image} exited with {code}:\n{err[-3000:]}", pytrace=False)
            return out
        finally:
            container.remove(force=True)
    finally:
        client.close()


@pytest.fixture(scope="module")
def python_imports(engine) -> dict[str, dict]:
    modules = {dist: module(dist) for dist in [*pins(), *PYTHON_EXTRA]}
    out = _run(engine, LAB_IMAGE, ["python", "-c", PYTHON_SCRIPT, json.dumps(modules)])
    results = json.loads(out.strip().splitlines()[-1])
    print(f"\n{LAB_IMAGE}:")
    for dist, result in results.items():
        print(f"  {dist:24} {result.get('version') or 'FAILED: ' + result['error']}")
    return results


@pytest.fixture(scope="module")
def r_libraries(engine) -> dict[str, tuple[str, str]]:
    out = _run(engine, LAB_R_IMAGE, ["Rscript", "-e", R_SCRIPT, *r_packages()])
    results = {}
    for line in out.splitlines():
        name, sep, rest = line.partition("\t")
        if sep:
            status, _, detail = rest.partition(" ")
            results[name] = (status, detail.strip())
    print(f"\n{LAB_R_IMAGE}:")
    for name, (status, detail) in results.items():
        print(f"  {name:24} {detail if status == 'ok' else 'FAILED: ' + detail}")
    return results


@pytest.mark.parametrize("dist", [*pins(), *PYTHON_EXTRA])
def test_python_package_imports_at_its_pin(python_imports, dist, record_property):
    result = python_imports.get(dist)
    assert result is not None, f"{dist}: the import script in {LAB_IMAGE} gave no result for it"
    assert "error" not in result, f"{dist}: `import {module(dist)}` failed in {LAB_IMAGE}: {result.get('error')}"
    record_property("version", result["version"])
    pinned = pins().get(dist)
    if pinned:
        assert result["version"] == pinned, f"{dist}: {LAB_IMAGE} has {result['version']}, the pin is {pinned}"


@pytest.mark.parametrize("package", r_packages())
def test_r_package_loads(r_libraries, package, record_property):
    status, detail = r_libraries.get(package, ("missing", "Rscript gave no result for it"))
    assert status == "ok", f"{package}: library({package}) failed in {LAB_R_IMAGE}: {detail}"
    record_property("version", detail)
