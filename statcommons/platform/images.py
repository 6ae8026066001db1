"""Building the user images when they are missing or their inputs changed.

Three images, each built from a folder of ``images/``: ``base`` (a Debian
root file system made with mmdebstrap, so no registry is needed), ``lab``
(JupyterLab and the Python stack) and ``r`` (lab plus R).  An image is
rebuilt when the hash of its folder, build arguments and parent image differs
from the one recorded in the image's ``org.statcommons.inputs`` label at its
last build, or when the engine does not have it.  A site can use its own base with BASE_IMAGE.

JupyterLab extensions (``extensions/<name>``) are built into wheels on the host and staged in
the image's ``wheels/`` folder (not tracked) just before the image is built; the image's inputs
include the extensions' *sources*, not the wheels, whose bytes differ from build to build.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import docker

from .engine import Engine
from .paths import ROOT

IMAGES_DIR = ROOT / "images"
LABEL = "org.statcommons.inputs"
CA_BUNDLE = Path("/etc/ssl/certs/ca-certificates.crt")
LOCK_FILE = ROOT / "var" / "images.lock"
EXTENSIONS_DIR = ROOT / "extensions"
# The extensions built into each image, installed from its wheels/ folder.
IMAGE_EXTENSIONS = {"lab": ("statcommons-workspace",)}
STAGED = "wheels"
# What an extension's build writes into its folder: never part of its sources.
BUILD_OUTPUTS = {"node_modules", "lib", "dist", "coverage", "labextension", "__pycache__", ".ipynb_checkpoints"}
GENERATED_FILES = {"_version.py", "tsconfig.tsbuildinfo"}


class ImageBuildError(RuntimeError):
    pass


@dataclass(frozen=True)
class ImageDef:
    tag: str
    folder: str
    parent_arg: str | None = None  # the build argument naming the parent image
    parent: str | None = None  # key of the parent in IMAGES


IMAGES = {
    "base": ImageDef("statcommons/base:bookworm", "base"),
    "lab": ImageDef("statcommons/lab:latest", "lab", parent_arg="BASE_IMAGE", parent="base"),
    "r": ImageDef("statcommons/lab-r:latest", "r", parent_arg="LAB_IMAGE", parent="lab"),
}


def folder_hash(folder: Path, skip: frozenset[str] = frozenset(), skip_files: frozenset[str] = frozenset()) -> str:
    """Hash of the names and bytes of the files under ``folder``, leaving out folders named in ``skip``."""
    digest = hashlib.sha256()
    files = []
    for directory, subdirs, names in os.walk(folder):
        subdirs[:] = [d for d in subdirs if d not in skip]  # not even walked (node_modules is big)
        for name in names:
            path = Path(directory, name)
            if name not in skip_files and path.is_file():
                files.append((path.relative_to(folder).parts, path))
    for parts, path in sorted(files):  # the order of Path objects, as hashes of earlier builds used
        digest.update("/".join(parts).encode() + b"\0")
        digest.update(path.read_bytes() + b"\0")
    return digest.hexdigest()


def extension_hash(name: str) -> str:
    """Hash of an extension's sources (what its wheel is built from)."""
    return folder_hash(EXTENSIONS_DIR / name, frozenset(BUILD_OUTPUTS), frozenset(GENERATED_FILES))


def _run(cmd: list[str], cwd: Path, what: str) -> None:
    if subprocess.run(cmd, cwd=cwd).returncode != 0:
        raise ImageBuildError(f"{what} failed: `{' '.join(cmd)}` in {cwd}; the output is above")


def build_extension(name: str, log=print) -> Path:
    """The wheel of ``extensions/<name>``, built when its sources changed since the last build.

    ``npm ci`` installs the locked node packages, then pip builds the wheel with the extension's
    own build requirements (hatchling, hatch-jupyter-builder, jupyterlab) in an isolated env.
    """
    folder = EXTENSIONS_DIR / name
    dist = folder / "dist"
    stamp = dist / ".sources"
    sources = extension_hash(name)
    wheels = sorted(dist.glob("*.whl"))
    if len(wheels) == 1 and stamp.exists() and stamp.read_text() == sources:
        return wheels[0]
    log(f"==> building the {name} extension (npm ci, then its wheel)")
    started = time.monotonic()
    lock = folder / "package-lock.json"
    installed = folder / "node_modules" / ".package-lock.json"
    if not installed.exists() or installed.stat().st_mtime < lock.stat().st_mtime:
        _run(["npm", "ci", "--no-audit", "--no-fund", "--loglevel=error"], folder, f"installing {name}'s node packages")
    for directory in (dist, folder / "lib", folder / name.replace("-", "_") / "labextension"):
        shutil.rmtree(directory, ignore_errors=True)
    cmd = [sys.executable, "-m", "pip", "wheel", "--quiet", "--disable-pip-version-check", "--no-deps"]
    _run([*cmd, "--wheel-dir", str(dist), str(folder)], folder, f"building the {name} wheel")
    wheels = sorted(dist.glob("*.whl"))
    if len(wheels) != 1:
        raise ImageBuildError(f"building {name} left {len(wheels)} wheels in {dist}, expected one")
    stamp.write_text(sources)
    log(f"==> built {wheels[0].name} in {time.monotonic() - started:.0f}s")
    return wheels[0]


def stage_extensions(key: str, log=print) -> None:
    """Put the wheels of the image's extensions in its build context (``images/<folder>/wheels/``)."""
    names = IMAGE_EXTENSIONS.get(key, ())
    if not names:
        return
    staged = IMAGES_DIR / IMAGES[key].folder / STAGED
    shutil.rmtree(staged, ignore_errors=True)
    staged.mkdir(parents=True)
    for name in names:
        shutil.copy2(build_extension(name, log), staged)


def _image(client: docker.DockerClient, tag: str):
    try:
        return client.images.get(tag)
    except docker.errors.ImageNotFound:
        return None


def image_id(client: docker.DockerClient, tag: str) -> str | None:
    image = _image(client, tag)
    return image.id if image else None


def needed(profile_images: set[str]) -> list[str]:
    """Keys of IMAGES to build for these profile images, parents first."""
    keys: list[str] = []

    def add(key: str) -> None:
        parent = IMAGES[key].parent
        if parent:
            add(parent)
        if key not in keys:
            keys.append(key)

    for key, image in IMAGES.items():
        if image.tag in profile_images:
            add(key)
    return keys


@contextlib.contextmanager
def locked(log=print):
    """One build at a time on this machine: a second caller waits, then finds the image current."""
    LOCK_FILE.parent.mkdir(parents=True, exist_ok=True)
    with open(LOCK_FILE, "w") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            log(f"==> another build of the images is running; waiting for it ({LOCK_FILE})")
            fcntl.flock(lock, fcntl.LOCK_EX)
        yield


class Builder:
    def __init__(self, engine: Engine, base_image: str | None = None, log=print):
        self.engine = engine
        self.client = engine.client(timeout=600)
        self.base_image = base_image
        self.log = log

    def tag_of(self, key: str) -> str:
        if key == "base" and self.base_image:
            return self.base_image
        return IMAGES[key].tag

    def inputs(self, key: str) -> str:
        image = IMAGES[key]
        parts = [folder_hash(IMAGES_DIR / image.folder, frozenset({STAGED}))]
        parts += [f"{name}:{extension_hash(name)}" for name in IMAGE_EXTENSIONS.get(key, ())]
        if image.parent:
            parts.append(self.tag_of(image.parent))
            parts.append(image_id(self.client, self.tag_of(image.parent)) or "missing")
        return hashlib.sha256("\n".join(parts).encode()).hexdigest()

    def is_current(self, key: str) -> bool:
        image = _image(self.client, self.tag_of(key))
        return bool(image and (image.labels or {}).get(LABEL) == self.inputs(key))

    def build(self, key: str) -> None:
        image = IMAGES[key]
        folder = IMAGES_DIR / image.folder
        inputs = self.inputs(key)
        if key == "base":
            cmd = [str(folder / "build.sh"), image.tag, self.engine.cli[0], f"{LABEL}={inputs}"]
        else:
            cmd = [*self.engine.cli, "build", "-t", image.tag, "-f", str(folder / "Containerfile")]
            cmd += ["--label", f"{LABEL}={inputs}"]
            if self.engine.kind == "podman":
                cmd += ["--network", "host"]  # build steps use the host's network, not a bridge
            cmd += ["--build-arg", f"{image.parent_arg}={self.tag_of(image.parent)}"]
            if CA_BUNDLE.exists():
                # The host's CA bundle (it may hold a proxy's CA) is lent to the build, never copied in.
                cmd += ["--secret", f"id=ca-bundle,src={CA_BUNDLE}"]
            cmd.append(str(folder))
            stage_extensions(key, self.log)
        self.log(f"==> building {image.tag} from images/{image.folder} (this takes a few minutes the first time)")
        started = time.monotonic()
        env = {**os.environ, **self.engine.env, "DOCKER_BUILDKIT": "1"}
        result = subprocess.run(cmd, env=env)
        if result.returncode != 0:
            raise ImageBuildError(f"building {image.tag} failed (exit {result.returncode}); the output is above")
        built = _image(self.client, self.tag_of(key))
        if built is None or (built.labels or {}).get(LABEL) != inputs:
            raise ImageBuildError(f"building {image.tag} reported success but the engine has no such image")
        if self.inputs(key) != inputs:
            raise ImageBuildError(
                f"images/{image.folder} changed while {image.tag} was being built: run the build again"
            )
        self.log(f"==> built {image.tag} in {time.monotonic() - started:.0f}s")

    def _locked(self):
        return locked(self.log)

    def ensure(self, keys: list[str], force: bool = False) -> list[str]:
        """Build what is missing or stale; returns the keys built."""
        with self._locked():
            return self._ensure(keys, force)

    def _ensure(self, keys: list[str], force: bool) -> list[str]:
        built = []
        for key in keys:
            if key == "base" and self.base_image:
                if image_id(self.client, self.base_image) is None:
                    raise ImageBuildError(
                        f"BASE_IMAGE {self.base_image} is not on the engine: import or build it first"
                    )
                continue
            if force or not self.is_current(key):
                self.build(key)
                built.append(key)
        return built


def profile_images(settings: dict) -> set[str]:
    return {p["image"] for p in settings["profiles"].values()}


def main(argv: list[str] | None = None) -> int:
    """``python -m statcommons.platform.images extension``: build the extensions' wheels that are stale."""
    args = sys.argv[1:] if argv is None else argv
    if args != ["extension"]:
        print("usage: python -m statcommons.platform.images extension", file=sys.stderr)
        return 2
    try:
        with locked():
            for names in IMAGE_EXTENSIONS.values():
                for name in names:
                    build_extension(name)
    except ImageBuildError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
