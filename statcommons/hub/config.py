"""The hub's configuration, computed from the settings by small pure functions.

``apply_config(settings, c, env)`` is all ``jupyterhub_config.py`` calls.
Each ``update_*`` function only sets values on the traitlets Config it is
given, so each is unit-tested against a bare ``traitlets.config.Config()``.
Secrets (OAuth client, ops token, admin password) come only from ``env``.
"""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

import nativeauthenticator

from ..library.service.access import ADMIN, CUSTOM_SCOPES, READ, REVIEW, RUNS, SUBMIT
from ..platform import clientaddress, containers, network
from ..platform import names as project_names
from ..platform.containers import GID, START_HOOK, UID
from ..platform.units import ulimits_text
from ..projects import access as projects_access
from ..runner import access as runner_access
from ..settings import (
    ROOT,
    SettingsError,
    library_database_url,
    library_folder,
    projects_archive_folder,
    projects_database_url,
    runner_folder,
    state_dir,
)
from .auth import post_auth

#: The hub templates of StatCommons, found before JupyterHub's (and NativeAuthenticator's) own.
TEMPLATES = str(Path(__file__).with_name("templates"))


def _hub_url(settings: dict) -> str:
    hub = settings["hub"]
    if hub["public_url"]:
        return hub["public_url"].rstrip("/") + hub["base_url"]
    proto = "https" if hub["ssl_cert"] else "http"
    return f"{proto}://{hub['ip']}:{hub['port']}{hub['base_url']}"


def update_hub(c, settings: dict) -> None:
    hub = settings["hub"]
    state = state_dir(settings)
    proto = "https" if hub["ssl_cert"] else "http"
    c.JupyterHub.bind_url = f"{proto}://{hub['ip']}:{hub['port']}{hub['base_url']}"
    c.JupyterHub.hub_port = hub["api_port"]
    c.JupyterHub.db_url = f"sqlite:///{state / 'jupyterhub.sqlite'}"
    c.JupyterHub.cookie_secret_file = str(state / "jupyterhub_cookie_secret")
    c.JupyterHub.pid_file = str(state / "jupyterhub.pid")
    # Servers keep running when the hub restarts; the hub finds them again from its database.
    c.JupyterHub.cleanup_servers = False
    c.JupyterHub.allow_named_servers = False
    if hub["ssl_cert"]:
        c.JupyterHub.ssl_cert = hub["ssl_cert"]
        c.JupyterHub.ssl_key = hub["ssl_key"]


def update_proxy(c, settings: dict, root: Path = ROOT) -> None:
    state = state_dir(settings)
    # Node itself, so that the proxy loads our fix for paths that are not valid percent-encoding first.
    c.ConfigurableHTTPProxy.command = [
        shutil.which("node") or "node",
        "--import",
        (Path(__file__).parent / "proxy" / "bad-paths.mjs").as_uri(),
        str(root / "node_modules" / "configurable-http-proxy" / "bin" / "configurable-http-proxy"),
    ]
    c.ConfigurableHTTPProxy.pid_file = str(state / "proxy.pid")
    c.ConfigurableHTTPProxy.api_url = f"http://{network.internal_ip(settings)}:{settings['hub']['port'] + 1}"


def update_network(c, settings: dict) -> None:
    engine = settings["engine"]
    c.StatCommonsSpawner.network_mode = engine["network"]
    if engine["network"] == "bridge":
        c.JupyterHub.hub_ip = "0.0.0.0"
        c.JupyterHub.hub_connect_url = engine["hub_connect_url"]
        c.DockerSpawner.network_name = engine["bridge_network"]
        c.DockerSpawner.use_internal_ip = True
        return
    # The hub API, the proxy API and every server's published port are on the internal address,
    # where no container connects: containers go through the public proxy, like browsers.
    internal = network.internal_ip(settings)
    c.JupyterHub.hub_ip = internal
    c.StatCommonsSpawner.loopback_ip = internal
    c.DockerSpawner.network_name = network.container_network(settings)
    # No port publishing by DockerSpawner: in host mode the server binds its own port, in
    # slirp4netns mode the spawner publishes it on a port of its choosing (StatCommonsSpawner.start).
    c.DockerSpawner.use_internal_ip = True
    c.Spawner.hub_connect_url = network.hub_from_container(settings)


def update_spawner(c, settings: dict) -> None:
    servers = settings["servers"]
    ulimits = settings["engine"]["ulimits"]
    c.JupyterHub.spawner_class = "statcommons.hub.spawner.StatCommonsSpawner"
    # What server_spec reads: profiles, names, the shared folders, and where the services listen.
    c.StatCommonsSpawner.settings = {
        key: settings[key]
        for key in (
            "state_dir",
            "hub",
            "engine",
            "profiles",
            "default_profile",
            "servers",
            "library",
            "runner",
            "projects",
        )
    }
    c.DockerSpawner.prefix = servers["name_prefix"]
    c.StatCommonsSpawner.volume_images = str(state_dir(settings) / "volumes")
    c.DockerSpawner.remove = True  # the home is a volume: containers are disposable
    c.DockerSpawner.pull_policy = "never"  # images are built here, there is no registry
    # The start hook links the shared folders and the user's projects into the home first.
    c.DockerSpawner.cmd = [START_HOOK, "jupyterhub-singleuser"]
    # Whose server a container is (DockerSpawner fills in the name): the projects service asks before deleting.
    # Every server runs as uid 1000 whatever its image says: Podman also gives a new volume (a capped
    # one, whose file system cannot take a uid option) to the user of the first container mounting it.
    c.DockerSpawner.extra_create_kwargs = {
        "labels": {"org.statcommons.user": "{raw_username}"},
        "user": f"{UID}:{GID}",
    }
    # Servers run as uid 1000 and need no privilege: none can be gained either.
    c.DockerSpawner.extra_host_config = containers.hardening(ulimits)
    c.Spawner.default_url = "/lab"
    c.Spawner.start_timeout = servers["start_timeout"]
    c.Spawner.http_timeout = servers["start_timeout"]
    c.Spawner.poll_interval = servers["poll_interval"]


def update_templates(c, settings: dict) -> None:
    """What StatCommons' hub templates (``statcommons/hub/templates``) show: the projects page in the
    navigation bar, and on the home page the projects of the logged-in user (a function of the
    user, which the hub calls for each page: :func:`statcommons.platform.names.projects_of`)."""
    variables = {"statcommons_local_accounts": settings["auth"]["type"] == "local"}
    if settings["projects"]["enabled"]:
        variables["statcommons_projects_url"] = f"{settings['hub']['base_url']}services/projects/"
        variables["statcommons_my_projects"] = project_names.projects_of
    c.JupyterHub.template_vars = variables


def _callback_url(settings: dict) -> str:
    return _hub_url(settings) + "hub/oauth_callback"


def _require_env(env: dict, names: tuple[str, ...], why: str) -> None:
    missing = [n for n in names if not env.get(n)]
    if missing:
        raise SettingsError(f"{why}: set {' and '.join(missing)} in the environment")


def update_auth(c, settings: dict, env: dict) -> None:
    auth = settings["auth"]
    kind = auth["type"]
    c.Authenticator.admin_users = set(auth["admin_users"])
    # Collaboration accounts are driven by the projects service; nobody logs in as one.
    c.Authenticator.post_auth_hook = post_auth
    if auth["allowed_users"]:
        c.Authenticator.allowed_users = set(auth["allowed_users"])
    if kind == "local":
        local = auth["local"]
        c.JupyterHub.authenticator_class = "statcommons.hub.auth.SignupAuthenticator"
        c.JupyterHub.template_paths = [TEMPLATES, str(Path(nativeauthenticator.__file__).parent / "templates")]
        c.SignupAuthenticator.enable_signup = True
        c.SignupAuthenticator.open_signup = local["open_signup"]
        c.SignupAuthenticator.minimum_password_length = local["minimum_password_length"]
        for limit in (
            "max_username_length",
            "max_password_length",
            "failed_logins_per_account",
            "failed_logins_per_address",
            "failed_login_delay_max",
            "signups_per_address_per_hour",
            "signups_per_hour",
        ):
            setattr(c.SignupAuthenticator, limit, local[limit])
        c.SignupAuthenticator.check_common_password = True
        c.SignupAuthenticator.initial_password_file = str(state_dir(settings) / "initial-admin-password")
        # Approval by an admin is the gate: authenticate() accepts approved accounts only.
        c.SignupAuthenticator.allow_all = True
        return

    c.JupyterHub.template_paths = [TEMPLATES]
    _require_env(env, ("OAUTH_CLIENT_ID", "OAUTH_CLIENT_SECRET"), f"auth.type is {kind!r}")
    oauth_cls = {
        "oidc": "statcommons.hub.oauth.OIDCAuthenticator",
        "github": "statcommons.hub.oauth.GitHubAuthenticator",
        "gitlab": "statcommons.hub.oauth.GitLabAuthenticator",
    }[kind]
    c.JupyterHub.authenticator_class = oauth_cls
    c.OAuthenticator.client_id = env["OAUTH_CLIENT_ID"]
    c.OAuthenticator.client_secret = env["OAUTH_CLIENT_SECRET"]
    c.OAuthenticator.oauth_callback_url = env.get("OAUTH_CALLBACK_URL") or _callback_url(settings)
    if kind == "oidc":
        oidc = auth["oidc"]
        c.GenericOAuthenticator.login_service = oidc["login_service"]
        c.GenericOAuthenticator.authorize_url = oidc["authorize_url"]
        c.GenericOAuthenticator.token_url = oidc["token_url"]
        c.GenericOAuthenticator.userdata_url = oidc["userdata_url"]
        c.GenericOAuthenticator.username_claim = oidc["username_claim"]
        c.GenericOAuthenticator.scope = list(oidc["scope"])
        c.GenericOAuthenticator.enable_pkce = True
        if oidc["allowed_groups"] or oidc["admin_groups"]:
            c.GenericOAuthenticator.manage_groups = True
            c.GenericOAuthenticator.auth_state_groups_key = f"oauth_user.{oidc['groups_claim']}"
            c.GenericOAuthenticator.allowed_groups = set(oidc["allowed_groups"])
            c.GenericOAuthenticator.admin_groups = set(oidc["admin_groups"])
        # An institution's own identity provider: with no group or user restriction,
        # everyone it authenticates may use the hub.
        c.GenericOAuthenticator.allow_all = not (oidc["allowed_groups"] or auth["allowed_users"])
    elif kind == "github":
        orgs = auth["github"]["allowed_organizations"]
        if not (orgs or auth["allowed_users"]):
            raise SettingsError(
                "auth.github.allowed_organizations: empty: with auth.type 'github' name the allowed "
                "organizations or auth.allowed_users, or every GitHub account could log in"
            )
        c.GitHubOAuthenticator.allowed_organizations = set(orgs)
        c.GitHubOAuthenticator.scope = ["read:org"]
    else:
        gitlab = auth["gitlab"]
        if not (gitlab["allowed_groups"] or auth["allowed_users"]):
            raise SettingsError(
                "auth.gitlab.allowed_groups: empty: with auth.type 'gitlab' name the allowed "
                "groups or auth.allowed_users, or every GitLab account could log in"
            )
        c.GitLabOAuthenticator.gitlab_url = gitlab["url"]
        c.GitLabOAuthenticator.allowed_gitlab_groups = set(gitlab["allowed_groups"])


def update_services(c, settings: dict, env: dict) -> None:
    services, roles = [], []
    culler = settings["culler"]
    if culler["enabled"]:
        services.append(
            {
                "name": "idle-culler",
                "command": [
                    sys.executable,
                    "-m",
                    "jupyterhub_idle_culler",
                    f"--timeout={culler['timeout']}",
                    f"--cull-every={culler['every']}",
                ],
            }
        )
        roles.append(
            {
                "name": "idle-culler",
                "description": "Stop servers that have been idle too long",
                "scopes": ["list:users", "read:users:activity", "read:servers", "delete:servers"],
                "services": ["idle-culler"],
            }
        )
    token = env.get("STATCOMMONS_API_TOKEN")
    if token:
        # The operator's key for scripts and monitoring: deliberately an admin.
        services.append({"name": "ops", "api_token": token, "display": False})
        roles.append({"name": "admin", "services": ["ops"]})
    if settings["library"]["enabled"]:
        library_service, library_roles = _library(settings, env, ops=bool(token))
        services.append(library_service)
        roles += library_roles
    custom_scopes = dict(CUSTOM_SCOPES) if settings["library"]["enabled"] else {}
    if settings["runner"]["enabled"]:
        runner_service, roles = _runner(settings, env, roles, ops=bool(token))
        services.append(runner_service)
        custom_scopes.update(runner_access.CUSTOM_SCOPES)
    if settings["projects"]["enabled"]:
        projects_service, roles = _projects(settings, env, roles, ops=bool(token))
        services.append(projects_service)
        custom_scopes.update(projects_access.CUSTOM_SCOPES)
    for service in services:
        if "command" in service and service["name"] != "idle-culler":
            service.setdefault("environment", {}).update(_proxy_environment(settings))
    c.JupyterHub.services = services
    c.JupyterHub.load_roles = roles
    c.JupyterHub.custom_scopes = custom_scopes


def _proxy_environment(settings: dict) -> dict:
    """The reverse proxies a service believes about clients' addresses (:mod:`statcommons.platform.clientaddress`)."""
    trusted = settings["hub"]["trusted_proxies"]
    return {clientaddress.TRUSTED_VARIABLE: " ".join(trusted)} if trusted else {}


# Passed on to the library service when set: how psycopg finds a PostgreSQL server and its password.
_LIBRARY_ENV = ("PGHOST", "PGPORT", "PGUSER", "PGPASSWORD", "PGPASSFILE", "PGSSLMODE", "PGSSLROOTCERT")


def _library(settings: dict, env: dict, ops: bool) -> tuple[dict, list[dict]]:
    """The library catalogue service and its roles: every user reads and submits, curators review."""
    library = settings["library"]
    environment = {"STATCOMMONS_LIBRARY_DB": library_database_url(settings, env)}
    environment.update({k: env[k] for k in _LIBRARY_ENV if env.get(k)})
    service = {
        "name": "library",
        "display": True,
        "url": f"http://{network.internal_ip(settings)}:{library['port']}",
        "command": [
            sys.executable,
            "-m",
            "statcommons.library.service",
            f"--folder={library_folder(settings)}",
            f"--search={library['search']}",
            f"--max-notebook-size={library['max_notebook_size']}",
            f"--max-video-size={library['max_video_size']}",
            f"--hub-url={_hub_url(settings)}",
        ],
        "cwd": str(ROOT),
        "environment": environment,
        "info": {"description": "The StatCommons library: publications, datasets, tutorials and more"},
        # Part of the hub: users are not asked to authorise it the first time they open it.
        "oauth_no_confirm": True,
        # What a user's OAuth token for the library may carry; each user gets the part their roles grant.
        "oauth_client_allowed_scopes": [READ, SUBMIT, REVIEW, ADMIN, RUNS],
    }
    admins = {"name": "library-admin", "description": "Administer the library", "scopes": [ADMIN, REVIEW]}
    admins["users"] = list(settings["auth"]["admin_users"])
    if settings["auth"]["type"] == "oidc" and settings["auth"]["oidc"]["admin_groups"]:
        admins["groups"] = list(settings["auth"]["oidc"]["admin_groups"])
    if ops:
        admins["services"] = ["ops"]
    roles = [
        {
            "name": "user",
            "description": "Standard user privileges, plus reading and submitting to the library",
            "scopes": ["self", "access:services!service=library", READ, SUBMIT],
        },
        {
            "name": "library-curator",
            "description": "Review library submissions",
            "scopes": ["access:services!service=library", READ, SUBMIT, REVIEW],
            "groups": [library["curators_group"]],
        },
        admins,
    ]
    return service, roles


def _grant_every_user(roles: list[dict], scopes: list[str], what: str) -> list[dict]:
    """A copy of ``roles`` whose ``user`` role (every user's) also has ``scopes``; ``what`` goes in its description."""
    roles = [dict(role) for role in roles]
    user_role = next((role for role in roles if role["name"] == "user"), None)
    if user_role is None:
        user_role = {"name": "user", "description": "Standard user privileges", "scopes": ["self"]}
        roles.append(user_role)
    user_role["scopes"] = [*user_role["scopes"], *scopes]
    user_role["description"] = f"{user_role.get('description', 'Standard user privileges')}, and {what}"
    return roles


# Passed on to the runner when set: how it reaches the container engine, and a database URL with a password.
_RUNNER_ENV = ("DOCKER_HOST", "CONTAINERS_CONF", "DOCKER_CERT_PATH", "DOCKER_TLS_VERIFY", "STATCOMMONS_RUNNER_DB")


def _runner(settings: dict, env: dict, roles: list[dict], ops: bool) -> tuple[dict, list[dict]]:
    """The notebook runner service, and the roles with its scopes added.

    Every user runs notebooks (the ``user`` role gains the runner's scope); curators and admins
    see every run; the service's own role lets it read the library and record runs there.
    """
    runner, hub, library = settings["runner"], settings["hub"], settings["library"]
    engine = settings["engine"]
    ulimits = ulimits_text(engine["ulimits"])
    command = [
        sys.executable,
        "-m",
        "statcommons.runner",
        f"--state={state_dir(settings) / 'runner'}",
        f"--image={runner['image']}",
        f"--concurrency={runner['concurrency']}",
        f"--time-limit={runner['time_limit']}",
        f"--mem-limit={runner['mem_limit']}",
        f"--cpu-limit={runner['cpu_limit'] or 0}",
        f"--max-active-per-user={runner['max_active_per_user']}",
        f"--min-schedule-interval={runner['min_schedule_interval']}",
        f"--keep-days={runner['keep_days']}",
        f"--name-prefix={settings['servers']['name_prefix']}",
        f"--network={network.container_network(settings)}",
        f"--ulimits={ulimits}",
        f"--pids-limit={settings['servers']['pids_limit']}",
        f"--tmp-size={settings['servers']['tmp_size']}",
        f"--volume-images={state_dir(settings) / 'volumes'}",
        f"--shared-notebooks={runner_folder(settings, 'shared_notebooks')}",
        f"--datasets={runner_folder(settings, 'datasets')}",
    ]
    if library["enabled"]:
        internal = network.internal_ip(settings)
        command.append(f"--library-url=http://{internal}:{library['port']}{hub['base_url']}services/library/")
    service = {
        "name": "runner",
        "display": False,  # an API: nothing to show in the services menu
        "url": f"http://{network.internal_ip(settings)}:{runner['port']}",
        "command": command,
        "cwd": str(ROOT),
        "environment": {k: env[k] for k in _RUNNER_ENV if env.get(k)},
        "info": {"description": "Runs notebooks in fresh containers, now or on a schedule"},
        "oauth_no_confirm": True,
        "oauth_client_allowed_scopes": [runner_access.RUN, runner_access.ADMIN],
    }
    use = ["access:services!service=runner", runner_access.RUN]
    roles = _grant_every_user(roles, use, "running notebooks")
    admins = {"name": "runner-admin", "description": "See and cancel every notebook run and schedule"}
    admins["scopes"] = [*use, runner_access.ADMIN]
    admins["users"] = list(settings["auth"]["admin_users"])
    admins["groups"] = [library["curators_group"]]
    if settings["auth"]["type"] == "oidc":
        admins["groups"] += settings["auth"]["oidc"]["admin_groups"]
    if ops:
        admins["services"] = ["ops"]
    roles.append(admins)
    if library["enabled"]:
        # Least privilege: read the catalogue and record runs, nothing of the hub's API.
        roles.append(
            {
                "name": "runner",
                "description": "The notebook runner reads library notebooks and records their runs",
                "scopes": [READ, RUNS],
                "services": ["runner"],
            }
        )
    return service, roles


# Passed on to the projects service when set: the engine (project volumes) and a database URL with a password.
_PROJECTS_ENV = ("DOCKER_HOST", "CONTAINERS_CONF", "DOCKER_CERT_PATH", "DOCKER_TLS_VERIFY")

#: The projects service's hub role, and why it needs each scope.
PROJECTS_SERVICE_SCOPES = {
    "admin:users": "create and delete projects' collaboration accounts; read users' groups",
    "admin:groups": "create and delete member groups, and mark them as projects in their properties",
    "groups": "add and remove members",
    "read:groups": "list members",
    "list:users": "find users",
    "read:users": "check that a user exists and is not a collaboration account",
    "servers": "start and stop collaboration servers",
    "access:servers": "reach the collaboration servers (to close a removed member's connections)",
    "shares": "share a collaboration server with its project's member group",
}


def _projects(settings: dict, env: dict, roles: list[dict], ops: bool) -> tuple[dict, list[dict]]:
    """The projects service, and the roles with its scopes added: every user uses, admins administer."""
    projects, hub, engine = settings["projects"], settings["hub"], settings["engine"]
    ulimits = ulimits_text(engine["ulimits"])
    proto = "https" if hub["ssl_cert"] else "http"
    command = [
        sys.executable,
        "-m",
        "statcommons.projects",
        f"--name-prefix={settings['servers']['name_prefix']}",
        f"--image={settings['profiles'][settings['default_profile']]['image']}",
        f"--ulimits={ulimits}",
        f"--archive-folder={projects_archive_folder(settings)}",
        f"--max-projects-per-user={projects['max_projects_per_user']}",
        f"--volume-images={state_dir(settings) / 'volumes'}",
        # The proxy on loopback: how the service reaches collaboration servers at /user/...
        f"--proxy-url={proto}://127.0.0.1:{hub['port']}{hub['base_url']}",
    ]
    if projects["create_group"]:
        command.append(f"--create-group={projects['create_group']}")
    if projects["volume_size"]:
        command.append(f"--volume-size={projects['volume_size']}")
    environment = {k: env[k] for k in _PROJECTS_ENV if env.get(k)}
    environment["STATCOMMONS_PROJECTS_DB"] = projects_database_url(settings, env)
    service = {
        "name": "projects",
        "display": True,
        "url": f"http://{network.internal_ip(settings)}:{projects['port']}",
        "command": command,
        "cwd": str(ROOT),
        "environment": environment,
        "info": {"description": "Project spaces: shared folders and servers for teams"},
        "oauth_no_confirm": True,
        "oauth_client_allowed_scopes": [projects_access.USE, projects_access.ADMIN],
    }
    use = ["access:services!service=projects", projects_access.USE]
    roles = _grant_every_user(roles, use, "projects")
    admins = {
        "name": "projects-admin",
        "description": "See and manage every project",
        "scopes": [*use, projects_access.ADMIN],
    }
    admins["users"] = list(settings["auth"]["admin_users"])
    if settings["auth"]["type"] == "oidc" and settings["auth"]["oidc"]["admin_groups"]:
        admins["groups"] = list(settings["auth"]["oidc"]["admin_groups"])
    if ops:
        admins["services"] = ["ops"]
    roles.append(admins)
    roles.append(
        {
            "name": "projects",
            "description": "The projects service manages member groups and collaboration accounts and servers",
            "scopes": list(PROJECTS_SERVICE_SCOPES),
            "services": ["projects"],
        }
    )
    return service, roles


def server_token_scopes(settings: dict) -> list[str]:
    """What a user's own server may do with its API token, on the user's behalf.

    The server's extensions reach the StatCommons services with this token (so no token
    is ever handed to the browser); the hub gives each server only the part of these
    scopes its user holds, so a curator's server reviews and nobody else's does.
    """
    scopes = ["users:activity!user", "access:servers!server"]
    if settings["library"]["enabled"]:
        scopes += ["access:services!service=library", READ, SUBMIT, REVIEW]
    if settings["runner"]["enabled"]:
        scopes += ["access:services!service=runner", runner_access.RUN, runner_access.ADMIN]
    if settings["projects"]["enabled"]:
        scopes += ["access:services!service=projects", projects_access.USE]
    return scopes


def update_server_token(c, settings: dict) -> None:
    c.Spawner.server_token_scopes = server_token_scopes(settings)


def apply_config(settings: dict, c, env: dict | None = None, root: Path = ROOT) -> None:
    """Set every hub option StatCommons manages on the Config ``c``."""
    env = dict(os.environ if env is None else env)
    update_hub(c, settings)
    update_proxy(c, settings, root)
    update_network(c, settings)
    update_spawner(c, settings)
    update_auth(c, settings, env)
    update_templates(c, settings)
    update_services(c, settings, env)
    update_server_token(c, settings)
