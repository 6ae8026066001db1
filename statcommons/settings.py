"""The settings file (``statcommons.yaml``): schema, defaults and validation.

Operators change StatCommons through one YAML file.  It is validated against
:data:`SCHEMA` before anything starts; a bad or unknown key is reported in one
line naming the key, the value and what is allowed (:class:`SettingsError`).
Secrets never live in this file: they come from the environment.
"""

from __future__ import annotations

import copy
import ipaddress
import os
from pathlib import Path
from typing import Any

import jsonschema
import yaml

from .platform import names, network
from .platform.paths import ROOT
from .platform.units import parse_size
from .schematext import allowed

DEFAULT_PATH = ROOT / "statcommons.yaml"

_SIZE = {
    "type": "string",
    "pattern": r"^[0-9]+(\.[0-9]+)?[KMGT]?$",
    "description": "a size such as 512M or 4G",
}
_STRINGS = {"type": "array", "items": {"type": "string", "minLength": 1}}
_PORT = {"type": "integer", "minimum": 1, "maximum": 65535, "description": "a port from 1 to 65535"}
_POSITIVE = {"type": "integer", "minimum": 1, "description": "a whole number of seconds, at least 1"}


def _obj(properties: dict, required: tuple = ()) -> dict:
    return {
        "type": "object",
        "additionalProperties": False,
        "properties": properties,
        "required": list(required),
    }


PROFILE_SCHEMA = _obj(
    {
        "display_name": {"type": "string", "minLength": 1},
        "description": {"type": "string"},
        "image": {"type": "string", "minLength": 1, "description": "an image name such as statcommons/lab:latest"},
        "mem_limit": _SIZE,
        "cpu_limit": {"type": "number", "exclusiveMinimum": 0, "description": "a number of cores above 0"},
        "kernels": {
            "type": "array",
            "items": {
                "type": "string",
                "pattern": r"^[A-Za-z0-9._-]{1,64}$",
                "description": "a kernel name such as python3 or ir",
            },
            "minItems": 1,
            "uniqueItems": True,
            "default": ["python3"],
            "description": "a list of the distinct names of the kernels the image has (at least one), "
            "such as [ir, python3]",
        },
    },
    required=("display_name", "image"),
)

SCHEMA: dict[str, Any] = _obj(
    {
        "state_dir": {"type": "string", "minLength": 1, "default": "var"},
        "hub": _obj(
            {
                "ip": {"type": "string", "default": "127.0.0.1"},
                "internal_ip": {
                    "type": "string",
                    "default": "127.0.0.2",
                    "description": "a loopback address of this machine other than 127.0.0.1, such as 127.0.0.2",
                },
                "port": {**_PORT, "default": 8000},
                "api_port": {**_PORT, "default": 8081},
                "base_url": {
                    "type": "string",
                    "pattern": "^/",
                    "default": "/",
                    "description": "a path starting with /",
                },
                "public_url": {
                    "type": ["string", "null"],
                    "pattern": "^https?://",
                    "default": None,
                    "description": "an http(s) URL such as https://statcommons.example.org",
                },
                "ssl_cert": {"type": ["string", "null"], "default": None},
                "ssl_key": {"type": ["string", "null"], "default": None},
                "trusted_proxies": {
                    "type": "array",
                    "items": {"type": "string", "minLength": 2, "description": "an IP address"},
                    "default": [],
                    "description": "addresses of reverse proxies in front of the hub",
                },
            }
        ),
        "engine": _obj(
            {
                "kind": {"enum": ["auto", "docker", "podman", "none"], "default": "auto"},
                "docker_host": {
                    "type": ["string", "null"],
                    "pattern": "^(unix|tcp|ssh)://",
                    "default": None,
                    "description": "a URL such as unix:///var/run/docker.sock",
                },
                "network": {"enum": ["slirp4netns", "host", "bridge"], "default": "slirp4netns"},
                "slirp4netns_cidr": {
                    "type": "string",
                    "default": "100.64.7.0/24",
                    "description": "an IPv4 network outside 10/8, 172.16/12 and 192.168/16, such as 100.64.7.0/24",
                },
                "bridge_network": {"type": "string", "minLength": 1, "default": "statcommons"},
                "hub_connect_url": {
                    "type": ["string", "null"],
                    "pattern": "^https?://",
                    "default": None,
                    "description": "the URL at which containers reach the hub API (bridge mode)",
                },
                "ulimits": _obj(
                    {
                        "nofile": {"type": "integer", "minimum": 1024, "default": 20000},
                        "nproc": {"type": "integer", "minimum": 64, "default": 32768},
                    }
                ),
            }
        ),
        "auth": _obj(
            {
                "type": {"enum": ["local", "oidc", "github", "gitlab"], "default": "local"},
                "admin_users": {**_STRINGS, "default": ["admin"]},
                "allowed_users": {**_STRINGS, "default": []},
                "local": _obj(
                    {
                        "open_signup": {"type": "boolean", "default": False},
                        "minimum_password_length": {"type": "integer", "minimum": 8, "default": 10},
                        "max_username_length": {"type": "integer", "minimum": 8, "maximum": 255, "default": 64},
                        "max_password_length": {
                            "type": "integer",
                            "minimum": 16,
                            "maximum": 72,
                            "default": 72,
                            "description": "a number of bytes from 16 to 72 (bcrypt reads no more than 72)",
                        },
                        "failed_logins_per_account": {"type": "integer", "minimum": 1, "default": 5},
                        "failed_logins_per_address": {"type": "integer", "minimum": 1, "default": 30},
                        "failed_login_delay_max": {"type": "integer", "minimum": 1, "maximum": 3600, "default": 60},
                        "signups_per_address_per_hour": {"type": "integer", "minimum": 1, "default": 5},
                        "signups_per_hour": {"type": "integer", "minimum": 1, "default": 100},
                    }
                ),
                "oidc": _obj(
                    {
                        "login_service": {"type": "string", "default": "your institution"},
                        "authorize_url": {"type": ["string", "null"], "pattern": "^https?://", "default": None},
                        "token_url": {"type": ["string", "null"], "pattern": "^https?://", "default": None},
                        "userdata_url": {"type": ["string", "null"], "pattern": "^https?://", "default": None},
                        "username_claim": {"type": "string", "default": "preferred_username"},
                        "scope": {**_STRINGS, "default": ["openid", "profile", "email"]},
                        "groups_claim": {"type": "string", "default": "groups"},
                        "allowed_groups": {**_STRINGS, "default": []},
                        "admin_groups": {**_STRINGS, "default": []},
                    }
                ),
                "github": _obj({"allowed_organizations": {**_STRINGS, "default": []}}),
                "gitlab": _obj(
                    {
                        "url": {"type": "string", "pattern": "^https?://", "default": "https://gitlab.com"},
                        "allowed_groups": {**_STRINGS, "default": []},
                    }
                ),
            }
        ),
        "profiles": {
            "type": "object",
            "minProperties": 1,
            "propertyNames": {"pattern": "^[a-z][a-z0-9-]{0,30}$", "description": "lowercase letters, digits and -"},
            "additionalProperties": PROFILE_SCHEMA,
            "default": {
                "python": {
                    "display_name": "Python",
                    "description": (
                        "JupyterLab with pandas, statsmodels, scikit-learn, seaborn and plotly charts, geopandas "
                        "maps, SDMX, JSON-stat, SPSS/Stata/SAS and Excel files"
                    ),
                    "image": "statcommons/lab:latest",
                    "mem_limit": "4G",
                    "cpu_limit": 1.0,
                    "kernels": ["python3"],
                },
                "r": {
                    "display_name": "Python and R",
                    "description": (
                        "The Python profile plus R with IRkernel, survey, sampling, laeken, VIM, tidyverse, sf "
                        "and rsdmx"
                    ),
                    "image": "statcommons/lab-r:latest",
                    "mem_limit": "4G",
                    "cpu_limit": 1.0,
                    "kernels": ["ir", "python3"],
                },
            },
        },
        "default_profile": {"type": "string", "default": "python"},
        "servers": _obj(
            {
                "start_timeout": {**_POSITIVE, "default": 120},
                "poll_interval": {**_POSITIVE, "default": 30},
                "name_prefix": {
                    "type": "string",
                    "pattern": "^[a-z][a-z0-9-]*$",
                    "default": "statcommons",
                    "description": "lowercase letters, digits and -",
                },
                "pids_limit": {
                    "type": "integer",
                    "minimum": 64,
                    "default": 1024,
                    "description": "a number of processes and threads, at least 64",
                },
                "tmp_size": {**_SIZE, "default": "1G"},
                "home_size": {
                    "anyOf": [_SIZE, {"type": "null"}],
                    "default": "10G",
                    "description": "a size such as 10G, or null for no cap",
                },
                "git_origins": {
                    "type": "array",
                    "items": {
                        "type": "string",
                        "pattern": r"^https?://[^/@\s]+/?$",
                        "description": "an origin such as https://github.com or http://git.example.org:8080",
                    },
                    "default": [],
                },
            }
        ),
        "culler": _obj(
            {
                "enabled": {"type": "boolean", "default": True},
                "timeout": {**_POSITIVE, "default": 3600},
                "every": {**_POSITIVE, "default": 300},
            }
        ),
        "library": _obj(
            {
                "enabled": {"type": "boolean", "default": True},
                "port": {**_PORT, "default": 8082},
                "database": {
                    "type": ["string", "null"],
                    "pattern": "^(sqlite|postgresql)(\\+[a-z0-9]+)?://",
                    "default": None,
                    "description": "a SQLAlchemy URL such as postgresql+psycopg://library@/statcommons",
                },
                "folder": {"type": "string", "minLength": 1, "default": "library"},
                "curators_group": {
                    "type": "string",
                    "pattern": "^[a-z][a-z0-9_-]{0,63}$",
                    "default": "curators",
                    "description": "a group name of lowercase letters, digits, - and _",
                },
                "search": {"enum": ["memory", "database"], "default": "memory"},
                "max_notebook_size": {**_SIZE, "default": "5M"},
                "max_video_size": {**_SIZE, "default": "500M"},
            }
        ),
        "runner": _obj(
            {
                "enabled": {"type": "boolean", "default": True},
                "port": {**_PORT, "default": 8083},
                "concurrency": {
                    "type": "integer",
                    "minimum": 1,
                    "maximum": 64,
                    "default": 2,
                    "description": "a whole number of runs from 1 to 64",
                },
                "time_limit": {**_POSITIVE, "default": 3600},
                "mem_limit": {**_SIZE, "default": "2G"},
                "cpu_limit": {
                    "type": ["number", "null"],
                    "exclusiveMinimum": 0,
                    "default": 1,
                    "description": "cores, such as 1 or 0.5 (null: no limit)",
                },
                "max_active_per_user": {
                    "type": "integer",
                    "minimum": 1,
                    "default": 20,
                    "description": "a whole number of runs, at least 1",
                },
                "min_schedule_interval": {
                    "type": "integer",
                    "minimum": 60,
                    "maximum": 86400,
                    "default": 3600,
                    "description": "a whole number of seconds from 60 to 86400: the shortest gap allowed "
                    "between two times of a new schedule",
                },
                "rerun_library_every": {
                    "type": "integer",
                    "minimum": 0,
                    "not": {"exclusiveMinimum": 0, "exclusiveMaximum": 3600},
                    "default": 604800,
                    "description": "a whole number of seconds, 0 or at least 3600: how often each published library "
                    "notebook runs again, spread over that time (0: never)",
                },
                "keep_days": {
                    "type": "number",
                    "minimum": 0,
                    "default": 90,
                    "description": "a number of days, at least 0 (0: for good)",
                },
                "image": {
                    "type": ["string", "null"],
                    "minLength": 1,
                    "default": None,
                    "description": "an image name such as statcommons/lab:latest, or null: the default profile's",
                },
                "shared_notebooks": {"type": "string", "minLength": 1, "default": "shared-notebooks"},
                "datasets": {"type": "string", "minLength": 1, "default": "datasets"},
            }
        ),
        "projects": _obj(
            {
                "enabled": {"type": "boolean", "default": True},
                "port": {**_PORT, "default": 8084},
                "database": {
                    "type": ["string", "null"],
                    "pattern": "^(sqlite|postgresql)(\\+[a-z0-9]+)?://",
                    "default": None,
                    "description": "a SQLAlchemy URL such as postgresql+psycopg://projects@/statcommons",
                },
                "create_group": {
                    "type": ["string", "null"],
                    "pattern": "^[a-z][a-z0-9_-]{0,63}$",
                    "default": None,
                    "description": "a group name of lowercase letters, digits, - and _ (or null: everyone)",
                },
                "archive_folder": {
                    "type": ["string", "null"],
                    "minLength": 1,
                    "default": None,
                    "description": "a folder (null: projects/archive in the state folder)",
                },
                "max_projects_per_user": {
                    "type": "integer",
                    "minimum": 1,
                    "maximum": 1000,
                    "default": 20,
                    "description": "a whole number of projects from 1 to 1000",
                },
                "volume_size": {
                    "anyOf": [_SIZE, {"type": "null"}],
                    "default": "20G",
                    "description": "a size such as 20G, or null for no cap",
                },
            }
        ),
    }
)


class SettingsError(ValueError):
    """A settings file that cannot be used; ``str()`` is the one line to show."""


def _describe(error: jsonschema.ValidationError) -> str:
    path = ".".join(str(p) for p in error.absolute_path)
    if error.validator == "additionalProperties" and isinstance(error.instance, dict):
        known = sorted(error.schema.get("properties", {}))
        unknown = sorted(set(error.instance) - set(known))
        key = ".".join(filter(None, [path, str(unknown[0])]))
        return f"unknown key {key!r}: allowed keys here are {', '.join(known)}"
    if error.validator == "required":
        return f"{path or 'top level'}: {error.message}"
    if error.validator == "propertyNames":
        return f"{path}: name {error.instance!r} is not allowed: use {allowed(error.schema)}"
    return f"{path or 'top level'}: {error.instance!r} is not allowed: expected {allowed(error.schema)}"


def _with_defaults(schema: dict, value: Any) -> Any:
    if schema.get("type") == "object" and "properties" in schema:
        value = {} if value is None else dict(value)
        for key, sub in schema["properties"].items():
            if key in value:
                value[key] = _with_defaults(sub, value[key])
            elif "default" in sub:
                value[key] = copy.deepcopy(sub["default"])
            elif sub.get("type") == "object" and "properties" in sub:
                value[key] = _with_defaults(sub, {})
        return value
    entries = schema.get("additionalProperties")
    if schema.get("type") == "object" and isinstance(entries, dict) and isinstance(value, dict):
        return {key: _with_defaults(entries, entry) for key, entry in value.items()}  # each profile
    return value


def validate(data: Any, source: str = "settings") -> dict:
    """Check ``data`` against :data:`SCHEMA` and return it with defaults filled in."""
    if data is None:
        data = {}
    validator = jsonschema.Draft202012Validator(SCHEMA)
    error = jsonschema.exceptions.best_match(validator.iter_errors(data))
    if error is not None:
        raise SettingsError(f"{source}: {_describe(error)}")
    settings = _with_defaults(SCHEMA, data)
    if settings["default_profile"] not in settings["profiles"]:
        raise SettingsError(
            f"{source}: default_profile: {settings['default_profile']!r} is not allowed: "
            f"expected one of the profiles ({', '.join(settings['profiles'])})"
        )
    auth = settings["auth"]
    if auth["type"] == "oidc":
        for key in ("authorize_url", "token_url", "userdata_url"):
            if not auth["oidc"][key]:
                raise SettingsError(f"{source}: auth.oidc.{key}: missing: required when auth.type is 'oidc'")
    if settings["engine"]["network"] == "bridge" and not settings["engine"]["hub_connect_url"]:
        raise SettingsError(f"{source}: engine.hub_connect_url: missing: required when engine.network is 'bridge'")
    internal = settings["hub"]["internal_ip"]
    try:
        loopback = ipaddress.ip_address(internal).is_loopback
    except ValueError:
        loopback = False
    if not loopback or internal == "127.0.0.1":
        raise SettingsError(
            f"{source}: hub.internal_ip: {internal!r} is not allowed: expected a loopback address of this machine "
            "other than 127.0.0.1 (which containers reach), such as 127.0.0.2"
        )
    for i, proxy in enumerate(settings["hub"]["trusted_proxies"]):
        try:
            ipaddress.ip_address(proxy)
        except ValueError:
            raise SettingsError(
                f"{source}: hub.trusted_proxies.{i}: {proxy!r} is not allowed: expected an IP address such as 127.0.0.2"
            ) from None
    cidr = settings["engine"]["slirp4netns_cidr"]
    if (problem := network.cidr_problem(cidr)) is not None:
        raise SettingsError(f"{source}: engine.slirp4netns_cidr: {cidr!r} is not allowed: {problem}")
    if bool(settings["hub"]["ssl_cert"]) != bool(settings["hub"]["ssl_key"]):
        raise SettingsError(f"{source}: hub.ssl_cert and hub.ssl_key: give both or neither")
    if settings["engine"]["network"] == "slirp4netns" and settings["hub"]["ssl_cert"]:
        raise SettingsError(
            f"{source}: hub.ssl_cert: set while engine.network is 'slirp4netns': servers reach the hub through its "
            "proxy on this machine, which would then speak TLS under the public name; put TLS in a reverse proxy "
            "in front of the hub instead (README: Deploying for an institution)"
        )
    _check_engine(settings, source)
    _check_runner(settings, source)
    _check_projects(settings, source)
    _check_group_names(settings, source)
    return settings


def _check_engine(settings: dict, source: str) -> None:
    """Without a container engine (``engine.kind: none``) no service that starts containers may be on."""
    if settings["engine"]["kind"] != "none":
        return
    for service, what in (("runner", "runs notebooks in containers"), ("projects", "makes volumes and servers")):
        if settings[service]["enabled"]:
            raise SettingsError(
                f"{source}: {service}.enabled: true is not allowed while engine.kind is 'none': the {service} "
                f"service {what}; set {service}.enabled: false, or choose an engine (auto, docker or podman)"
            )


def _check_group_names(settings: dict, source: str) -> None:
    """Groups named in the settings never take a name kept for projects' groups."""
    named = [("library.curators_group", settings["library"]["curators_group"])]
    named.append(("projects.create_group", settings["projects"]["create_group"]))
    oidc = settings["auth"]["oidc"]
    named += [(f"auth.oidc.allowed_groups.{i}", g) for i, g in enumerate(oidc["allowed_groups"])]
    named += [(f"auth.oidc.admin_groups.{i}", g) for i, g in enumerate(oidc["admin_groups"])]
    for key, name in named:
        if name and (problem := names.reserved_group_problem(name)) is not None:
            raise SettingsError(f"{source}: {key}: {name!r} is not allowed: {problem}")


def _check_ports(settings: dict, source: str, service: str, others: tuple[str, ...]) -> None:
    """``<service>.port`` is refused when the hub's API or an earlier enabled service uses it."""
    taken = {settings["hub"]["api_port"]: "hub.api_port"}
    for other in others:
        if settings[other]["enabled"]:
            taken.setdefault(settings[other]["port"], f"{other}.port")
    port = settings[service]["port"]
    if port in taken:
        raise SettingsError(f"{source}: {service}.port: {port!r} is not allowed: {taken[port]} uses it already")


def _check_runner(settings: dict, source: str) -> None:
    runner = settings["runner"]
    if not runner["enabled"]:
        return
    _check_ports(settings, source, "runner", ("library",))
    if parse_size(runner["mem_limit"]) < 64 * 1024**2:
        limit = runner["mem_limit"]
        raise SettingsError(f"{source}: runner.mem_limit: {limit!r} is not allowed: expected at least 64M")


def _check_projects(settings: dict, source: str) -> None:
    if settings["projects"]["enabled"]:
        _check_ports(settings, source, "projects", ("library", "runner"))


def settings_path(env: dict | None = None) -> Path:
    env = os.environ if env is None else env
    return Path(env.get("STATCOMMONS_SETTINGS") or DEFAULT_PATH)


def load(path: str | os.PathLike | None = None) -> dict:
    """Read and validate the settings file; a missing default file means all defaults."""
    path = Path(path) if path else settings_path()
    if not path.exists():
        if path == DEFAULT_PATH:
            return validate({}, "defaults")
        raise SettingsError(f"{path}: settings file not found")
    try:
        data = yaml.safe_load(path.read_text())
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        where = f" line {mark.line + 1}" if mark else ""
        raise SettingsError(f"{path}:{where} not valid YAML: {getattr(e, 'problem', e)}") from None
    return validate(data, str(path))


def hub_public_url(settings: dict) -> str:
    """The hub's address as people reach it (``hub.public_url``, else where the proxy listens), with the base URL."""
    hub = settings["hub"]
    if hub["public_url"]:
        return hub["public_url"].rstrip("/") + hub["base_url"]
    proto = "https" if hub["ssl_cert"] else "http"
    return f"{proto}://{hub['ip']}:{hub['port']}{hub['base_url']}"


def library_database_url(settings: dict, env: dict | None = None) -> str:
    """The catalogue's database: ``STATCOMMONS_LIBRARY_DB``, else ``library.database``, else SQLite in the state folder.

    The environment variable exists for URLs carrying a password, which never belong in the file.
    """
    env = os.environ if env is None else env
    url = env.get("STATCOMMONS_LIBRARY_DB") or settings["library"]["database"]
    return url or f"sqlite:///{state_dir(settings) / 'library.sqlite'}"


def library_folder(settings: dict) -> Path:
    """The folder of curated item files (``library/`` in the repository by default)."""
    path = Path(settings["library"]["folder"])
    return path if path.is_absolute() else ROOT / path


def runner_folder(settings: dict, key: str) -> Path:
    """``runner.shared_notebooks`` or ``runner.datasets`` as a path (relative to the repository, or absolute)."""
    path = Path(settings["runner"][key])
    return path if path.is_absolute() else ROOT / path


def projects_database_url(settings: dict, env: dict | None = None) -> str:
    """The projects' database: ``STATCOMMONS_PROJECTS_DB``, else ``projects.database``, else SQLite in the state dir."""
    env = os.environ if env is None else env
    url = env.get("STATCOMMONS_PROJECTS_DB") or settings["projects"]["database"]
    return url or f"sqlite:///{state_dir(settings) / 'projects.sqlite'}"


def projects_archive_folder(settings: dict) -> Path:
    """Where deleted projects' files are kept as compressed tar files (``projects/archive`` in the state folder)."""
    folder = settings["projects"]["archive_folder"]
    if not folder:
        return state_dir(settings) / "projects" / "archive"
    path = Path(folder)
    return path if path.is_absolute() else ROOT / path


def state_dir(settings: dict) -> Path:
    """The folder holding the hub's database, secrets, logs and engine socket."""
    path = Path(settings["state_dir"])
    return path if path.is_absolute() else ROOT / path
