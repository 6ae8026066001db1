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
from traitlets import Float, Integer, Unicode

from ..platform import names
from . import approval, logins


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
    """NativeAuthenticator with a safe admin bootstrap, approval by POST only, and the login and
    sign-up forms of :mod:`statcommons.hub.logins` (throttled, limited, hashing off the event loop)."""

    initial_password_file = Unicode(
        "",
        help="""Where a generated first admin password is written (mode 0600).
        Empty: only print it.""",
    ).tag(config=True)

    max_username_length = Integer(64, help="The longest user name a sign-up or login may give.").tag(config=True)

    max_password_length = Integer(
        72, help="The longest password, in bytes of UTF-8 (bcrypt reads no more than 72)."
    ).tag(config=True)

    failed_logins_per_account = Integer(
        5,
        help="""Failed logins for one account from one address before each next try waits (1 s,
        2 s, 4 s... up to failed_login_delay_max).""",
    ).tag(config=True)

    failed_logins_per_address = Integer(
        30, help="Failed logins from one address, whatever the accounts, before each next try waits."
    ).tag(config=True)

    failed_login_delay_max = Float(60.0, help="The longest wait after failed logins, in seconds.").tag(config=True)

    signups_per_address_per_hour = Integer(5, help="Accounts one address may sign up within an hour.").tag(
        config=True
    )

    signups_per_hour = Integer(100, help="Accounts that may be signed up within an hour, by everyone.").tag(
        config=True
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.bootstrap_admins()
        self.signups, self.all_signups, self.throttle = logins.limits(self)
        # Checked for an unknown account, so that it costs what a known one does.
        self._stand_in_hash = bcrypt.hashpw(secrets.token_bytes(16), bcrypt.gensalt())

    def get_handlers(self, app):
        """NativeAuthenticator's pages, with approval, discard, login and sign-up replaced by ours."""
        ours = {**approval.HANDLERS, **logins.HANDLERS}
        native = [(route, handler) for route, handler in super().get_handlers(app) if route not in ours]
        return native + list(ours.items())

    async def authenticate(self, handler, data):
        """One bcrypt check, in a thread, whether or not the account exists or is approved.

        A correct password of an account still waiting for approval is told apart for the login
        form (``handler.statcommons_refusal``), as NativeAuthenticator did.
        """
        username = self.normalize_username(data.get("username", ""))
        password = data.get("password", "")
        user = self.get_user(username)
        hashed = user.password if user is not None else self._stand_in_hash
        try:
            valid = await logins.check_password(password, hashed)
        except ValueError:  # a password bcrypt cannot take (too long, a NUL byte)
            valid = False
        if user is None or not valid:
            return None
        if not user.is_authorized:
            if handler is not None:
                handler.statcommons_refusal = "pending"
            return None
        if user.has_2fa and not user.is_valid_token(data.get("2fa")):
            return None
        return username

    async def create_user_async(self, username: str, password: str, **kwargs) -> UserInfo | None:
        """NativeAuthenticator's ``create_user``, hashing in a thread: None when refused."""
        username = self.normalize_username(username)
        if self.user_exists(username) or not self.validate_username(username):
            return None
        if not self.is_password_strong(password) or not self.enable_signup:
            return None
        infos = {"username": username, "password": await logins.hash_password(password), **kwargs}
        if self.open_signup or username in self.get_authed_users():
            infos["is_authorized"] = True
        try:
            user_info = UserInfo(**infos)
        except AssertionError:  # an e-mail address NativeAuthenticator refuses
            return None
        self.db.add(user_info)
        self.db.commit()
        return user_info

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
