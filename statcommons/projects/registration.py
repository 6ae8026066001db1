"""The projects service as the hub registers it, and its options, both from the validated settings.

Every user uses projects (``custom:projects:use``), admins administer; the service's own role
manages the member groups, the collaboration accounts and their servers.
"""

from __future__ import annotations

from ..kit.migrations import Database
from ..kit.registration import ENGINE_ENV, POSTGRES_ENV, Registration, admins_role, service_entry
from ..platform.units import parse_size
from ..settings import projects_archive_folder, projects_database_url, state_dir
from . import access
from .core import Options
from .store import SCHEMA

#: The projects service's hub role, and why it needs each scope.
SERVICE_SCOPES = {
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


def database(settings: dict, env: dict) -> str:
    return projects_database_url(settings, env)


def options(settings: dict, env: dict) -> Options:
    projects, hub = settings["projects"], settings["hub"]
    proto = "https" if hub["ssl_cert"] else "http"
    return Options(
        name_prefix=settings["servers"]["name_prefix"],
        image=settings["profiles"][settings["default_profile"]]["image"],
        ulimits=dict(settings["engine"]["ulimits"]),
        archive_folder=projects_archive_folder(settings),
        create_group=projects["create_group"],
        max_projects_per_user=projects["max_projects_per_user"],
        # The proxy on loopback: how the service reaches collaboration servers at /user/...
        proxy_url=f"{proto}://127.0.0.1:{hub['port']}{hub['base_url']}",
        volume_size=parse_size(projects["volume_size"]),
        volume_images=state_dir(settings) / "volumes",
    )


def registration(settings: dict, env: dict, ops: bool) -> Registration:
    service = service_entry(
        settings,
        env,
        "projects",
        "statcommons.projects",
        passed=("STATCOMMONS_PROJECTS_DB", *ENGINE_ENV, *POSTGRES_ENV),
        display=True,
        info={"description": "Project spaces: shared folders and servers for teams"},
        oauth_client_allowed_scopes=[access.USE, access.ADMIN],
    )
    use = ["access:services!service=projects", access.USE]
    roles = [
        admins_role(settings, "projects-admin", "See and manage every project", [*use, access.ADMIN], ops),
        {
            "name": "projects",
            "description": "The projects service manages member groups and collaboration accounts and servers",
            "scopes": list(SERVICE_SCOPES),
            "services": ["projects"],
        },
    ]
    return Registration(
        service=service,
        roles=roles,
        user_scopes=use,
        user_purpose="projects",
        custom_scopes=dict(access.CUSTOM_SCOPES),
        server_scopes=use,
        database=Database("projects", database(settings, env), SCHEMA),
    )
