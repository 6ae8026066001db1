"""Building the user images when they are missing or their inputs changed.

Three images, each built from a folder of ``images/``: ``base`` (a Debian
root file system made with mmdebstrap, so no registry is needed), ``lab``
(JupyterLab and the Python stack) and ``r`` (lab plus R).  An image is
rebuilt when the hash of its folder, build arguments and parent image differs
from the one recorded in the image's ``org.statcommons.inputs`` label at its
last build, or when the engine does not have it.  A site can use its own base with BASE_IMAGE.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import docker

from .engine import Engine
from .settings import ROOT

IMAGES_DIR = ROOT / "images"
LABEL = "org.statcommons.inputs"
CA_BUNDLE = Path("/etc/ssl/certs/ca-certificates.crt")
LOCK_FILE = ROOT / "var" / "images.lock"


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


def folder_hash(folder: Path) -> str:
    digest = hashlib.sha256()
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        digest.update(str(path.relative_to(folder)).encode() + b"\0")
        digest.update(path.read_bytes() + b"\0")
    return digest.hexdigest()


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
        parts = [folder_hash(IMAGES_DIR / image.folder)]
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
        self.log(f"==> building {image.tag} from images/{image.folder} (this takes a few minutes the first time)")
        started = time.monotonic()
        env = {**os.environ, **self.engine.env, "DOCKER_BUILDKIT": "1"}
        result = subprocess.run(cmd, env=env)
        if result.returncode != 0:
            raise ImageBuildError(f"building {image.tag} failed (exit {result.returncode}); the output is above")
        if not self.is_current(key):
            raise ImageBuildError(f"building {image.tag} reported success but the engine has no such image")
        self.log(f"==> built {image.tag} in {time.monotonic() - started:.0f}s")

    @contextlib.contextmanager
    def _locked(self):
        """One build at a time on this machine: a second caller waits, then finds the image current."""
        LOCK_FILE.parent.mkdir(parents=True, exist_ok=True)
        with open(LOCK_FILE, "w") as lock:
            try:
                fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                self.log(f"==> another build of the images is running; waiting for it ({LOCK_FILE})")
                fcntl.flock(lock, fcntl.LOCK_EX)
            yield

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
