"""Volumes with a size cap: the files of a volume in a sparse ext4 image, loop-mounted by Podman.

This machine's root file system has no project quotas and the engine's storage is overlay, so
Podman's own ``--opt size=`` fails to mount. What works (measured): a sparse file made into an
ext4 file system of the cap's size, owned by uid 1000, given to Podman's local volume driver as
``type=ext4, device=<image>, o=loop``. Podman mounts it when a container using the volume
starts (a server and a run of the same user share one mount) and unmounts it after; a write past
the cap fails with "No space left on device" in that volume only. The image takes on disk only
what is written. Images live in the state folder (``<state>/volumes/<volume>.img``), backed up
with it.

Docker's local driver cannot loop-mount: with Docker, volumes are not capped (the spawner says so
in its log once).
"""

from __future__ import annotations

import os
import stat
import subprocess
import tempfile
import time
from pathlib import Path

_SAFE = set("abcdefghijklmnopqrstuvwxyz0123456789-_.")


class CapError(RuntimeError):
    """The image could not be made; ``str()`` says why."""


def image_path(folder: Path, volume: str) -> Path:
    if not volume or not set(volume) <= _SAFE or volume.startswith("."):
        raise CapError(f"{volume!r} is not a volume name an image can be named after")
    return Path(folder) / f"{volume}.img"


def driver_options(folder: Path, volume: str, size: int, owner: tuple[int, int]) -> dict[str, str]:
    """The engine's options for ``volume`` capped at ``size`` bytes; its image is made if missing."""
    path = image_path(folder, volume)
    if not path.exists():
        make_image(path, size, owner)
    return {"type": "ext4", "device": str(path), "o": "loop"}


def make_image(path: Path, size: int, owner: tuple[int, int]) -> None:
    """A sparse file of ``size`` bytes holding an empty ext4 file system whose root belongs to ``owner``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.partial")
    with open(partial, "wb") as f:
        f.truncate(size)
    options = f"root_owner={owner[0]}:{owner[1]},lazy_itable_init=1,lazy_journal_init=1"
    done = subprocess.run(
        ["mkfs.ext4", "-q", "-F", "-m", "0", "-E", options, str(partial)], capture_output=True, text=True
    )
    if done.returncode:
        partial.unlink(missing_ok=True)
        raise CapError(f"mkfs.ext4 could not make {path.name}: {(done.stderr or done.stdout).strip()[-300:]}")
    # ext4's lost+found belongs to root: it would be the one thing in a home or a project folder
    # its users cannot read (an archive of the folder would fail on it).
    subprocess.run(["debugfs", "-w", "-R", "rmdir lost+found", str(partial)], capture_output=True)
    partial.chmod(0o600)
    partial.replace(path)


def remove_image(folder: Path, volume: str) -> None:
    image_path(folder, volume).unlink(missing_ok=True)


def read_files(folder: Path, volume: str, names: tuple[str, ...], limit: int) -> tuple[dict[str, bytes], str | None]:
    """Regular files ``names`` at the top of a capped volume no container uses any more.

    The engine cannot copy out of a loop-mounted volume of a stopped container, so its image is
    mounted here, read-only, without devices, set-uid or execution, and the files are read
    without following links (a run's code wrote them). Returns the files found, at most ``limit``
    bytes in all, and a problem or None.
    """
    image = image_path(folder, volume)
    if not image.exists():
        return {}, f"no output volume {volume}"
    # The engine unmounts the volume while it cleans the stopped container up: wait for that, so
    # the file system is never mounted twice.
    deadline = time.monotonic() + 10
    while _attached(image) and time.monotonic() < deadline:
        time.sleep(0.1)
    with tempfile.TemporaryDirectory(prefix="statcommons-out-") as where:
        mounted = subprocess.run(
            ["mount", "-o", "loop,ro,noload,nosuid,nodev,noexec", "-t", "ext4", str(image), where],
            capture_output=True,
            text=True,
        )
        if mounted.returncode:
            return {}, f"the run's output could not be read: {(mounted.stderr or mounted.stdout).strip()[-200:]}"
        try:
            return _read(Path(where), names, limit)
        finally:
            subprocess.run(["umount", where], capture_output=True)


def _attached(image: Path) -> bool:
    """Whether a loop device still holds ``image`` (the engine has it mounted)."""
    found = subprocess.run(["losetup", "--associated", str(image)], capture_output=True, text=True)
    return bool(found.stdout.strip())


def _read(root: Path, names: tuple[str, ...], limit: int) -> tuple[dict[str, bytes], str | None]:
    found: dict[str, bytes] = {}
    total = 0
    for name in names:
        try:
            fd = os.open(root / name, os.O_RDONLY | os.O_NOFOLLOW)
        except OSError:
            continue
        with os.fdopen(fd, "rb") as f:
            if not stat.S_ISREG(os.fstat(f.fileno()).st_mode):
                continue
            data = f.read(limit - total + 1)
        total += len(data)
        if total > limit:
            return {}, f"the run's output is larger than {limit // 1024**2} MB: not kept"
        found[name] = data
    return found, None
