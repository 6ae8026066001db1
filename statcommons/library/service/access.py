"""Who is calling the library service, and what their hub scopes let them do.

Permissions are JupyterHub custom scopes, granted by the roles in
:func:`statcommons.hub.config.update_services`: every user reads and submits, the
curators group reviews, admins administer, and the runner records notebook runs.
The service asks the hub who a token or cookie belongs to and reads the scopes in
the answer; it never keeps a list of users of its own.
"""

from __future__ import annotations

from ...kit import caller as kit_caller

READ = "custom:library:read"
SUBMIT = "custom:library:submit"
REVIEW = "custom:library:review"
ADMIN = "custom:library:admin"
RUNS = "custom:library:runs"

CUSTOM_SCOPES = {
    READ: {"description": "Read the library catalogue"},
    SUBMIT: {"description": "Submit items to the library, rate and comment"},
    REVIEW: {"description": "Review library submissions: publish, reject, retire, hide comments"},
    ADMIN: {"description": "Administer the library: change any item"},
    RUNS: {"description": "Record the latest run of library notebooks"},
}


class Caller(kit_caller.Caller):
    """A hub user or service calling the library, with what it may do."""

    @property
    def admin(self) -> bool:
        return ADMIN in self.scopes

    @property
    def curator(self) -> bool:
        """Curators and admins review and see every item."""
        return REVIEW in self.scopes or self.admin

    @property
    def can_read(self) -> bool:
        return READ in self.scopes or self.curator

    @property
    def can_submit(self) -> bool:
        return SUBMIT in self.scopes

    @property
    def can_record_runs(self) -> bool:
        return RUNS in self.scopes or self.admin

    def viewer(self) -> dict:
        """What :meth:`Store.search` needs to decide visibility."""
        return {"user": self.name, "curator": self.curator}

    def as_json(self) -> dict:
        return {
            "name": self.name,
            "kind": self.kind,
            "can_submit": self.can_submit,
            "curator": self.curator,
            "admin": self.admin,
        }
