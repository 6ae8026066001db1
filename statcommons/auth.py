"""Local accounts with sign-up and admin approval, and the first admin's bootstrap.

:class:`SignupAuthenticator` is NativeAuthenticator (bcrypt-hashed passwords,
a sign-up form, an approval page for admins at ``/hub/authorize``) plus two
things it lacks: at first start every configured admin gets an approved
account whose password comes from ``STATCOMMONS_ADMIN_PASSWORD`` or is
generated, printed once and written to a file only root can read (there is
never a known default password); and approving, un-approving or discarding an
account takes a POST with the page's XSRF token, never a GET
(:mod:`statcommons.approval`).  :func:`post_auth` is every authenticator's
post-auth hook: nobody logs in as a project's collaboration account, and groups
from an identity provider never take a project's group name.
"""

from __future__ import annotations

import os
import secrets
import sys
from pathlib import Path

import bcrypt
from nativeauthenticator import NativeAuthenticator
from nativeauthenticator.orm import UserInfo
from traitlets import Unicode

from . import approval
from .projects import names


def refuse_collaboration_accounts(authenticator, handler, auth_model: dict | None) -> dict | None:
    """``Authenticator.post_auth_hook``: no login as a project's collaboration account.

    Those accounts (``<project>-collab``) belong to the projects service, whatever the
    authenticator: a person signing up or coming from an identity provider with such a name
    is refused, so nobody gets a project's server as their own.
    """
    if auth_model and names.project_of_collab_user(auth_model.get("name", "")):
        authenticator.log.warning("Refused a login as %r: a name kept for collaboration accounts", auth_model["name"])
        return None
    return auth_model


def keep_project_groups(authenticator, handler, auth_model: dict | None) -> dict | None:
    """With groups from an identity provider, projects' groups stay the projects service's.

    When the authenticator manages groups (``auth.oidc.allowed_groups`` or ``admin_groups``), the
    hub makes a user's groups exactly those of the login. A provider's group named like a
    project's member group (``project-*``) or the collaboration accounts' group would then hand
    out a project, and the projects the user was added to would be taken away at each login:
    so such names from the provider are ignored, and the user's project groups are kept.
    """
    if not auth_model or "groups" not in auth_model or not getattr(authenticator, "manage_groups", False):
        return auth_model
    offered = [g for g in auth_model.get("groups") or [] if isinstance(g, str)]
    kept = {g for g in offered if names.reserved_group_problem(g) is None}
    if set(offered) - kept:
        authenticator.log.warning(
            "Ignored the groups %s of %r from the identity provider: names kept for projects",
            ", ".join(sorted(set(offered) - kept)),
            auth_model.get("name"),
        )
    user = handler.find_user(auth_model["name"]) if handler is not None else None
    kept |= {names.member_group(project) for project in names.projects_of(user)}
    return {**auth_model, "groups": sorted(kept)}


def post_auth(authenticator, handler, auth_model: dict | None) -> dict | None:
    """``Authenticator.post_auth_hook`` of every authenticator StatCommons configures."""
    auth_model = refuse_collaboration_accounts(authenticator, handler, auth_model)
    return keep_project_groups(authenticator, handler, auth_model)


class SignupAuthenticator(NativeAuthenticator):
    """NativeAuthenticator with a safe admin bootstrap and approval by POST only."""

    initial_password_file = Unicode(
        "",
        help="""Where a generated first admin password is written (mode 0600).
        Empty: only print it.""",
    ).tag(config=True)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.bootstrap_admins()

    def get_handlers(self, app):
        """NativeAuthenticator's pages, with its approval and discard handlers replaced by ours."""
        native = [(route, handler) for route, handler in super().get_handlers(app) if route not in approval.HANDLERS]
        return native + list(approval.HANDLERS.items())

    def bootstrap_admins(self, env: dict | None = None) -> None:
        env = os.environ if env is None else env
        for name in sorted(self.admin_users):
            if UserInfo.find(self.db, name) is not None:
                continue
            password = env.get("STATCOMMONS_ADMIN_PASSWORD")
            generated = not password
            if generated:
                password = secrets.token_urlsafe(18)
            hashed = bcrypt.hashpw(password.encode(), bcrypt.gensalt())
            self.db.add(UserInfo(username=name, password=hashed, is_authorized=True))
            self.db.commit()
            if generated:
                self._announce(name, password)
            else:
                self.log.info("Created admin account %r with the password from the environment", name)

    def _announce(self, name: str, password: str) -> None:
        where = ""
        if self.initial_password_file:
            path = Path(self.initial_password_file)
            path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "w") as f:
                f.write(f"{name} {password}\n")
            where = f" (also in {path}, readable by root only)"
        # Straight to the terminal, once: the hub's log never holds the password.
        print(
            f"\n  First start: admin account {name!r} created with password {password}{where}\n"
            "  Change it at /hub/change-password after logging in.\n",
            file=sys.stderr,
            flush=True,
        )
