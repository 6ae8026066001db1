"""What a user's server gets, as plain data, whatever the container engine.

:func:`server_spec` turns the settings, a username and the spawn options a
user sent into a :class:`ServerSpec`: profile, image, mounts, limits and
environment.  Nothing here talks to an engine; :mod:`statcommons.spawner`
turns a spec into DockerSpawner options, and a Kubernetes layer can do the
same for KubeSpawner.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from escapism import escape

HOME = "/home/jovyan"
UID = 1000
GID = 100

_UNITS = {"": 1, "K": 1024, "M": 1024**2, "G": 1024**3, "T": 1024**4}
_SAFE_NAME = set("abcdefghijklmnopqrstuvwxyz0123456789-")


class UserOptionsError(ValueError):
    """Spawn options that are not allowed; ``str()`` says what and what is."""


@dataclass(frozen=True)
class Mount:
    """A named volume mounted into the server; ``owner`` (uid, gid) of a volume made for it."""

    volume: str
    target: str
    read_only: bool = False
    owner: tuple[int, int] | None = None


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


def parse_size(size: str | None) -> int | None:
    """'4G' -> bytes (binary units, as Docker and Kubernetes read them)."""
    if size is None:
        return None
    match = re.fullmatch(r"([0-9]+(?:\.[0-9]+)?)([KMGT]?)", size)
    if not match:
        raise ValueError(f"not a size: {size!r}")
    return int(float(match.group(1)) * _UNITS[match.group(2)])


def safe_name(username: str) -> str:
    """A username as it may appear in a volume or container name (reversible escape)."""
    return escape(username, safe=_SAFE_NAME, escape_char="_")


def home_volume(prefix: str, username: str) -> str:
    return f"{prefix}-home-{safe_name(username)}"


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


def server_spec(settings: dict, username: str, user_options: dict | None = None) -> ServerSpec:
    """Everything a user's server gets, computed from settings and the spawn options."""
    name = choose_profile(settings["profiles"], settings["default_profile"], user_options)
    profile = settings["profiles"][name]
    prefix = settings["servers"]["name_prefix"]
    return ServerSpec(
        profile=name,
        image=profile["image"],
        mounts=(Mount(home_volume(prefix, username), HOME, owner=(UID, GID)),),
        mem_limit=parse_size(profile.get("mem_limit")),
        cpu_limit=profile.get("cpu_limit"),
        environment={"STATCOMMONS_PROFILE": name},
    )
