"""The runner as the hub registers it, and its options, both from the validated settings.

Every user runs notebooks (``custom:runner:run``); curators and admins see every run
(``custom:runner:admin``); the service's own role reads the library and records runs there.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ..kit.migrations import Database
from ..kit.registration import ENGINE_ENV, POSTGRES_ENV, Registration, admins_role, service_entry
from ..platform import network
from ..platform.units import parse_size
from ..settings import runner_folder, state_dir
from . import access
from .executor import Options as RunOptions
from .kernels import Kernels
from .runs import Limits
from .store import SCHEMA

#: The library's scopes the runner's role needs (the library's own names for them).
LIBRARY_READ = "custom:library:read"
LIBRARY_RUNS = "custom:library:runs"


@dataclass(frozen=True)
class Options:
    """What the runner service works with."""

    state: Path
    database: str
    run: RunOptions
    limits: Limits
    concurrency: int
    keep_days: float
    #: Seconds between two runs of each published library notebook (0: the living library is off).
    rerun_library_every: int
    #: The library's API as this machine reaches it (None: no library).
    library_url: str | None


def options(settings: dict, env: dict) -> Options:
    runner, servers = settings["runner"], settings["servers"]
    state = state_dir(settings) / "runner"
    kernels = Kernels.from_settings(settings)
    run = RunOptions(
        image=kernels.default_image(),
        name_prefix=servers["name_prefix"],
        network=network.container_network(settings),
        ulimits=dict(settings["engine"]["ulimits"]),
        shared_notebooks=runner_folder(settings, "shared_notebooks"),
        datasets=runner_folder(settings, "datasets"),
        cpu_limit=runner["cpu_limit"] or None,
        pids_limit=servers["pids_limit"],
        tmp_size=parse_size(servers["tmp_size"]),
        volume_images=state_dir(settings) / "volumes",
    )
    limits = Limits(
        image=kernels.default_image(),
        kernels=kernels,
        time_limit=runner["time_limit"],
        mem_limit=parse_size(runner["mem_limit"]),
        max_active_per_user=runner["max_active_per_user"],
        min_schedule_interval=runner["min_schedule_interval"],
    )
    library_url = None
    if settings["library"]["enabled"]:
        internal = network.internal_ip(settings)
        library_url = f"http://{internal}:{settings['library']['port']}{settings['hub']['base_url']}services/library/"
    return Options(
        state=state,
        database=env.get("STATCOMMONS_RUNNER_DB") or f"sqlite:///{state / 'runner.sqlite'}",
        run=run,
        limits=limits,
        concurrency=runner["concurrency"],
        keep_days=runner["keep_days"],
        rerun_library_every=runner["rerun_library_every"],
        library_url=library_url,
    )


def registration(settings: dict, env: dict, ops: bool) -> Registration:
    service = service_entry(
        settings,
        env,
        "runner",
        "statcommons.runner",
        passed=("STATCOMMONS_RUNNER_DB", *ENGINE_ENV, *POSTGRES_ENV),
        display=False,  # an API: nothing to show in the services menu
        info={"description": "Runs notebooks in fresh containers, now or on a schedule"},
        oauth_client_allowed_scopes=[access.RUN, access.ADMIN],
    )
    use = ["access:services!service=runner", access.RUN]
    admins = admins_role(
        settings, "runner-admin", "See and cancel every notebook run and schedule", [*use, access.ADMIN], ops
    )
    admins["groups"] = [settings["library"]["curators_group"], *admins.get("groups", [])]
    roles = [admins]
    if settings["library"]["enabled"]:
        # Least privilege: read the catalogue and record runs, nothing of the hub's API.
        roles.append(
            {
                "name": "runner",
                "description": "The notebook runner reads library notebooks and records their runs",
                "scopes": [LIBRARY_READ, LIBRARY_RUNS],
                "services": ["runner"],
            }
        )
    return Registration(
        service=service,
        roles=roles,
        user_scopes=use,
        user_purpose="running notebooks",
        custom_scopes=dict(access.CUSTOM_SCOPES),
        server_scopes=[*use, access.ADMIN],
        database=Database("runner", options(settings, env).database, SCHEMA),
    )
