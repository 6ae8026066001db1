"""Volumes on the container engine (a project's, a home): made owned by uid 1000, archived, restored.

Everything goes through the engine's API (docker-py's low-level ``APIClient``, which Podman's
Docker-compatible service answers too), never through the host's file system: the volume may
live on another machine or in a rootless engine's storage.  Archiving and restoring run ``tar``
in short-lived containers of the lab image, as uid 1000 with no network and no capability, and
move the ``.tar.gz`` in and out with the engine's copy API.  These are blocking calls: callers
in an event loop run them in a thread.
"""

from __future__ import annotations

import os
import shutil
import tarfile
import tempfile
import time
from pathlib import Path

import docker

from . import containers, diskcap
from .containers import GID, UID

#: Where helper containers mount the volume.
MOUNT = "/mnt/project"
_TMP = "/tmp/statcommons-archive.tar.gz"


class VolumeError(RuntimeError):
    """The engine refused or failed; ``str()`` says what."""


def exists(api: docker.APIClient, name: str) -> bool:
    try:
        api.inspect_volume(name)
        return True
    except docker.errors.NotFound:
        return False



def is_podman(api: docker.APIClient) -> bool:
    return containers.is_podman(api.version())


def _helper(
    api: docker.APIClient, image: str, command: list[str], binds: dict, ulimits: dict, user: str, caps=()
) -> str:
    host_config = api.create_host_config(
        binds=binds,
        network_mode="none",
        cap_add=list(caps) or None,
        **containers.hardening(ulimits),
    )
    try:
        created = api.create_container(
            image,
            command,
            user=user,
            host_config=host_config,
            labels={"org.statcommons.helper": "projects"},
            working_dir="/",
        )
    except docker.errors.ImageNotFound:
        raise VolumeError(f"the image {image} is not on the engine: build it (make images)") from None
    return created["Id"]


def _run(api: docker.APIClient, container: str, what: str, timeout: float = 600) -> None:
    api.start(container)
    result = api.wait(container, timeout=timeout)
    if result.get("StatusCode"):
        output = api.logs(container, stdout=True, stderr=True, tail=20).decode(errors="replace").strip()
        raise VolumeError(f"{what} failed (exit status {result.get('StatusCode')}): {output[-500:]}")


def create(
    api: docker.APIClient,
    name: str,
    *,
    image: str,
    labels: dict,
    ulimits: dict,
    owner=(UID, GID),
    size: int | None = None,
    images: Path | None = None,
) -> bool:
    """Make the volume if it is missing, owned by ``owner``; True when it was made.

    Podman sets the owner when it makes the volume; Docker needs one chown by a helper container
    (the only helper that runs as root, with CHOWN as its only capability). With Podman, a
    ``size`` caps the volume (an image in ``images``, :mod:`statcommons.platform.diskcap`).
    """
    if exists(api, name):
        return False
    podman = is_podman(api)
    opts = {"o": f"uid={owner[0]},gid={owner[1]}"} if podman else {}
    if podman and size and images is not None:
        try:
            opts = diskcap.driver_options(images, name, size, owner)
        except diskcap.CapError as e:
            raise VolumeError(str(e)) from None
    api.create_volume(name, driver_opts=opts, labels=labels)
    if not podman:
        container = _helper(
            api,
            image,
            ["chown", f"{owner[0]}:{owner[1]}", MOUNT],
            {name: {"bind": MOUNT, "mode": "rw"}},
            ulimits,
            user="0",
            caps=("CHOWN",),
        )
        try:
            _run(api, container, f"giving the volume {name} to uid {owner[0]}")
        finally:
            api.remove_container(container, force=True)
    return True


def users_of(api: docker.APIClient, name: str) -> list[dict]:
    """The containers (running or not) that mount the volume."""
    return api.containers(all=True, filters={"volume": name})


def remove(api: docker.APIClient, name: str, images: Path | None = None) -> None:
    """Remove the volume (and its image when it was capped)."""
    try:
        api.remove_volume(name)
    except docker.errors.NotFound:
        pass
    if images is not None:
        diskcap.remove_image(images, name)


def archive(api: docker.APIClient, name: str, destination: Path, *, image: str, ulimits: dict) -> Path:
    """Write the volume's files to ``destination`` as a ``.tar.gz`` (paths start with ``./``)."""
    container = _helper(
        api,
        image,
        ["tar", "-czf", _TMP, "-C", MOUNT, "."],
        {name: {"bind": MOUNT, "mode": "ro"}},
        ulimits,
        user=f"{UID}:{GID}",
    )
    try:
        _run(api, container, f"archiving the volume {name}")
        stream, _ = api.get_archive(container, _TMP)
        destination.parent.mkdir(parents=True, exist_ok=True)
        partial = destination.with_name(f".{destination.name}.partial")
        with tempfile.TemporaryFile() as wrapped:
            for chunk in stream:
                wrapped.write(chunk)
            wrapped.seek(0)
            with tarfile.open(fileobj=wrapped, mode="r|") as outer:
                member = outer.next()
                if member is None or not member.isfile():
                    raise VolumeError(f"the engine gave no archive of the volume {name}")
                source = outer.extractfile(member)
                with open(partial, "wb") as out:
                    shutil.copyfileobj(source, out)
        os.chmod(partial, 0o600)
        os.replace(partial, destination)
    finally:
        api.remove_container(container, force=True)
    return destination


def restore(api: docker.APIClient, name: str, source: Path, *, image: str, ulimits: dict) -> None:
    """Unpack the ``.tar.gz`` ``source`` into the (existing, empty) volume, as uid 1000."""
    container = _helper(
        api,
        image,
        ["tar", "-xzf", _TMP, "-C", MOUNT, "--no-same-owner", "--no-same-permissions"],
        {name: {"bind": MOUNT, "mode": "rw"}},
        ulimits,
        user=f"{UID}:{GID}",
    )
    try:
        # The engine's copy API takes a tar holding the file: written to disk, sent as a stream.
        with tempfile.TemporaryFile() as wrapper:
            with tarfile.open(fileobj=wrapper, mode="w") as tar:
                info = tar.gettarinfo(str(source), arcname=Path(_TMP).name)
                info.uid, info.gid, info.uname, info.gname, info.mode = UID, GID, "", "", 0o644
                info.mtime = int(time.time())
                with open(source, "rb") as f:
                    tar.addfile(info, f)
            wrapper.seek(0)
            if not api.put_archive(container, str(Path(_TMP).parent), wrapper):
                raise VolumeError(f"the engine refused to copy {source.name} into a helper container")
        _run(api, container, f"restoring {source.name} into the volume {name}")
    finally:
        api.remove_container(container, force=True)
