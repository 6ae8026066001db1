"""The REST API of the runner, under ``/services/runner/api/``.

Handlers are thin: they check who calls (:mod:`.access`), check the request and call the
:class:`~statcommons.runner.runs.Runner` or the :class:`~statcommons.runner.store.Store`.
Errors are JSON ``{"status", "message"}``, with ``errors`` (each a ``path`` naming the field
and a ``message``) when the request has problems; never a redirect. A run or schedule of
someone else is a 404 to anyone but curators and admins, as if it did not exist.
"""

from __future__ import annotations

import keyword
import re
from pathlib import PurePosixPath
from typing import Any

from ..kit.client import ServiceError
from ..kit.web import ApiError, JsonApiHandler
from ..platform.units import parse_size, size_text
from .access import Caller
from .scheduler import cron_problem, interval_problem, next_time
from .store import ACTIVE, FAILING, STATUSES, now, run_json, schedule_json

MAX_BODY = 64 * 1024
MAX_PAGE = 100
MIN_MEMORY = 64 * 1024**2
ITEM_PATTERN = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")
RUN_FIELDS = ("item", "path", "parameters", "time_limit", "mem_limit")
SCHEDULE_FIELDS = ("item", "path", "cron", "parameters")
LIST_PARAMETERS = ("user", "item", "status", "failing", "limit", "offset")


def problem(status: int, path: str, message: str) -> ApiError:
    return ApiError(status, f"{path}: {message}", [{"path": path, "message": message}])


class BaseHandler(JsonApiHandler):
    """The runner's API handlers: the runner, its store and the caller's permissions."""

    max_body = MAX_BODY

    @property
    def runner(self):
        return self.settings["runner"]

    @property
    def store(self):
        return self.settings["runner"].store

    @property
    def prefix(self) -> str:
        return self.settings["prefix"]

    async def prepare(self) -> None:
        await super().prepare()
        self.caller = Caller.from_model(self.hub_user) if self.hub_user else None

    def user(self) -> Caller:
        if self.caller is None:
            raise ApiError(401, "not logged in: log in through the hub, or send a hub token (Authorization: token ...)")
        if not self.caller.can_run:
            raise ApiError(403, f"{self.caller.name} may not use the notebook runner")
        return self.caller

    def body(self, allowed: tuple[str, ...]) -> dict:
        """The request's JSON object, with only the ``allowed`` fields."""
        data = self.json_body()
        unknown = sorted(set(data) - set(allowed))
        if unknown:
            message = f"unknown field: allowed fields are {', '.join(allowed)}"
            raise ApiError(422, f"unknown field {unknown[0]!r}", [{"path": k, "message": message} for k in unknown])
        return data

    def visible_run(self, run_id: str, caller: Caller):
        run = self.store.run(int(run_id)) if run_id.isdigit() and len(run_id) < 12 else None
        if run is None or not caller.sees(run.user):
            raise ApiError(404, f"no run {run_id}")
        return run

    def run_json(self, run) -> dict:
        return run_json(run, self.prefix)

    async def target(self, data: dict, caller: Caller) -> dict:
        """The checked ``item`` (with its library source) or ``path`` of a run or schedule."""
        if ("item" in data) == ("path" in data):
            message = "give either item (a library notebook's id) or path (a notebook in your home), not both"
            if "item" not in data:
                message = "missing: give item (a library notebook's id) or path (a notebook in your home)"
            raise problem(422, "item", message)
        if "path" in data:
            return {"path": check_path(data["path"])}
        item = data["item"]
        if not isinstance(item, str) or not ITEM_PATTERN.match(item) or len(item) > 80:
            raise problem(422, "item", f"{item!r} is not a library item id (lowercase letters, digits and -)")
        try:
            source = await self.runner.item_source(item)
        except ServiceError as e:
            if e.status == 404:
                raise problem(404, "item", f"no published library item {item!r}") from None
            if e.status == 422:
                raise problem(422, "item", str(e)) from None
            raise ApiError(502, f"the library service could not be asked about {item!r}: {e}") from None
        except ValueError as e:
            raise problem(422, "item", str(e)) from None
        return {"item": item, "source": source}


def check_path(path: Any) -> str:
    """A notebook path relative to the home: no ``..``, not absolute, a ``.ipynb`` file."""
    if not isinstance(path, str) or not path.strip():
        raise problem(422, "path", "expected the path of a notebook relative to your home, such as work/report.ipynb")
    if len(path) > 1000 or any(ord(c) < 32 for c in path) or "\\" in path:
        raise problem(422, "path", f"{path[:80]!r} is not allowed: no control characters or backslashes")
    pure = PurePosixPath(path)
    if pure.is_absolute() or ".." in pure.parts:
        raise problem(422, "path", f"{path!r} is outside your home: give a path relative to it, without ..")
    if pure.suffix != ".ipynb":
        raise problem(422, "path", f"{path!r} is not a notebook: expected a .ipynb file")
    return str(pure)


def check_parameters(parameters: Any) -> dict:
    if parameters is None:
        return {}
    if not isinstance(parameters, dict):
        raise problem(422, "parameters", "expected an object of parameter names and JSON values")
    for name in parameters:
        if not name.isidentifier() or keyword.iskeyword(name):
            raise problem(422, f"parameters.{name}", f"{name!r} is not allowed: a parameter name is a Python name")
    return parameters


class RunsHandler(BaseHandler):
    """``GET /api/runs``: runs, newest first; ``POST /api/runs``: start one."""

    def get(self) -> None:
        caller = self.user()
        unknown = sorted(set(self.request.arguments) - set(LIST_PARAMETERS))
        if unknown:
            message = f"unknown parameter: allowed parameters are {', '.join(LIST_PARAMETERS)}"
            raise ApiError(422, f"unknown parameter {unknown[0]!r}", [{"path": k, "message": message} for k in unknown])
        user = self.get_argument("user", None)
        if user is not None and not caller.sees(user):
            raise problem(403, "user", "you may list only your own runs")
        if not caller.admin:
            user = caller.name
        failing = self.get_argument("failing", "false").lower()
        if failing not in ("true", "false", "1", "0"):
            raise problem(422, "failing", f"{failing!r} is not allowed: use true or false")
        limit, offset = self.number("limit", 50, 1), self.number("offset", 0, 0)
        limit = min(limit, MAX_PAGE)
        if failing in ("true", "1"):
            runs = self.store.failing(user)
            total, runs = len(runs), runs[offset : offset + limit]
        else:
            statuses = [s for s in self.get_arguments("status") if s]
            bad = [s for s in statuses if s not in STATUSES]
            if bad:
                raise problem(422, "status", f"{bad[0]!r} is not allowed: use one of {', '.join(STATUSES)}")
            item = self.get_argument("item", None)
            runs, total = self.store.runs(user=user, item=item, status=statuses, limit=limit, offset=offset)
        self.write_json({"runs": [self.run_json(r) for r in runs], "total": total, "limit": limit, "offset": offset})

    def number(self, name: str, default: int, minimum: int) -> int:
        raw = self.get_argument(name, str(default))
        if not raw.isdigit() or int(raw) < minimum or len(raw) > 9:
            raise problem(422, name, f"{raw!r} is not allowed: expected a whole number, at least {minimum}")
        return int(raw)

    async def post(self) -> None:
        caller = self.user()
        data = self.body(RUN_FIELDS)
        parameters = check_parameters(data.get("parameters"))
        limits = self.runner.limits
        time_limit = data.get("time_limit")
        if time_limit is not None and (
            isinstance(time_limit, bool) or not isinstance(time_limit, int) or not 1 <= time_limit <= limits.time_limit
        ):
            raise problem(422, "time_limit", f"{time_limit!r} is not allowed: seconds from 1 to {limits.time_limit}")
        mem_limit = data.get("mem_limit")
        if mem_limit is not None:
            mem_limit = check_memory(mem_limit, limits.mem_limit)
        target = await self.target(data, caller)
        _, active = self.store.runs(user=caller.name, status=ACTIVE, limit=1)
        if active >= limits.max_active_per_user:
            raise ApiError(
                429,
                f"{caller.name} has {active} runs queued or running, the most one person may have: "
                "wait for one to end, or cancel one",
            )
        if "path" in target and not await self.runner.executor.call(self.runner.executor.home_exists, caller.name):
            raise problem(422, "path", f"{caller.name} has no home yet: start your server once, then run notebooks")
        run = self.runner.submit(
            caller.name, parameters=parameters, time_limit=time_limit, mem_limit=mem_limit, **target
        )
        self.set_header("Location", f"{self.prefix}api/runs/{run.id}")
        self.write_json(self.run_json(run), 201)


def check_memory(value: Any, ceiling: int) -> int:
    try:
        size = parse_size(value) if isinstance(value, str) else None
    except ValueError:
        size = None
    if size is None or not MIN_MEMORY <= size <= ceiling:
        raise problem(
            422, "mem_limit", f"{value!r} is not allowed: a size from 64M to {size_text(ceiling)}, such as 512M"
        )
    return size


class RunHandler(BaseHandler):
    """``GET /api/runs/{id}``; ``DELETE`` cancels a queued or running run."""

    def get(self, run_id: str) -> None:
        self.write_json(self.run_json(self.visible_run(run_id, self.user())))

    async def delete(self, run_id: str) -> None:
        caller = self.user()
        run = self.visible_run(run_id, caller)
        if run.status not in ACTIVE:
            raise ApiError(409, f"run {run.id} has already ended ({run.status})")
        self.write_json(self.run_json(await self.runner.cancel(run, caller.name)))


class RunNotebookHandler(BaseHandler):
    """``GET /api/runs/{id}/notebook``: the executed notebook, with its outputs and any error."""

    def get(self, run_id: str) -> None:
        run = self.visible_run(run_id, self.user())
        if not run.notebook:
            raise ApiError(404, f"run {run.id} has no executed notebook ({run.status})")
        path = self.runner.executor.run_dir(run.id) / run.notebook
        try:
            content = path.read_bytes()
        except OSError:
            raise ApiError(404, f"the executed notebook of run {run.id} is no longer kept") from None
        self.set_header("Content-Type", "application/x-ipynb+json")
        self.set_header("Content-Disposition", f'attachment; filename="run-{run.id}.ipynb"')
        self.finish(content)


class SchedulesHandler(BaseHandler):
    """``GET /api/schedules``: the caller's (every one for curators and admins); ``POST`` adds one."""

    def get(self) -> None:
        caller = self.user()
        schedules = self.store.schedules(None if caller.admin else caller.name)
        self.write_json({"schedules": [schedule_json(s) for s in schedules]})

    async def post(self) -> None:
        caller = self.user()
        data = self.body(SCHEDULE_FIELDS)
        parameters = check_parameters(data.get("parameters"))
        message = cron_problem(data.get("cron"))
        if message:
            raise problem(422, "cron", message)
        cron = " ".join(data["cron"].split())
        # In a thread: a long minimum may need croniter to look through years of days.
        message = await self.runner.executor.call(interval_problem, cron, self.runner.limits.min_schedule_interval)
        if message:
            raise problem(422, "cron", message)
        target = await self.target(data, caller)
        target.pop("source", None)  # looked up again at each run
        schedule = self.store.add_schedule(
            user=caller.name, cron=cron, parameters=parameters, next_run=next_time(cron, now()), **target
        )
        self.settings["scheduler"].changed()
        self.set_header("Location", f"{self.prefix}api/schedules/{schedule.id}")
        self.write_json(schedule_json(schedule), 201)


class ScheduleHandler(BaseHandler):
    """``GET /api/schedules/{id}``; ``DELETE`` removes it (runs already made stay)."""

    def visible_schedule(self, schedule_id: str, caller: Caller):
        schedule = self.store.schedule(int(schedule_id)) if schedule_id.isdigit() and len(schedule_id) < 12 else None
        if schedule is None or not caller.sees(schedule.user):
            raise ApiError(404, f"no schedule {schedule_id}")
        return schedule

    def get(self, schedule_id: str) -> None:
        self.write_json(schedule_json(self.visible_schedule(schedule_id, self.user())))

    def delete(self, schedule_id: str) -> None:
        schedule = self.visible_schedule(schedule_id, self.user())
        self.store.delete_schedule(schedule.id)
        self.settings["scheduler"].changed()
        self.set_status(204)
        self.finish()


class UserHandler(BaseHandler):
    """``GET /api/user``: who the runner thinks is calling, and the limits of a run."""

    def get(self) -> None:
        caller = self.user()
        limits = self.runner.limits
        self.write_json(
            {
                "name": caller.name,
                "admin": caller.admin,
                "image": limits.image,
                "time_limit": limits.time_limit,
                "mem_limit": size_text(limits.mem_limit),
                "cpu_limit": self.runner.executor.options.cpu_limit,
                "max_active_per_user": limits.max_active_per_user,
                "min_schedule_interval": limits.min_schedule_interval,
                "concurrency": self.runner.concurrency,
                "failing_statuses": list(FAILING),
            }
        )
