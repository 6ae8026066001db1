"""What links that bring content into a home may do: where they write, and whom they clone from.

A link is a URL anyone can post (in a library comment, say) that makes the server of whoever
clicks it write files: nbgitpuller's ``git-pull?repo=...&targetpath=...`` and the Library panel's
*Open in my workspace*. So, whatever the link says:

* it writes only inside the server's root folder (the user's home), checked after resolving
  symbolic links, never into a hidden folder (``.local``, ``.jupyter``, ``.ipython``, ... hold
  kernels and start-up code) and never into the folders linked to shared volumes
  (``~/projects``, ``~/shared-notebooks``, ``~/datasets``);
* it clones only over http(s) from an allowed origin (scheme, host and port): the origins of
  the library's published notebooks, and those an administrator lists in the setting
  ``servers.git_origins`` (given to servers as ``STATCOMMONS_GIT_ORIGINS``).

Pure functions, tested on the host; :mod:`.gitpull` applies them to nbgitpuller's handlers.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path, PurePosixPath
from urllib.parse import urlsplit

#: Folders of the home that are links to shared volumes: content links never write there.
SHARED_FOLDERS = ("projects", "shared-notebooks", "datasets")
#: The setting that allows more origins, as an administrator finds it in statcommons.yaml.
ORIGINS_SETTING = "servers.git_origins"
ORIGINS_VARIABLE = "STATCOMMONS_GIT_ORIGINS"
_DEFAULT_PORTS = {"http": 80, "https": 443}


class LinkRefused(Exception):
    """A link that may not do what it asks; ``str()`` tells the user what and why."""

    def __init__(self, message: str, status: int = 403):
        super().__init__(message)
        self.message = message
        self.status = status


def origin(url: str) -> str:
    """``scheme://host[:port]`` of an http(s) URL, the port left out when it is the scheme's own.

    Raises :class:`LinkRefused` for anything else (``file:``, ``ssh:``, ``git:``, ``ext::``...).
    """
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        raise LinkRefused(f"{url[:200]!r} is not a repository URL") from None
    scheme = parts.scheme.lower()
    if scheme not in _DEFAULT_PORTS or not parts.hostname:
        raise LinkRefused(f"{url[:200]!r} is not an http or https repository URL: only those are cloned")
    if parts.username or parts.password:
        raise LinkRefused("a repository URL with a user name or password in it is not cloned")
    host = parts.hostname.lower()
    if ":" in host:
        host = f"[{host}]"
    if port is None or port == _DEFAULT_PORTS[scheme]:
        return f"{scheme}://{host}"
    return f"{scheme}://{host}:{port}"


def origins_from_setting(env: dict | None = None) -> set[str]:
    """The origins of ``servers.git_origins``, as the spawner passes them (space-separated)."""
    text = (os.environ if env is None else env).get(ORIGINS_VARIABLE, "")
    found = set()
    for entry in text.split():
        try:
            found.add(origin(entry))
        except LinkRefused:
            continue
    return found


def check_origin(url: str, allowed: Iterable[str]) -> str:
    """The URL's origin when it may be cloned; otherwise :class:`LinkRefused` naming it and the setting."""
    found = origin(url)
    normalized = set()
    for entry in allowed:
        try:
            normalized.add(origin(entry))
        except LinkRefused:
            continue
    if found not in normalized:
        raise LinkRefused(
            f"This link asks to clone a repository from {found}, which is not an allowed origin. "
            f"Repositories are cloned only from the origins of published library notebooks and those "
            f"an administrator lists in the setting {ORIGINS_SETTING}: ask them to add {found} there."
        )
    return found


def _check_parts(parts: tuple[str, ...], shown: str) -> None:
    if not parts:
        raise LinkRefused(f"{shown!r} is the home folder itself: a link writes into a folder of its own")
    hidden = next((p for p in parts if p.startswith(".")), None)
    if hidden is not None:
        raise LinkRefused(f"{shown!r} is in the hidden folder {hidden!r}: links never write into hidden folders")
    if parts[0] in SHARED_FOLDERS:
        raise LinkRefused(
            f"{shown!r} is under ~/{parts[0]}, a shared folder: links write only into your own files"
        )


def target(home: str | os.PathLike, relative: str) -> Path:
    """Where a link may write: ``home/relative``, resolved, inside the home and allowed; else LinkRefused."""
    if not isinstance(relative, str) or not relative.strip("/"):
        raise LinkRefused("the link names no folder to write into")
    pure = PurePosixPath(relative)
    if pure.is_absolute() or "\\" in relative or ".." in pure.parts:
        raise LinkRefused(f"{relative!r} is not a folder of your home: give a path relative to it, without ..")
    _check_parts(tuple(p for p in pure.parts if p not in ("", ".")), relative)
    root = Path(home).expanduser().resolve()
    resolved = (root / pure).resolve()
    try:
        inside = resolved.relative_to(root)
    except ValueError:
        raise LinkRefused(f"{relative!r} leads outside your home (through a link): nothing was written") from None
    _check_parts(inside.parts, relative)
    return resolved
