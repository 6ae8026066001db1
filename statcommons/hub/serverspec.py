"""What a user's server gets, as plain data, whatever the container engine.

:func:`server_spec` turns the settings, a username, the projects the user belongs
to and the spawn options a user sent into a :class:`ServerSpec`: profile, image,
mounts, limits and environment.  :func:`project_server_spec` does the same for a
project's collaboration account.  Nothing here talks to an engine;
:mod:`statcommons.hub.spawner` turns a spec into DockerSpawner options, and a
Kubernetes layer can do the same for KubeSpawner. The uid/gid model and the folders
are :mod:`statcommons.platform.containers`'.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from ..platform import names, network
from ..platform.containers import (
    DATASETS_MOUNT,
    GID,
    HOME,
    PROJECTS_MOUNT,
    SCRATCH_FOLDERS,
    SHARED_NOTEBOOKS_MOUNT,
    UID,
)
from ..platform.names import home_volume
from ..platform.units import parse_size

#: The services whose address a server gets, and the environment variable naming it.
SERVICE_URL_VARIABLES = {
    "library": "STATCOMMONS_LIBRARY_URL",
    "runner": "STATCOMMONS_RUNNER_URL",
    "projects": "STATCOMMONS_PROJECTS_URL",
}


class UserOptionsError(ValueError):
    """Spawn options that are not allowed; ``str()`` says what and what is."""


@dataclass(frozen=True)
class Mount:
    """A named volume, or with ``bind`` a folder of the host, mounted into the server.

    ``owner`` (uid, gid) is given to a volume made for it; a bind mount's folder must exist.
    """

    volume: str
    target: str
    read_only: bool = False
    owner: tuple[int, int] | None = None
    bind: bool = False
    #: A volume's size cap in bytes (None: none), see :mod:`statcommons.platform.diskcap`.
    size: int | None = None


@dataclass(frozen=True)
class ServerSpec:
    profile: str
    image: str
    mounts: tuple[Mount, ...]
    mem_limit: int | None
    cpu_limit: float | None
    environment: dict[str, str] = field(default_factory=dict)
    uid: int = UID
    gid: int = GID
    workdir: str = HOME
    #: The project whose collaboration server this is (None: a user's own server).
    project: str | None = None
    #: Processes and threads the server may have (a cgroup limit of its own, not the per-uid nproc).
    pids_limit: int | None = None
    #: In-memory folders (path -> size in bytes); the rest of the image is read-only.
    tmpfs: dict[str, int] = field(default_factory=dict)












def choose_profile(profiles: dict, default: str, user_options: dict | None) -> str:
    """The profile a user asked for, checked against the allowlist of profiles."""
    options = dict(user_options or {})
    name = options.pop("profile", None) or default
    if options:
        unknown = ", ".join(sorted(map(repr, options)))
        raise UserOptionsError(
            f"spawn option {unknown} is not allowed: the only option is 'profile' (one of {', '.join(profiles)})"
        )
    if not isinstance(name, str) or name not in profiles:
        raise UserOptionsError(f"profile {name!r} is not allowed: choose one of {', '.join(profiles)}")
    return name


def _folder(settings: dict, key: str) -> str:
    """``runner.shared_notebooks`` or ``runner.datasets`` as an absolute path (relative ones from the repository)."""
    from ..settings import runner_folder

    return str(runner_folder(settings, key))


def shared_mounts(settings: dict) -> tuple[Mount, ...]:
    """The workspace's shared notebooks and data sets, read-only, for every server."""
    return (
        Mount(_folder(settings, "shared_notebooks"), SHARED_NOTEBOOKS_MOUNT, read_only=True, bind=True),
        Mount(_folder(settings, "datasets"), DATASETS_MOUNT, read_only=True, bind=True),
    )


def project_mount(settings: dict, project: str) -> Mount:
    """A project's volume, read-write at ``/mnt/projects/<project>``, made owned by uid 1000 if missing."""
    volume = names.project_volume(settings["servers"]["name_prefix"], project)
    size = parse_size((settings.get("projects") or {}).get("volume_size"))
    return Mount(volume, f"{PROJECTS_MOUNT}/{project}", owner=(UID, GID), size=size)


def scratch(settings: dict, home: bool = True) -> dict[str, int]:
    """The in-memory folders of a server (the home too when it has no volume, as a project server)."""
    size = parse_size(settings["servers"]["tmp_size"])
    folders = dict.fromkeys(SCRATCH_FOLDERS, size)
    if not home:
        folders[HOME] = size
    return folders


def service_urls(settings: dict) -> dict[str, str]:
    """The base URL of each enabled StatCommons service as a server reaches it, by environment variable.

    Through the hub's proxy in its own network namespace, straight to the service's port in host
    mode, on the host of ``engine.hub_connect_url`` in bridge mode
    (:func:`statcommons.platform.network.service_url_from_container`).
    """
    urls = {}
    for service, variable in SERVICE_URL_VARIABLES.items():
        if (settings.get(service) or {}).get("enabled"):
            urls[variable] = network.service_url_from_container(settings, service)
    return urls


def links_environment(settings: dict) -> dict[str, str]:
    """What a server's content links need: the origins of ``servers.git_origins`` (space-separated)."""
    origins = settings["servers"].get("git_origins") or []
    return {"STATCOMMONS_GIT_ORIGINS": " ".join(o.rstrip("/") for o in origins)} if origins else {}


def server_spec(
    settings: dict, username: str, user_options: dict | None = None, projects: Iterable[str] = ()
) -> ServerSpec:
    """Everything a user's server gets, computed from settings, the user's projects and the spawn options.

    ``projects`` are the projects the user belongs to (from their hub groups): each one's volume
    is mounted read-write at ``/mnt/projects/<name>`` and linked at ``~/projects/<name>``.
    """
    name = choose_profile(settings["profiles"], settings["default_profile"], user_options)
    profile = settings["profiles"][name]
    prefix = settings["servers"]["name_prefix"]
    home_size = parse_size(settings["servers"]["home_size"])
    home = Mount(home_volume(prefix, username), HOME, owner=(UID, GID), size=home_size)
    mounts = [home, *shared_mounts(settings)]
    mounts += [project_mount(settings, project) for project in sorted(set(projects))]
    return ServerSpec(
        profile=name,
        image=profile["image"],
        mounts=tuple(mounts),
        mem_limit=parse_size(profile.get("mem_limit")),
        cpu_limit=profile.get("cpu_limit"),
        environment={"STATCOMMONS_PROFILE": name, **service_urls(settings), **links_environment(settings)},
        pids_limit=settings["servers"]["pids_limit"],
        tmpfs=scratch(settings),
    )


def project_server_spec(settings: dict, project: str, user_options: dict | None = None) -> ServerSpec:
    """The collaboration server of ``project``: its volume as the working folder, no home of anyone.

    It runs the default profile's image (or the profile asked for) as uid 1000 like every server;
    ``STATCOMMONS_PROJECT`` turns on the project-server extension of the lab image.
    """
    name = choose_profile(settings["profiles"], settings["default_profile"], user_options)
    profile = settings["profiles"][name]
    mount = project_mount(settings, project)
    return ServerSpec(
        profile=name,
        image=profile["image"],
        mounts=(mount, *shared_mounts(settings)),
        mem_limit=parse_size(profile.get("mem_limit")),
        cpu_limit=profile.get("cpu_limit"),
        environment={
            "STATCOMMONS_PROFILE": name,
            "STATCOMMONS_PROJECT": project,
            **service_urls(settings),
            **links_environment(settings),
        },
        workdir=mount.target,
        project=project,
        pids_limit=settings["servers"]["pids_limit"],
        tmpfs=scratch(settings, home=False),
    )
