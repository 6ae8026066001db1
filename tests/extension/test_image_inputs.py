"""How the lab image follows the extension: its inputs hash the extension's sources, never build outputs or wheels."""

from __future__ import annotations

from pathlib import Path

import pytest

from statcommons.platform import images


@pytest.fixture
def extension(tmp_path, monkeypatch) -> Path:
    folder = tmp_path / "extensions" / "statcommons-workspace"
    for name, text in {
        "package.json": "{}",
        "src/index.ts": "export default [];",
        "statcommons_workspace/__init__.py": "",
    }.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text(text)
    monkeypatch.setattr(images, "EXTENSIONS_DIR", tmp_path / "extensions")
    return folder


def test_build_outputs_do_not_change_the_sources_hash(extension):
    before = images.extension_hash("statcommons-workspace")
    for output in ("node_modules/x/index.js", "lib/index.js", "dist/a.whl", "statcommons_workspace/labextension/a.js",
                   "statcommons_workspace/_version.py", "tsconfig.tsbuildinfo"):  # fmt: skip
        (extension / output).parent.mkdir(parents=True, exist_ok=True)
        (extension / output).write_text("built")
    assert images.extension_hash("statcommons-workspace") == before
    (extension / "src" / "index.ts").write_text("export default [1];")
    assert images.extension_hash("statcommons-workspace") != before


def test_staged_wheels_do_not_change_the_image_folder_hash(tmp_path):
    folder = tmp_path / "lab"
    folder.mkdir()
    (folder / "Containerfile").write_text("FROM x")
    before = images.folder_hash(folder, frozenset({images.STAGED}))
    (folder / images.STAGED).mkdir()
    (folder / images.STAGED / "statcommons_workspace-0.1.0-py3-none-any.whl").write_bytes(b"different every build")
    assert images.folder_hash(folder, frozenset({images.STAGED})) == before
    assert images.folder_hash(folder) != before


def test_a_wheel_built_from_the_same_sources_is_reused(extension, monkeypatch):
    dist = extension / "dist"
    dist.mkdir()
    wheel = dist / "statcommons_workspace-0.1.0-py3-none-any.whl"
    wheel.write_bytes(b"wheel")
    (dist / ".sources").write_text(images.extension_hash("statcommons-workspace"))

    def no_build(cmd, cwd, what):
        raise AssertionError(f"rebuilt although the sources did not change: {what}")

    monkeypatch.setattr(images, "_run", no_build)
    assert images.build_extension("statcommons-workspace", log=lambda _: None) == wheel
    (extension / "src" / "index.ts").write_text("changed")
    with pytest.raises(AssertionError, match="rebuilt"):
        images.build_extension("statcommons-workspace", log=lambda _: None)


def test_the_lab_image_installs_the_library_extension():
    assert images.IMAGE_EXTENSIONS["lab"] == ("statcommons-workspace",)
    containerfile = (images.IMAGES_DIR / "lab" / "Containerfile").read_text()
    assert "COPY wheels/" in containerfile and "pip install --no-cache-dir --no-deps" in containerfile
