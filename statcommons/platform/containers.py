"""How every StatCommons container is made: its user, its folders, its hardening.

One uid/gid model everywhere: every server, project server, run and helper runs as uid 1000,
gid 100 (``jovyan`` of the lab image), so a file one member writes in a project folder is
theirs and everybody else's alike. Shared folders and project volumes are mounted outside
the home, under ``/mnt``; the image's start hook (``statcommons-start``) links them into the
home as uid 1000.

:func:`hardening` is the part of every container's host configuration that takes away what
no container needs (capabilities, new privileges) and bounds what it may use (ulimits).
"""

from __future__ import annotations

HOME = "/home/jovyan"
UID = 1000
GID = 100
#: Where shared folders and project volumes are mounted: outside the home, linked into it at start.
MOUNTS = "/mnt"
PROJECTS_MOUNT = f"{MOUNTS}/projects"
SHARED_NOTEBOOKS_MOUNT = f"{MOUNTS}/shared-notebooks"
DATASETS_MOUNT = f"{MOUNTS}/datasets"
#: The command every server runs: the start hook, then the single-user server.
START_HOOK = "statcommons-start"
#: Folders of the image a container writes to besides its volumes: in memory, each sized.
SCRATCH_FOLDERS = ("/tmp", "/var/tmp")


def ulimit_list(ulimits: dict[str, int]) -> list[dict]:
    """{'nofile': 20000} -> the engine's form, soft and hard alike."""
    return [{"Name": name, "Soft": value, "Hard": value} for name, value in sorted(ulimits.items())]


def hardening(ulimits: dict[str, int]) -> dict:
    """Host configuration every container gets: no capability, no new privilege, the engine's ulimits.

    Keys as docker-py's ``create_host_config`` (and DockerSpawner's ``extra_host_config``) take them.
    """
    return {"ulimits": ulimit_list(ulimits), "cap_drop": ["ALL"], "security_opt": ["no-new-privileges"]}


def is_podman(version: dict) -> bool:
    """Whether an engine's /version answer is Podman's Docker-compatible service."""
    return any("podman" in str(c.get("Name", "")).lower() for c in version.get("Components") or [])
