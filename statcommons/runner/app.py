"""The runner service's tornado application and its start.

The hub starts it (``python -m statcommons.runner``, as :mod:`statcommons.runner.registration`
registers it) with the engine in ``DOCKER_HOST`` and its own hub token in ``JUPYTERHUB_API_TOKEN``;
it reads its options from the settings file the hub names in ``STATCOMMONS_SETTINGS``. At start
it recovers from an earlier stop (:meth:`Runner.start`), then
runs the queue, the scheduler and the API under ``JUPYTERHUB_SERVICE_PREFIX``. It writes its
process id to ``runner.pid`` in its state folder.
"""

from __future__ import annotations

import asyncio
import logging
import os

import docker
from jupyterhub.services.auth import HubOAuth
from jupyterhub.utils import url_path_join
from tornado import web

from ..kit import openapi
from ..kit.web import NotFoundHandler, OAuthCallbackHandler, run_service, serve, service_hub_auth
from . import api, registration
from .executor import Executor
from .living import LivingLibrary
from .registration import Options
from .runs import Runner
from .scheduler import Scheduler, interval_problem
from .sources import Library
from .store import Schedule, Store

log = logging.getLogger("statcommons.runner")


class IndexHandler(api.BaseHandler):
    """``GET /``: where the API is."""

    def get(self) -> None:
        self.write_json(
            {"service": "runner", "api": f"{self.prefix}api/runs", "openapi": f"{self.prefix}api/openapi.json"}
        )


def handlers(prefix: str) -> list[tuple]:
    def route(path: str) -> str:
        return url_path_join(prefix, path)

    return [
        (route("oauth_callback"), OAuthCallbackHandler),
        *api.API.routes(prefix),
        (route(r"api/.*"), NotFoundHandler),
        (prefix, IndexHandler),
    ]


def make_app(runner: Runner, scheduler: Scheduler, *, prefix: str, hub_auth: HubOAuth | None = None):
    hub_auth = hub_auth or service_hub_auth(cache_max_age=60)
    return web.Application(
        handlers(prefix),
        runner=runner,
        scheduler=scheduler,
        prefix=prefix,
        hub_auth=hub_auth,
        openapi=openapi.document(api.API, prefix),
        cookie_secret=os.urandom(32),
        xsrf_cookies=False,  # HubOAuth checks XSRF for cookie-authenticated requests itself
    )


def _warn_frequent_schedules(store: Store, minimum: int) -> None:
    """Schedules made before the minimum (or under a lower one) keep running; the log says which."""
    for schedule in store.schedules():
        try:
            problem = interval_problem(schedule.cron, minimum)
        except ValueError as e:  # croniter's errors; such a schedule fails at its times, as before
            problem = f"{schedule.cron!r} cannot be checked: {e}"
        if problem:
            log.warning("schedule %s of %s, kept as it is: %s", schedule.id, schedule.user, problem)


async def _prune_daily(runner: Runner, keep_days: float) -> None:
    while True:
        try:
            await runner.executor.call(runner.prune, keep_days)
        except OSError as e:
            log.error("removing the files of old runs failed: %s", e)
        await asyncio.sleep(24 * 3600)


async def _serve(options: Options) -> None:
    options.state.mkdir(parents=True, exist_ok=True)
    (options.state / "runner.pid").write_text(str(os.getpid()))
    store = Store(options.database)
    client = docker.DockerClient(base_url=os.environ.get("DOCKER_HOST") or None, timeout=120)
    executor = Executor(client, options.run, options.state, threads=2 * options.concurrency + 4)
    token = os.environ.get("JUPYTERHUB_API_TOKEN", "")
    library = Library(options.library_url, token) if options.library_url else None
    limits = options.limits
    runner = Runner(store, executor, limits, options.concurrency, library)

    async def fire(schedule: Schedule) -> int:
        run = await runner.queue(
            schedule.user, item=schedule.item, path=schedule.path, parameters=schedule.parameters, schedule=schedule.id
        )
        return run.id

    scheduler = Scheduler(store, fire)
    living = None
    if library is not None and options.rerun_library_every:
        living = LivingLibrary(runner, library, options.rerun_library_every)

    # The engine work comes after the service listens: the hub gives a managed service about ten
    # seconds to answer, and on a busy engine listing containers and images can take longer.
    async def start_up() -> None:
        try:
            for image in sorted({choice.image for choice in limits.kernels.profiles.values()}):
                if await executor.call(executor.image_id, image) is None:
                    log.warning("the image %s is not on the engine: runs in it will fail until it is built", image)
        except docker.errors.DockerException as e:
            log.error("the container engine does not answer: %s", e)
        try:
            await runner.start()
        except Exception:  # its runs cannot start; the API still answers and the log says why
            log.exception("the runner failed to start its runs")
            return
        _warn_frequent_schedules(store, limits.min_schedule_interval)
        scheduler.start()
        if living:
            living.start()
        offered = ", ".join(f"{k} in {limits.kernels.choose(k).image}" for k in limits.kernels.offered())
        log.info("runner: %s runs at a time; kernels %s", options.concurrency, offered)

    starting = asyncio.ensure_future(start_up())
    pruning = asyncio.create_task(_prune_daily(runner, options.keep_days)) if options.keep_days > 0 else None
    prefix = os.environ.get("JUPYTERHUB_SERVICE_PREFIX", "/services/runner/")
    app = make_app(runner, scheduler, prefix=prefix)
    await serve(app, default_url="http://127.0.0.1:8083", prefix=prefix, max_body_size=16 * 1024**2, log=log)
    starting.cancel()
    log.info("runner stopping: running runs are retried at the next start")
    if pruning:
        pruning.cancel()
    scheduler.stop()
    if living:
        living.stop()
    await runner.stop()
    executor.close()
    store.close()


def main() -> None:
    run_service("statcommons.runner", registration.options, _serve)
