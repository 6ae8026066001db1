"""Bringing library items into the user's home: tutorials, attached notebooks, datasets.

Pure file operations on a home folder, kept free of the Jupyter server so they are tested on
the host. Nothing here ever overwrites: a copy that exists is the user's (maybe edited) work.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path, PurePosixPath

from . import links


class WorkspaceError(Exception):
    """A request that cannot be met; ``status`` is the HTTP status to answer with."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status
        self.message = message


def _relative(path: str, what: str) -> PurePosixPath:
    pure = PurePosixPath(path)
    if not path or pure.is_absolute() or any(p in ("", ".", "..") for p in pure.parts) or "\\" in path:
        raise WorkspaceError(422, f"{what} {path!r} is not a plain relative path")
    return pure


def tutorial_path(shared_path: str) -> PurePosixPath:
    """Where a shared notebook is copied: ``shared-notebooks/a/b.ipynb`` -> ``tutorials/a/b.ipynb``.

    The copy sits as deep in the home as the original, so its relative links
    (``../../datasets/...``) still resolve.
    """
    pure = _relative(shared_path, "shared_path")
    if pure.parts[0] != "shared-notebooks" or len(pure.parts) < 2 or pure.suffix != ".ipynb":
        raise WorkspaceError(422, f"shared_path {shared_path!r} is not a notebook under shared-notebooks/")
    return PurePosixPath("tutorials", *pure.parts[1:])


def attached_path(item_id: str, file_name: str) -> PurePosixPath:
    """Where a notebook attached to a library item is saved: ``tutorials/<id>/<file>``."""
    _relative(item_id, "item id")
    name = _relative(file_name, "notebook file name")
    if len(name.parts) != 1 or name.suffix != ".ipynb":
        raise WorkspaceError(422, f"attached notebook {file_name!r} is not a .ipynb file name")
    return PurePosixPath("tutorials", item_id, file_name)


def _checked(home: Path, relative: PurePosixPath) -> Path:
    """``home/relative`` when a link may write there (:func:`.links.target`); WorkspaceError otherwise."""
    try:
        return links.target(home, str(relative))
    except links.LinkRefused as e:
        raise WorkspaceError(e.status, e.message) from None


def write_new(home: Path, relative: PurePosixPath, content: bytes) -> bool:
    """Write ``content`` at ``home/relative`` unless a file is there; True when written."""
    _checked(home, relative.parent)
    (home / relative.parent).mkdir(parents=True, exist_ok=True)
    target = _checked(home, relative)  # again, now that the folders exist: none may be a link out
    try:
        with open(target, "xb") as out:  # exclusive: never replaces the user's copy
            out.write(content)
    except FileExistsError:
        return False
    return True


def copy_shared_notebook(home: Path, shared_path: str) -> tuple[PurePosixPath, bool]:
    """Copy a notebook of the read-only ``~/shared-notebooks`` into ``~/tutorials``.

    Returns the copy's path relative to the home and whether it was made now (False: it was
    there already and is left as it is).
    """
    target = tutorial_path(shared_path)
    source = home / shared_path
    _checked(home, target)
    if (home / target).exists():
        return target, False
    if not source.is_file():
        if not (home / "shared-notebooks").is_dir():
            raise WorkspaceError(503, "this server has no ~/shared-notebooks folder: ask an administrator")
        raise WorkspaceError(404, f"{shared_path} is not in ~/shared-notebooks")
    created = write_new(home, target, source.read_bytes())
    if created:
        shutil.copymode(source, home / target)
        os.chmod(home / target, 0o644)  # the mount is read-only; the copy is the user's to edit
    return target, created


def dataset_folder(datapackage: str) -> str:
    """The dataset's folder name from its ``dataset.datapackage`` (``datasets/<name>/datapackage.json``)."""
    pure = _relative(datapackage, "datapackage")
    if pure.parts[0] != "datasets" or len(pure.parts) != 3:
        raise WorkspaceError(422, f"datapackage {datapackage!r} is not datasets/<name>/datapackage.json")
    return pure.parts[1]


def projects(home: Path) -> list[str]:
    """The user's projects: the folders under ``~/projects`` (links to project volumes included)."""
    root = home / "projects"
    if not root.is_dir():
        return []
    return sorted(p.name for p in root.iterdir() if p.is_dir() and not p.name.startswith("."))


def add_dataset(home: Path, datapackage: str, project: str) -> PurePosixPath:
    """Copy ``~/datasets/<name>`` into ``~/projects/<project>/datasets/<name>``; 409 when it is there."""
    name = dataset_folder(datapackage)
    if project not in projects(home):
        raise WorkspaceError(404, f"no project {project!r} in ~/projects")
    source = home / "datasets" / name
    if not source.is_dir():
        raise WorkspaceError(404, f"the dataset folder ~/datasets/{name} is not on this server")
    target = PurePosixPath("projects", project, "datasets", name)
    if (home / target).exists():
        raise WorkspaceError(409, f"{target} exists already: it was left as it is")
    (home / target).parent.mkdir(parents=True, exist_ok=True)
    shutil.copytree(source, home / target, copy_function=shutil.copy)
    for folder, _dirs, files in os.walk(home / target):
        os.chmod(folder, 0o755)
        for file in files:
            os.chmod(os.path.join(folder, file), 0o644)
    return target
