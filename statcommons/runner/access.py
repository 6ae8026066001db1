"""Who is calling the runner, and what their hub scopes let them do.

Permissions are JupyterHub custom scopes granted by the roles of
:func:`statcommons.hub.config.update_services`: every user has ``custom:runner:run`` (run their
own notebooks and library notebooks, see and cancel their own runs and schedules); curators
and admins also have ``custom:runner:admin`` (see and cancel every run and schedule, list the
failing library notebooks). Light on imports: the hub's configuration imports it.
"""

from __future__ import annotations

from ..kit import caller as kit_caller

RUN = "custom:runner:run"
ADMIN = "custom:runner:admin"

CUSTOM_SCOPES = {
    RUN: {"description": "Run your own notebooks and library notebooks with the notebook runner"},
    ADMIN: {"description": "See and cancel every notebook run and schedule"},
}


class Caller(kit_caller.Caller):
    """A hub user or service calling the runner."""

    @property
    def admin(self) -> bool:
        """Curators and admins see every run."""
        return ADMIN in self.scopes

    @property
    def can_run(self) -> bool:
        return RUN in self.scopes or self.admin

    def sees(self, owner: str) -> bool:
        return self.admin or owner == self.name
