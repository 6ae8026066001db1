"""The configuration functions, each against a bare traitlets Config."""

import sys

import pytest
from traitlets.config import Config

from statcommons.hub import config
from statcommons.library import registration as library_registration
from statcommons.projects import registration as projects_registration
from statcommons.runner import registration as runner_registration
from statcommons.settings import SettingsError, settings_path, validate

# The projects service is on by default; tests of other services leave it out.
NO_PROJECTS = {"projects": {"enabled": False}}

OIDC = {
    "type": "oidc",
    "oidc": {
        "authorize_url": "https://id.example.org/auth",
        "token_url": "https://id.example.org/token",
        "userdata_url": "https://id.example.org/userinfo",
        "allowed_groups": ["statisticians"],
        "admin_groups": ["hub-admins"],
    },
}
SECRETS = {"OAUTH_CLIENT_ID": "hub", "OAUTH_CLIENT_SECRET": "s3cret"}


def test_hub_state_under_state_dir(tmp_path):
    c = Config()
    config.update_hub(c, validate({"state_dir": str(tmp_path), "hub": {"port": 9000}}))
    assert c.JupyterHub.bind_url == "http://127.0.0.1:9000/"
    assert c.JupyterHub.db_url == f"sqlite:///{tmp_path}/jupyterhub.sqlite"
    assert c.JupyterHub.cookie_secret_file == f"{tmp_path}/jupyterhub_cookie_secret"
    assert c.JupyterHub.cleanup_servers is False
    assert "ssl_cert" not in c.JupyterHub


def test_hub_tls():
    c = Config()
    tls = {"ssl_cert": "/c.pem", "ssl_key": "/k.pem", "port": 443, "ip": "0.0.0.0"}
    config.update_hub(c, validate({"hub": tls, "engine": {"network": "host"}}))
    assert c.JupyterHub.bind_url == "https://0.0.0.0:443/"
    assert c.JupyterHub.ssl_key == "/k.pem"


def test_proxy_from_project_node_modules(tmp_path):
    c = Config()
    config.update_proxy(c, validate({}), root=tmp_path)
    node, flag, preload, proxy = c.ConfigurableHTTPProxy.command
    assert node.endswith("node") and flag == "--import" and preload.endswith("statcommons/hub/proxy/bad-paths.mjs")
    assert proxy == f"{tmp_path}/node_modules/configurable-http-proxy/bin/configurable-http-proxy"
    assert c.ConfigurableHTTPProxy.api_url == "http://127.0.0.2:8001"


def test_default_network_is_a_namespace_per_container():
    c = Config()
    config.update_network(c, validate({}))
    # The hub and servers' published ports are on the internal address, where containers do not connect.
    assert c.JupyterHub.hub_ip == "127.0.0.2"
    assert c.StatCommonsSpawner.loopback_ip == "127.0.0.2"
    assert c.StatCommonsSpawner.network_mode == "slirp4netns"
    assert c.DockerSpawner.network_name == "slirp4netns:allow_host_loopback=true,cidr=100.64.7.0/24"
    # Servers reach the hub's API through the public proxy, at the namespace's gateway to the host's 127.0.0.1.
    assert c.Spawner.hub_connect_url == "http://100.64.7.2:8000"
    assert "hub_connect_url" not in c.JupyterHub


def test_slirp4netns_network_of_another_cidr():
    c = Config()
    settings = validate({"engine": {"slirp4netns_cidr": "100.80.0.0/16"}, "hub": {"port": 9000}})
    config.update_network(c, settings)
    assert c.DockerSpawner.network_name == "slirp4netns:allow_host_loopback=true,cidr=100.80.0.0/16"
    assert c.Spawner.hub_connect_url == "http://100.80.0.2:9000"


def test_host_network_is_loopback_only():
    c = Config()
    config.update_network(c, validate({"engine": {"network": "host"}, "hub": {"internal_ip": "127.0.0.9"}}))
    assert c.JupyterHub.hub_ip == "127.0.0.9"
    assert c.DockerSpawner.network_name == "host"
    assert c.StatCommonsSpawner.network_mode == "host"
    assert c.Spawner.hub_connect_url == "http://127.0.0.9:8081"


def test_bridge_network():
    c = Config()
    config.update_network(
        c, validate({"engine": {"network": "bridge", "hub_connect_url": "http://hub:8081", "bridge_network": "sc"}})
    )
    assert c.DockerSpawner.network_name == "sc"
    assert c.JupyterHub.hub_connect_url == "http://hub:8081"
    assert c.StatCommonsSpawner.network_mode == "bridge"


def test_spawner():
    c = Config()
    config.update_spawner(c, validate({"servers": {"name_prefix": "sc", "poll_interval": 5}}))
    assert c.JupyterHub.spawner_class == "statcommons.hub.spawner.StatCommonsSpawner"
    assert set(c.StatCommonsSpawner.settings["profiles"]) == {"python", "r"}
    assert c.DockerSpawner.prefix == "sc"
    assert c.DockerSpawner.remove is True
    assert c.DockerSpawner.cmd == ["statcommons-start", "jupyterhub-singleuser"]
    assert c.DockerSpawner.extra_create_kwargs["user"] == "1000:100"
    assert {"Name": "nofile", "Soft": 20000, "Hard": 20000} in c.DockerSpawner.extra_host_config["ulimits"]
    assert c.DockerSpawner.extra_host_config["cap_drop"] == ["ALL"]
    assert c.Spawner.poll_interval == 5
    assert c.Spawner.default_url == "/lab"


def test_without_an_engine_the_spawner_refuses_every_start():
    c = Config()
    off = {"enabled": False}
    config.update_spawner(c, validate({"engine": {"kind": "none"}, "runner": off, "projects": off}))
    assert c.JupyterHub.spawner_class == "statcommons.hub.spawner.NoEngineSpawner"


def test_local_auth():
    c = Config()
    config.update_auth(c, validate({"auth": {"admin_users": ["root-admin"]}}), env={})
    assert c.JupyterHub.authenticator_class == "statcommons.hub.auth.SignupAuthenticator"
    assert c.Authenticator.admin_users == {"root-admin"}
    assert c.SignupAuthenticator.open_signup is False
    assert c.SignupAuthenticator.enable_signup is True
    assert c.JupyterHub.template_paths[1].endswith("nativeauthenticator/templates")


def test_oidc_auth_with_groups():
    c = Config()
    config.update_auth(c, validate({"auth": OIDC, "hub": {"public_url": "https://sc.example.org"}}), env=SECRETS)
    assert c.JupyterHub.authenticator_class == "statcommons.hub.oauth.OIDCAuthenticator"
    assert c.OAuthenticator.client_secret == "s3cret"
    assert c.OAuthenticator.oauth_callback_url == "https://sc.example.org/hub/oauth_callback"
    assert c.GenericOAuthenticator.allowed_groups == {"statisticians"}
    assert c.GenericOAuthenticator.admin_groups == {"hub-admins"}
    assert c.GenericOAuthenticator.auth_state_groups_key == "oauth_user.groups"
    assert c.GenericOAuthenticator.manage_groups is True
    assert c.GenericOAuthenticator.allow_all is False


def test_oauth_needs_secrets_from_environment():
    with pytest.raises(SettingsError, match="set OAUTH_CLIENT_ID and OAUTH_CLIENT_SECRET in the environment"):
        config.update_auth(Config(), validate({"auth": OIDC}), env={})


def test_github_needs_a_restriction():
    with pytest.raises(SettingsError, match="auth.github.allowed_organizations"):
        config.update_auth(Config(), validate({"auth": {"type": "github"}}), env=SECRETS)
    c = Config()
    config.update_auth(
        c, validate({"auth": {"type": "github", "github": {"allowed_organizations": ["unece"]}}}), env=SECRETS
    )
    assert c.GitHubOAuthenticator.allowed_organizations == {"unece"}


def test_gitlab():
    c = Config()
    config.update_auth(
        c,
        validate(
            {"auth": {"type": "gitlab", "gitlab": {"url": "https://git.example.org", "allowed_groups": ["stat"]}}}
        ),
        env=SECRETS,
    )
    assert c.GitLabOAuthenticator.gitlab_url == "https://git.example.org"
    assert c.GitLabOAuthenticator.allowed_gitlab_groups == {"stat"}


def test_culler_has_least_privilege():
    c = Config()
    settings = validate(
        {"culler": {"timeout": 600}, "library": {"enabled": False}, "runner": {"enabled": False}, **NO_PROJECTS}
    )
    config.update_services(c, settings, env={})
    [service] = c.JupyterHub.services
    assert service["command"][:3] == [sys.executable, "-m", "jupyterhub_idle_culler"]
    assert "--timeout=600" in service["command"]
    [role] = c.JupyterHub.load_roles
    assert role["services"] == ["idle-culler"]
    assert set(role["scopes"]) == {"list:users", "read:users:activity", "read:servers", "delete:servers"}


def test_ops_token_only_from_environment():
    c = Config()
    settings = validate(
        {"culler": {"enabled": False}, "library": {"enabled": False}, "runner": {"enabled": False}, **NO_PROJECTS}
    )
    config.update_services(c, settings, env={})
    assert c.JupyterHub.services == []
    c = Config()
    config.update_services(c, settings, env={"STATCOMMONS_API_TOKEN": "t0k"})
    assert c.JupyterHub.services == [{"name": "ops", "api_token": "t0k", "display": False}]
    assert c.JupyterHub.load_roles == [{"name": "admin", "services": ["ops"]}]


def test_apply_config_sets_everything():
    c = Config()
    config.apply_config(validate({}), c, env={})
    assert c.JupyterHub.spawner_class and c.JupyterHub.authenticator_class and c.JupyterHub.bind_url


def _library_config(settings: dict | None = None, env: dict | None = None) -> Config:
    c = Config()
    runner_off = {"runner": {"enabled": False}, **NO_PROJECTS}
    config.update_services(c, validate({"culler": {"enabled": False}, **runner_off, **(settings or {})}), env=env or {})
    return c


def test_library_service_is_hub_managed_on_its_port():
    c = _library_config({"library": {"port": 9123, "search": "database"}})
    [service] = c.JupyterHub.services
    assert service["name"] == "library"
    assert service["url"] == "http://127.0.0.2:9123"
    # The service reads the settings file itself: its command carries no option.
    assert service["command"] == [sys.executable, "-m", "statcommons.library.service"]
    assert service["environment"] == {"STATCOMMONS_SETTINGS": str(settings_path({}).resolve())}
    options = library_registration.options(validate({"library": {"search": "database"}}), {})
    assert options.search == "database" and options.database.startswith("sqlite:///")
    assert options.max_notebook_size == 5 * 1024**2 and options.hub_url == "http://127.0.0.1:8000/"
    assert set(c.JupyterHub.custom_scopes) == {
        "custom:library:read",
        "custom:library:submit",
        "custom:library:review",
        "custom:library:admin",
        "custom:library:runs",
    }


def test_library_database_password_stays_out_of_the_command_line():
    url = "postgresql+psycopg://library:s3cret@db.example.org/statcommons"
    c = _library_config(env={"STATCOMMONS_LIBRARY_DB": url, "PGSSLMODE": "require"})
    [service] = c.JupyterHub.services
    assert not any("s3cret" in part for part in service["command"])
    assert service["environment"]["STATCOMMONS_LIBRARY_DB"] == url and service["environment"]["PGSSLMODE"] == "require"
    assert library_registration.options(validate({}), {"STATCOMMONS_LIBRARY_DB": url}).database == url


def test_library_roles_users_read_and_submit_curators_review():
    c = _library_config({"library": {"curators_group": "reviewers"}, "auth": {"admin_users": ["root1"]}})
    roles = {role["name"]: role for role in c.JupyterHub.load_roles}
    assert set(roles["user"]["scopes"]) == {
        "self",
        "access:services!service=library",
        "custom:library:read",
        "custom:library:submit",
    }
    assert roles["library-curator"]["groups"] == ["reviewers"]
    assert "custom:library:review" in roles["library-curator"]["scopes"]
    assert "custom:library:admin" not in roles["library-curator"]["scopes"]
    assert roles["library-admin"]["users"] == ["root1"]
    # The service itself needs nothing from the hub's API: it has no role.
    assert not any("library" in role.get("services", []) for role in roles.values())


def _runner_config(settings: dict | None = None, env: dict | None = None) -> Config:
    c = Config()
    config.update_services(
        c, validate({"culler": {"enabled": False}, **NO_PROJECTS, **(settings or {})}), env=env or {}
    )
    return c


def test_runner_is_hub_managed_with_the_engine_and_the_settings():
    settings = {"runner": {"port": 9124, "concurrency": 3, "time_limit": 60, "mem_limit": "1G"}}
    c = _runner_config({**settings, "servers": {"name_prefix": "sc"}}, env={"DOCKER_HOST": "unix:///e.sock"})
    service = {s["name"]: s for s in c.JupyterHub.services}["runner"]
    assert service["url"] == "http://127.0.0.2:9124"
    assert service["command"] == [sys.executable, "-m", "statcommons.runner"]
    assert service["environment"]["DOCKER_HOST"] == "unix:///e.sock"
    options = runner_registration.options(validate({**settings, "servers": {"name_prefix": "sc"}}), {})
    assert (options.concurrency, options.limits.time_limit, options.limits.mem_limit) == (3, 60, 1024**3)
    assert options.run.name_prefix == "sc"
    assert options.run.network == "slirp4netns:allow_host_loopback=true,cidr=100.64.7.0/24"
    assert options.library_url == "http://127.0.0.2:8082/services/library/"
    assert (options.run.cpu_limit, options.limits.max_active_per_user, options.keep_days) == (1, 20, 90)
    assert options.limits.min_schedule_interval == 3600
    limits = {"cpu_limit": None, "keep_days": 0, "max_active_per_user": 3, "min_schedule_interval": 60}
    unlimited = runner_registration.options(validate({"runner": limits}), {})
    assert (unlimited.run.cpu_limit, unlimited.keep_days, unlimited.limits.max_active_per_user) == (None, 0, 3)
    assert unlimited.limits.min_schedule_interval == 60
    assert {"custom:runner:run", "custom:runner:admin", "custom:library:runs"} <= set(c.JupyterHub.custom_scopes)


def test_runner_roles_users_run_curators_see_all_service_least_privilege():
    c = _runner_config({"auth": {"admin_users": ["root1"]}, "library": {"curators_group": "reviewers"}})
    roles = {role["name"]: role for role in c.JupyterHub.load_roles}
    assert {"access:services!service=runner", "custom:runner:run"} <= set(roles["user"]["scopes"])
    assert "custom:runner:admin" not in roles["user"]["scopes"]
    assert "custom:library:read" in roles["user"]["scopes"]  # the library's grants stay
    assert "custom:runner:admin" in roles["runner-admin"]["scopes"]
    assert roles["runner-admin"]["groups"] == ["reviewers"]
    assert roles["runner-admin"]["users"] == ["root1"]
    # The service reads the catalogue and records runs: nothing of the hub's API.
    assert roles["runner"] == {
        "name": "runner",
        "description": roles["runner"]["description"],
        "scopes": ["custom:library:read", "custom:library:runs"],
        "services": ["runner"],
    }


def test_runner_without_the_library_has_no_library_role():
    c = _runner_config({"library": {"enabled": False}})
    assert runner_registration.options(validate({"library": {"enabled": False}}), {}).library_url is None
    roles = {role["name"]: role for role in c.JupyterHub.load_roles}
    assert "runner" not in roles
    assert roles["user"]["scopes"] == ["self", "access:services!service=runner", "custom:runner:run"]
    assert set(c.JupyterHub.custom_scopes) == {"custom:runner:run", "custom:runner:admin"}


def test_server_token_reaches_the_services_on_the_users_behalf():
    c = Config()
    config.update_server_token(c, validate({}), {})
    scopes = c.Spawner.server_token_scopes
    assert {"users:activity!user", "access:servers!server"} <= set(scopes)
    assert {"access:services!service=library", "custom:library:read", "custom:library:submit"} <= set(scopes)
    assert {"access:services!service=runner", "custom:runner:run"} <= set(scopes)
    assert "custom:library:admin" not in scopes  # administering stays with the hub's web page and API


def test_server_token_without_services_keeps_the_hub_default():
    c = Config()
    config.update_server_token(
        c, validate({"library": {"enabled": False}, "runner": {"enabled": False}, **NO_PROJECTS}), {}
    )
    assert c.Spawner.server_token_scopes == ["users:activity!user", "access:servers!server"]


# --- projects ---------------------------------------------------------------------------------


def _projects_config(settings: dict | None = None, env: dict | None = None) -> Config:
    c = Config()
    config.update_services(c, validate({"culler": {"enabled": False}, **(settings or {})}), env=env or {})
    return c


def test_projects_service_is_hub_managed_with_the_engine_and_its_settings(tmp_path):
    settings = {
        "projects": {"port": 9125, "create_group": "teams", "max_projects_per_user": 3},
        "servers": {"name_prefix": "sc"},
        "state_dir": str(tmp_path),
    }
    c = _projects_config(settings, env={"DOCKER_HOST": "unix:///e.sock", "SECRET": "x"})
    service = {s["name"]: s for s in c.JupyterHub.services}["projects"]
    assert service["url"] == "http://127.0.0.2:9125"
    assert service["command"] == [sys.executable, "-m", "statcommons.projects"]
    assert service["environment"] == {
        "STATCOMMONS_SETTINGS": str(settings_path({}).resolve()),
        "DOCKER_HOST": "unix:///e.sock",
    }
    options = projects_registration.options(validate(settings), {})
    assert (options.name_prefix, options.create_group, options.max_projects_per_user) == ("sc", "teams", 3)
    assert options.archive_folder == tmp_path / "projects" / "archive"
    assert (options.image, options.proxy_url) == ("statcommons/lab:latest", "http://127.0.0.1:8000/")
    assert projects_registration.database(validate(settings), {}) == f"sqlite:///{tmp_path / 'projects.sqlite'}"
    assert service["oauth_no_confirm"] is True
    assert {"custom:projects:use", "custom:projects:admin"} <= set(c.JupyterHub.custom_scopes)


def test_projects_database_from_the_environment_stays_out_of_the_command_line():
    url = "postgresql+psycopg://projects:s3cret@db.example.org/statcommons"
    c = _projects_config(env={"STATCOMMONS_PROJECTS_DB": url})
    service = {s["name"]: s for s in c.JupyterHub.services}["projects"]
    assert service["environment"]["STATCOMMONS_PROJECTS_DB"] == url
    assert not any("s3cret" in part for part in service["command"])


def test_projects_roles_users_use_admins_administer_service_manages_groups():
    c = _projects_config({"auth": {"admin_users": ["root1"]}}, env={"STATCOMMONS_API_TOKEN": "t"})
    roles = {role["name"]: role for role in c.JupyterHub.load_roles}
    assert {"access:services!service=projects", "custom:projects:use"} <= set(roles["user"]["scopes"])
    assert "custom:projects:admin" not in roles["user"]["scopes"]
    assert {"custom:library:read", "custom:runner:run"} <= set(roles["user"]["scopes"])  # the others stay
    assert "custom:projects:admin" in roles["projects-admin"]["scopes"]
    assert roles["projects-admin"]["users"] == ["root1"]
    assert roles["projects-admin"]["services"] == ["ops"]
    service_role = roles["projects"]
    assert service_role["services"] == ["projects"]
    assert set(service_role["scopes"]) == {
        "admin:users",
        "admin:groups",
        "groups",
        "read:groups",
        "list:users",
        "read:users",
        "servers",
        "access:servers",
        "shares",
    }
    assert set(service_role["scopes"]) == set(projects_registration.SERVICE_SCOPES)
    assert "admin" not in service_role["scopes"]


def test_projects_off_means_no_service_no_scope_no_nav_entry():
    settings = validate({"projects": {"enabled": False}})
    c = Config()
    config.apply_config(settings, c, env={})
    assert "projects" not in {s["name"] for s in c.JupyterHub.services}
    assert not any(s.startswith("custom:projects") for s in c.JupyterHub.custom_scopes)
    assert not any("projects" in s for s in c.Spawner.server_token_scopes)
    assert "statcommons_projects_url" not in c.JupyterHub.template_vars
    assert "statcommons_my_projects" not in c.JupyterHub.template_vars


def test_server_token_lists_the_callers_projects():
    c = Config()
    config.update_server_token(c, validate({}), {})
    assert {"access:services!service=projects", "custom:projects:use"} <= set(c.Spawner.server_token_scopes)
    assert "custom:projects:admin" not in c.Spawner.server_token_scopes


def test_hub_pages_get_a_projects_entry_and_keep_the_signup_entries():
    c = Config()
    config.apply_config(validate({"hub": {"base_url": "/stats/"}}), c, env={})
    assert c.JupyterHub.template_paths[0] == config.TEMPLATES
    assert c.JupyterHub.template_vars == {
        "statcommons_local_accounts": True,
        "statcommons_projects_url": "/stats/services/projects/",
        # called by the hub with the logged-in user, for the home page's "Your projects"
        "statcommons_my_projects": config.project_names.projects_of,
    }
    page = (config.Path(config.TEMPLATES) / "page.html").read_text()
    assert '{% extends "templates/page.html" %}' in page
    assert "change-password" in page and "authorize" in page


def test_servers_start_through_the_start_hook():
    c = Config()
    config.update_spawner(c, validate({}))
    assert c.DockerSpawner.cmd[0] == "statcommons-start"
    assert c.StatCommonsSpawner.settings["projects"]["port"] == 8084
    assert c.StatCommonsSpawner.settings["runner"]["shared_notebooks"] == "shared-notebooks"


def test_nobody_logs_in_as_a_collaboration_account():
    class Authenticator:
        class log:
            @staticmethod
            def warning(*args):
                pass

    hook = config.post_auth
    assert hook(Authenticator, None, {"name": "survey-collab"}) is None
    assert hook(Authenticator, None, {"name": "ana"}) == {"name": "ana"}
    assert hook(Authenticator, None, None) is None
    c = Config()
    config.update_auth(c, validate({}), env={})
    assert c.Authenticator.post_auth_hook is hook


def test_groups_from_an_identity_provider_never_take_a_projects_group():
    from types import SimpleNamespace

    warnings = []
    authenticator = SimpleNamespace(manage_groups=True, log=SimpleNamespace(warning=lambda *a: warnings.append(a)))
    atlas = SimpleNamespace(name="project-atlas", properties={"statcommons_project": "atlas"})
    by_hand = SimpleNamespace(name="project-fake", properties={})
    handler = SimpleNamespace(find_user=lambda name: SimpleNamespace(groups=[atlas, by_hand]))
    offered = {"name": "ana", "groups": ["statisticians", "project-census", "collaboration-accounts"]}
    assert config.post_auth(authenticator, handler, offered)["groups"] == ["project-atlas", "statisticians"]
    assert "project-census" in warnings[0][1] and "collaboration-accounts" in warnings[0][1]
    # Not managing groups, or a first login: nothing to keep.
    unmanaged = SimpleNamespace(manage_groups=False, log=authenticator.log)
    assert config.post_auth(unmanaged, handler, dict(offered)) == offered
    first = SimpleNamespace(find_user=lambda name: None)
    assert config.post_auth(authenticator, first, dict(offered))["groups"] == ["statisticians"]
