"""Who is calling the projects service, and what their hub scopes let them do.

Permissions are JupyterHub custom scopes granted by the roles of
:func:`statcommons.hub.config.update_services`: every user has ``custom:projects:use`` (create
projects, see and work in the projects they belong to, manage the members of those they own);
admins also have ``custom:projects:admin`` (see and manage every project).  Who belongs to a
project is the hub group ``project-<name>``; who owns it is kept by the service.  Light on
imports: the hub's configuration imports it.
"""

from __future__ import annotations

from ..kit import caller as kit_caller

USE = "custom:projects:use"
ADMIN = "custom:projects:admin"

CUSTOM_SCOPES = {
    USE: {"description": "Create projects, work in your projects and manage the members of those you own"},
    ADMIN: {"description": "See and manage every project"},
}


class Caller(kit_caller.Caller):
    """A hub user or service calling the projects service (or an admin at the command line)."""

    @classmethod
    def operator(cls) -> Caller:
        """The administrator at the command line (``python -m statcommons projects ...``)."""
        return cls(name="statcommons", kind="cli", scopes=frozenset({USE, ADMIN}))

    @property
    def admin(self) -> bool:
        return ADMIN in self.scopes

    @property
    def can_use(self) -> bool:
        return USE in self.scopes or self.admin
