"""The runner service's tornado application and its start.

The hub starts it (``python -m statcommons.runner``, see :func:`statcommons.hub.config.update_services`)
with the engine in ``DOCKER_HOST``, its own hub token in ``JUPYTERHUB_API_TOKEN`` and the
settings as options. At start it recovers from an earlier stop (:meth:`Runner.start`), then
runs the queue, the scheduler and the API under ``JUPYTERHUB_SERVICE_PREFIX``. It writes its
process id to ``runner.pid`` in its state folder.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
from pathlib import Path

import docker
from jupyterhub.services.auth import HubOAuth
from jupyterhub.utils import url_path_join
from tornado import web
from tornado.log import enable_pretty_logging

from ..kit.web import NotFoundHandler, OAuthCallbackHandler, serve, service_hub_auth
from ..platform.units import parse_size, parse_ulimits
from . import api
from .executor import Executor, Options
from .openapi import openapi
from .runs import Limits, Runner
from .scheduler import DAY, Scheduler, interval_problem
from .sources import Library, LibraryError
from .store import Schedule, Store

log = logging.getLogger("statcommons.runner")


class OpenAPIHandler(api.BaseHandler):
    """``GET /api/openapi.json``: readable without logging in."""

    def get(self) -> None:
        self.write_json(self.settings["openapi"])


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
        (route("api/openapi.json"), OpenAPIHandler),
        (route("api/runs"), api.RunsHandler),
        (route(r"api/runs/([^/]+)"), api.RunHandler),
        (route(r"api/runs/([^/]+)/notebook"), api.RunNotebookHandler),
        (route("api/schedules"), api.SchedulesHandler),
        (route(r"api/schedules/([^/]+)"), api.ScheduleHandler),
        (route("api/user"), api.UserHandler),
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
        openapi=openapi(prefix),
        cookie_secret=os.urandom(32),
        xsrf_cookies=False,  # HubOAuth checks XSRF for cookie-authenticated requests itself
    )


def _arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m statcommons.runner", description=__doc__.splitlines()[0])
    parser.add_argument("--state", type=Path, required=True, help="the runner's folder: runs, pid file, database")
    parser.add_argument("--image", default="statcommons/lab:latest")
    parser.add_argument("--concurrency", type=int, default=2, help="runs at a time; the others wait")
    parser.add_argument("--time-limit", type=int, default=3600, help="seconds a run may take")
    parser.add_argument("--mem-limit", default="2G", help="memory of a run, swap included")
    parser.add_argument(
        "--keep-days", type=float, default=90, help="days the executed notebooks of ended runs are kept (0: for good)"
    )
    parser.add_argument("--cpu-limit", type=float, default=1.0, help="cores a run may use (0: no limit)")
    parser.add_argument(
        "--max-active-per-user", type=int, default=20, help="queued or running runs one user may have at a time"
    )
    parser.add_argument(
        "--min-schedule-interval",
        type=_interval,
        default=3600,
        help="seconds, at least 60: the shortest gap allowed between the times of a new schedule",
    )
    parser.add_argument("--name-prefix", default="statcommons", help="prefix of container and home volume names")
    parser.add_argument(
        "--network",
        default="host",
        help="the engine's network mode of runs, as users' servers get it (slirp4netns:..., host, or a Docker network)",
    )
    parser.add_argument("--ulimits", type=parse_ulimits, default={"nofile": 20000, "nproc": 32768})
    parser.add_argument("--pids-limit", type=int, default=1024, help="processes and threads of a run")
    parser.add_argument("--tmp-size", type=parse_size, default=1024**3, help="each in-memory folder of a run")
    parser.add_argument("--volume-images", type=Path, default=None, help="where capped volumes' images live")
    parser.add_argument("--shared-notebooks", type=Path, help="the folder shared_path items point into")
    parser.add_argument("--datasets", type=Path, help="the data sets folder mounted beside shared notebooks")
    parser.add_argument("--library-url", help="the library service, e.g. http://127.0.0.1:8082/services/library/")
    return parser.parse_args(argv)


def _interval(text: str) -> int:
    seconds = int(text)
    if not 60 <= seconds <= DAY:
        raise argparse.ArgumentTypeError(f"{text} is not allowed: seconds from 60 to {DAY}")
    return seconds


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


async def _serve(args: argparse.Namespace) -> None:
    args.state.mkdir(parents=True, exist_ok=True)
    (args.state / "runner.pid").write_text(str(os.getpid()))
    store = Store(os.environ.get("STATCOMMONS_RUNNER_DB") or f"sqlite:///{args.state / 'runner.sqlite'}")
    client = docker.DockerClient(base_url=os.environ.get("DOCKER_HOST") or None, timeout=120)
    options = Options(
        image=args.image,
        name_prefix=args.name_prefix,
        network=args.network,
        ulimits=args.ulimits,
        shared_notebooks=args.shared_notebooks,
        datasets=args.datasets,
        cpu_limit=args.cpu_limit or None,
        pids_limit=args.pids_limit,
        tmp_size=args.tmp_size,
        volume_images=args.volume_images,
    )
    executor = Executor(client, options, args.state, threads=2 * args.concurrency + 4)
    token = os.environ.get("JUPYTERHUB_API_TOKEN", "")
    library = Library(args.library_url, token) if args.library_url else None
    limits = Limits(
        image=args.image,
        time_limit=args.time_limit,
        mem_limit=parse_size(args.mem_limit),
        max_active_per_user=args.max_active_per_user,
        min_schedule_interval=args.min_schedule_interval,
    )
    runner = Runner(store, executor, limits, args.concurrency, library)
    try:
        if await executor.call(executor.image_id) is None:
            log.warning("the image %s is not on the engine: runs will fail until it is built", args.image)
    except docker.errors.DockerException as e:
        log.error("the container engine does not answer: %s", e)
    await runner.start()
    _warn_frequent_schedules(store, args.min_schedule_interval)

    async def fire(schedule: Schedule) -> int:
        fields = {"parameters": schedule.parameters, "schedule": schedule.id}
        if schedule.item is None:
            return runner.submit(schedule.user, path=schedule.path, **fields).id
        try:
            source = await runner.item_source(schedule.item)
        except (LibraryError, ValueError) as e:
            error = f"the library item {schedule.item!r} cannot be run: {e}"
            return runner.record_failure(schedule.user, error, item=schedule.item, **fields).id
        return runner.submit(schedule.user, item=schedule.item, source=source, **fields).id

    scheduler = Scheduler(store, fire)
    scheduler.start()
    pruning = asyncio.create_task(_prune_daily(runner, args.keep_days)) if args.keep_days > 0 else None
    prefix = os.environ.get("JUPYTERHUB_SERVICE_PREFIX", "/services/runner/")
    app = make_app(runner, scheduler, prefix=prefix)
    log.info("runner: %s runs at a time, image %s", args.concurrency, args.image)
    await serve(app, default_url="http://127.0.0.1:8083", prefix=prefix, max_body_size=16 * 1024**2, log=log)
    log.info("runner stopping: running runs are retried at the next start")
    if pruning:
        pruning.cancel()
    scheduler.stop()
    await runner.stop()
    executor.close()
    store.close()


def main(argv: list[str] | None = None) -> None:
    enable_pretty_logging()
    logging.getLogger().setLevel(logging.INFO)
    asyncio.run(_serve(_arguments(argv)))
