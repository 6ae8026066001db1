"""How a project's name becomes the names of its hub group, collaboration account and volume.

One place for these conventions: the projects service, the spawner and the collaboration
servers all derive names from the project name with these functions.
"""

from __future__ import annotations

#: The hub group of every collaboration account; the spawner gives a project-server spec to its members only.
COLLAB_GROUP = "project-servers"
#: Appended to a project's name to make its collaboration account's username.
COLLAB_SUFFIX = "-collab"


def member_group(project: str) -> str:
    """The hub group holding a project's members (owners and members alike)."""
    return f"project-{project}"


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
