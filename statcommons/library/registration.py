"""The library as the hub registers it, and its options, both from the validated settings.

Every user reads and submits (``custom:library:read``, ``custom:library:submit``), members of
``library.curators_group`` also review, admins administer, and the runner records notebook runs.
The service itself has no role: it needs nothing from the hub's API.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ..kit.migrations import Database
from ..kit.registration import POSTGRES_ENV, Registration, admins_role, service_entry
from ..platform.units import parse_size
from ..settings import hub_public_url, library_database_url, library_folder
from .service.access import ADMIN, CUSTOM_SCOPES, READ, REVIEW, RUNS, SUBMIT
from .store import SCHEMA


@dataclass(frozen=True)
class Options:
    """What the library service works with."""

    database: str
    folder: Path
    search: str
    max_notebook_size: int
    max_video_size: int
    #: The hub's public URL, for links (nbgitpuller's among them).
    hub_url: str


def options(settings: dict, env: dict) -> Options:
    library = settings["library"]
    return Options(
        database=library_database_url(settings, env),
        folder=library_folder(settings),
        search=library["search"],
        max_notebook_size=parse_size(library["max_notebook_size"]),
        max_video_size=parse_size(library["max_video_size"]),
        hub_url=hub_public_url(settings),
    )


def registration(settings: dict, env: dict, ops: bool) -> Registration:
    library = settings["library"]
    service = service_entry(
        settings,
        env,
        "library",
        "statcommons.library.service",
        passed=("STATCOMMONS_LIBRARY_DB", *POSTGRES_ENV),
        display=True,
        info={"description": "The StatCommons library: publications, datasets, tutorials and more"},
        # What a user's OAuth token for the library may carry; each user gets the part their roles grant.
        oauth_client_allowed_scopes=[READ, SUBMIT, REVIEW, ADMIN, RUNS],
    )
    use = ["access:services!service=library", READ, SUBMIT]
    roles = [
        {
            "name": "library-curator",
            "description": "Review library submissions",
            "scopes": [*use, REVIEW],
            "groups": [library["curators_group"]],
        },
        admins_role(settings, "library-admin", "Administer the library", [ADMIN, REVIEW], ops),
    ]
    return Registration(
        service=service,
        roles=roles,
        user_scopes=use,
        user_purpose="reading and submitting to the library",
        custom_scopes=dict(CUSTOM_SCOPES),
        server_scopes=[*use, REVIEW],
        database=Database("library", library_database_url(settings, env), SCHEMA),
    )
