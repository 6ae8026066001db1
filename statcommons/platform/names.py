"""Names StatCommons gives things: users' volumes, projects' groups, accounts and volumes.

One place for these conventions: the spawner, the services and the collaboration servers all
derive names with these functions. A project's name is a DNS label; its member group is
``project-<name>``, its collaboration account ``<name>-collab``, its volume
``<prefix>-project-<name>``.
"""

from __future__ import annotations

import re

from escapism import escape

_SAFE_NAME = set("abcdefghijklmnopqrstuvwxyz0123456789-")


def safe_name(username: str) -> str:
    """A username as it may appear in a volume or container name (reversible escape)."""
    return escape(username, safe=_SAFE_NAME, escape_char="_")


def home_volume(prefix: str, username: str) -> str:
    return f"{prefix}-home-{safe_name(username)}"

#: The prefix of every project's member group: ``project-<name>``, where a name is a DNS label.
MEMBER_GROUP_PREFIX = "project-"
#: The hub group of every collaboration account; the spawner gives a project-server spec to its members only.
#: Never ``project-<anything>``: a project's member group could take that name.
COLLAB_GROUP = "collaboration-accounts"
#: The collaboration group's name before it changed; the projects service moves its members at start.
LEGACY_COLLAB_GROUP = "project-servers"
#: Appended to a project's name to make its collaboration account's username.
COLLAB_SUFFIX = "-collab"
#: The longest project name: ``<name>-collab`` and ``<prefix>-project-<name>`` stay short and valid.
MAX_NAME_LENGTH = 40
#: A DNS label: lowercase letters, digits and inner hyphens.
NAME_PATTERN = r"^[a-z0-9]([a-z0-9-]*[a-z0-9])?$"
#: Set in the properties of a project's member group by the projects service; the spawner mounts
#: the volume of a ``project-*`` group only when this property names the project.
GROUP_PROPERTY = "statcommons_project"


def name_problem(name: object) -> str | None:
    """Why ``name`` cannot be a project's name, or None when it can."""
    rule = f"lowercase letters, digits and inner hyphens, at most {MAX_NAME_LENGTH} characters (a DNS label)"
    if not isinstance(name, str) or not name:
        return f"a project name is required: {rule}"
    if len(name) > MAX_NAME_LENGTH:
        return f"{name[:60]!r} is {len(name)} characters long: at most {MAX_NAME_LENGTH} are allowed"
    if not re.fullmatch(NAME_PATTERN, name):
        return f"{name[:60]!r} is not allowed: use {rule}"
    return None


def project_of_group(name: str, properties: dict | None) -> str | None:
    """The project whose member group this is, when the projects service made it (None otherwise)."""
    project = (properties or {}).get(GROUP_PROPERTY)
    if isinstance(project, str) and name == member_group(project) and name_problem(project) is None:
        return project
    return None


def projects_of(user) -> list[str]:
    """The projects ``user`` is a member of, by name, from the hub's own records of their groups.

    ``user`` is the hub's user (ORM or wrapper: anything with ``groups`` whose items have ``name``
    and ``properties``), or None. Only member groups the projects service marked count
    (:func:`project_of_group`): a group named ``project-*`` by hand gives nothing. The spawner
    mounts these projects' folders; the hub's home page lists them.
    """
    groups = getattr(user, "groups", None) or ()
    found = {project_of_group(group.name, group.properties) for group in groups}
    return sorted(project for project in found if project)


def member_group(project: str) -> str:
    """The hub group holding a project's members (owners and members alike)."""
    return f"{MEMBER_GROUP_PREFIX}{project}"


def reserved_group_problem(name: str) -> str | None:
    """Why a group named elsewhere (a setting, an identity provider) may not be ``name``, or None.

    ``project-*`` names belong to projects' member groups and :data:`COLLAB_GROUP` to the
    collaboration accounts: a group of another origin with such a name would give its members
    a project's files or a project's server.
    """
    if name.startswith(MEMBER_GROUP_PREFIX):
        return f"names starting with {MEMBER_GROUP_PREFIX!r} are kept for projects' member groups"
    if name in (COLLAB_GROUP, LEGACY_COLLAB_GROUP):
        return f"{name!r} is kept for the projects' collaboration accounts"
    return None


def collab_user(project: str) -> str:
    """The hub user whose server is the project's real-time collaboration server."""
    return f"{project}{COLLAB_SUFFIX}"


def project_of_collab_user(username: str) -> str | None:
    """The project a collaboration account belongs to, from its username (None if not one)."""
    if username.endswith(COLLAB_SUFFIX) and len(username) > len(COLLAB_SUFFIX):
        return username[: -len(COLLAB_SUFFIX)]
    return None


def project_volume(prefix: str, project: str) -> str:
    """The engine volume holding a project's files."""
    return f"{prefix}-project-{project}"
