"""What a service gives the hub to be registered, and what every service's registration shares.

Each service has one ``registration`` module that computes, from the validated settings, its
:class:`Registration`: the ``c.JupyterHub.services`` entry (command, URL, environment), its roles,
the scopes every user gets, its custom scopes, what users' servers' tokens may carry and its
database (for ``statcommons upgrade``). The hub's configuration only calls them. A service
process reads the same settings file itself (``STATCOMMONS_SETTINGS`` in its environment) and
builds its options with the same module: nothing travels as command-line strings.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field

from ..platform import clientaddress, network
from ..platform.paths import ROOT
from ..settings import settings_path
from .migrations import Database

#: Passed on to services that reach the container engine, when set.
ENGINE_ENV = ("DOCKER_HOST", "CONTAINERS_CONF", "DOCKER_CERT_PATH", "DOCKER_TLS_VERIFY")
#: Passed on to services with a PostgreSQL database, when set: how psycopg finds it and its password.
POSTGRES_ENV = ("PGHOST", "PGPORT", "PGUSER", "PGPASSWORD", "PGPASSFILE", "PGSSLMODE", "PGSSLROOTCERT")


@dataclass
class Registration:
    """A service as the hub registers it."""

    service: dict
    roles: list[dict] = field(default_factory=list)
    #: Scopes added to the ``user`` role: what every user may do with the service.
    user_scopes: list[str] = field(default_factory=list)
    #: What those scopes let users do, for the ``user`` role's description.
    user_purpose: str = ""
    custom_scopes: dict = field(default_factory=dict)
    #: What a user's own server may do with the service, on its user's behalf.
    server_scopes: list[str] = field(default_factory=list)
    #: The service's database, which ``statcommons upgrade`` brings to the newest revision.
    database: Database | None = None


def service_entry(
    settings: dict, env: dict, name: str, module: str, *, passed: tuple[str, ...] = (), **extra
) -> dict:
    """A ``c.JupyterHub.services`` entry for the service ``name`` run as ``python -m module``.

    The service reads the settings file named in its environment; ``passed`` names variables of
    the hub's environment it also gets (engine sockets, database passwords) when they are set.
    """
    environment = {"STATCOMMONS_SETTINGS": str(settings_path(env).resolve())}
    environment.update({key: env[key] for key in passed if env.get(key)})
    trusted = settings["hub"]["trusted_proxies"]
    if trusted:
        environment[clientaddress.TRUSTED_VARIABLE] = " ".join(trusted)
    entry = {
        "name": name,
        "url": f"http://{network.internal_ip(settings)}:{settings[name]['port']}",
        "command": [sys.executable, "-m", module],
        "cwd": str(ROOT),
        "environment": environment,
        # Part of the hub: users are not asked to authorise it the first time they open it.
        "oauth_no_confirm": True,
    }
    for key, value in extra.items():
        if key == "environment":
            entry["environment"].update(value)
        else:
            entry[key] = value
    return entry


def admins_role(settings: dict, name: str, description: str, scopes: list[str], ops: bool) -> dict:
    """A role for the hub's administrators (``auth.admin_users``, OIDC admin groups, the ops token)."""
    role = {"name": name, "description": description, "scopes": scopes}
    role["users"] = list(settings["auth"]["admin_users"])
    if settings["auth"]["type"] == "oidc" and settings["auth"]["oidc"]["admin_groups"]:
        role["groups"] = list(settings["auth"]["oidc"]["admin_groups"])
    if ops:
        role["services"] = ["ops"]
    return role
