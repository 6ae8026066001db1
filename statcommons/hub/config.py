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

from ..kit.registration import Registration
from ..library import registration as library_registration
from ..platform import containers, network
from ..platform import names as project_names
from ..platform.containers import GID, START_HOOK, UID
from ..projects import registration as projects_registration
from ..runner import registration as runner_registration
from ..settings import ROOT, SettingsError, hub_public_url, state_dir
from .auth import post_auth

#: The hub templates of StatCommons, found before JupyterHub's (and NativeAuthenticator's) own.
TEMPLATES = str(Path(__file__).with_name("templates"))


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
    # Without a container engine (engine.kind: none) every start is refused, saying why.
    spawner = "NoEngineSpawner" if settings["engine"]["kind"] == "none" else "StatCommonsSpawner"
    c.JupyterHub.spawner_class = f"statcommons.hub.spawner.{spawner}"
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
    return hub_public_url(settings) + "hub/oauth_callback"


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


#: Every service StatCommons runs, in the order the hub registers them.
SERVICES = (
    ("library", library_registration),
    ("runner", runner_registration),
    ("projects", projects_registration),
)


def registrations(settings: dict, env: dict) -> list[Registration]:
    """The registration of every enabled service (each service computes its own)."""
    ops = bool(env.get("STATCOMMONS_API_TOKEN"))
    return [module.registration(settings, env, ops) for name, module in SERVICES if settings[name]["enabled"]]


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
    user_role = {"name": "user", "description": "Standard user privileges", "scopes": ["self"]}
    custom_scopes: dict = {}
    for registration in registrations(settings, env):
        services.append(registration.service)
        roles += registration.roles
        user_role["scopes"] = [*user_role["scopes"], *registration.user_scopes]
        user_role["description"] += f", and {registration.user_purpose}"
        custom_scopes.update(registration.custom_scopes)
    if len(user_role["scopes"]) > 1:
        roles.insert(0, user_role)
    c.JupyterHub.services = services
    c.JupyterHub.load_roles = roles
    c.JupyterHub.custom_scopes = custom_scopes


def server_token_scopes(settings: dict, env: dict | None = None) -> list[str]:
    """What a user's own server may do with its API token, on the user's behalf.

    The server's extensions reach the StatCommons services with this token (so no token
    is ever handed to the browser); the hub gives each server only the part of these
    scopes its user holds, so a curator's server reviews and nobody else's does.
    """
    scopes = ["users:activity!user", "access:servers!server"]
    for registration in registrations(settings, dict(os.environ if env is None else env)):
        scopes += registration.server_scopes
    return scopes


def update_server_token(c, settings: dict, env: dict) -> None:
    c.Spawner.server_token_scopes = server_token_scopes(settings, env)


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
    update_server_token(c, settings, env)
