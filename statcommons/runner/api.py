"""The REST API of the runner, under ``/services/runner/api/``: each endpoint declared on its handler.

Handlers are thin: they check who calls (:mod:`.access`), read the request as the declared
models of :mod:`.models` and call the :class:`~statcommons.runner.runs.Runner` or the
:class:`~statcommons.runner.store.Store`. The declarations (:data:`API`) also route the paths and
make the OpenAPI document. Errors are JSON ``{"status", "message"}``, with ``errors`` (each a
``path`` naming the field and a ``message``) when the request has problems; never a redirect. A
run or schedule of someone else is a 404 to anyone but curators and admins, as if it did not exist.
"""

from __future__ import annotations

from ..kit.client import ServiceError
from ..kit.endpoints import Api, Content
from ..kit.validation import read_body, read_query
from ..kit.web import ApiError, JsonApiHandler
from ..platform.units import size_text
from .access import RUN, Caller
from .kernels import Choice, KernelError
from .models import MAX_PAGE, NewRun, NewSchedule, Run, RunFilter, Runs, Schedule, Schedules, Target, UserInfo
from .scheduler import interval_problem, next_time
from .store import ACTIVE, FAILING, now, run_json, schedule_json

MAX_BODY = 64 * 1024

API = Api(
    "runner",
    title="StatCommons notebook runner",
    description="Run notebooks with papermill in fresh containers, now or on cron schedules. "
    "Send a hub token (Authorization: token ...).",
)
RUN_ID = {"id": int}
NO_RUN = "no such run, or someone else's"
NO_SCHEDULE = "no such schedule, or someone else's"
NO_ITEM = "no published library notebook with that id"


def problem(status: int, path: str, message: str) -> ApiError:
    return ApiError(status, f"{path}: {message}", [{"path": path, "message": message}])


class BaseHandler(JsonApiHandler):
    """The runner's API handlers: the runner, its store and the caller's permissions."""

    caller_class = Caller

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

    def user(self) -> Caller:
        caller = self.logged_in()
        if not caller.can_run:
            raise ApiError(403, f"{caller.name} may not use the notebook runner")
        return caller

    def visible_run(self, run_id: str, caller: Caller):
        run = self.store.run(int(run_id)) if run_id.isdigit() and len(run_id) < 12 else None
        if run is None or not caller.sees(run.user):
            raise ApiError(404, f"no run {run_id}")
        return run

    def run_json(self, run) -> dict:
        return run_json(run, self.prefix)

    async def target(self, data: Target) -> dict:
        """The ``path``, or the ``item`` with its library source, of a checked run or schedule."""
        if data.path is not None:
            return {"path": data.path}
        item = data.item
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

    async def choose(self, user: str, target: dict) -> Choice:
        """The profile that runs the target's notebook; a kernel no profile offers is a 422 naming it."""
        try:
            return await self.runner.choose(user, **target)
        except KernelError as e:
            raise problem(422, "path" if "path" in target else "item", str(e)) from None


class RunsHandler(BaseHandler):
    """``GET /api/runs``: runs, newest first; ``POST /api/runs``: start one."""

    @API.get(
        "/runs",
        "runs, newest first: the caller's, every one for curators and admins; "
        "failing=true gives the library notebooks whose latest run failed or timed out",
        scope=RUN,
        query=RunFilter,
        responses={200: Runs, 403: "someone else's runs, asked for by someone who is not a curator or an admin"},
    )
    def get(self) -> None:
        caller = self.user()
        query = read_query(self)
        user = query.user
        if user is not None and not caller.sees(user):
            raise problem(403, "user", "you may list only your own runs")
        if not caller.admin:
            user = caller.name
        limit, offset = min(query.limit, MAX_PAGE), query.offset
        if query.failing:
            runs = self.store.failing(user)
            total, runs = len(runs), runs[offset : offset + limit]
        else:
            runs, total = self.store.runs(user=user, item=query.item, status=query.status, limit=limit, offset=offset)
        self.write_json({"runs": [self.run_json(r) for r in runs], "total": total, "limit": limit, "offset": offset})

    @API.post(
        "/runs",
        "start a run now (it waits in the queue when every slot is taken)",
        scope=RUN,
        body=NewRun,
        responses={
            201: Run,
            404: NO_ITEM,
            422: "a wrong field; or the notebook names a kernel no profile offers",
            429: "the caller has as many runs queued or running as one person may",
        },
    )
    async def post(self) -> None:
        caller = self.user()
        limits = self.runner.limits
        data = read_body(self, limits=limits)
        target = await self.target(data)
        _, active = self.store.runs(user=caller.name, status=ACTIVE, limit=1)
        if active >= limits.max_active_per_user:
            raise ApiError(
                429,
                f"{caller.name} has {active} runs queued or running, the most one person may have: "
                "wait for one to end, or cancel one",
            )
        if "path" in target and not await self.runner.executor.call(self.runner.executor.home_exists, caller.name):
            raise problem(422, "path", f"{caller.name} has no home yet: start your server once, then run notebooks")
        choice = await self.choose(caller.name, target)
        run = self.runner.submit(
            caller.name,
            image=choice.image,
            parameters=data.parameters or {},
            time_limit=data.time_limit,
            mem_limit=data.mem_limit,
            **target,
        )
        self.set_header("Location", f"{self.prefix}api/runs/{run.id}")
        self.write_json(self.run_json(run), 201)


class RunHandler(BaseHandler):
    """``GET /api/runs/{id}``; ``DELETE`` cancels a queued or running run."""

    @API.get("/runs/{id}", "one run", scope=RUN, parameters=RUN_ID, responses={200: Run, 404: NO_RUN})
    def get(self, run_id: str) -> None:
        self.write_json(self.run_json(self.visible_run(run_id, self.user())))

    @API.delete(
        "/runs/{id}",
        "cancel a queued or running run",
        scope=RUN,
        parameters=RUN_ID,
        responses={200: Run, 404: NO_RUN, 409: "the run has already ended"},
    )
    async def delete(self, run_id: str) -> None:
        caller = self.user()
        run = self.visible_run(run_id, caller)
        if run.status not in ACTIVE:
            raise ApiError(409, f"run {run.id} has already ended ({run.status})")
        self.write_json(self.run_json(await self.runner.cancel(run, caller.name)))


class RunNotebookHandler(BaseHandler):
    """``GET /api/runs/{id}/notebook``: the executed notebook, with its outputs and any error."""

    @API.get(
        "/runs/{id}/notebook",
        "the executed notebook",
        scope=RUN,
        parameters=RUN_ID,
        responses={
            200: Content("the notebook, outputs and error included", {"application/x-ipynb+json": None}),
            404: f"{NO_RUN}; or the run has no executed notebook, or it is no longer kept",
        },
    )
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

    @API.get(
        "/schedules",
        "the caller's schedules, every one for curators and admins",
        scope=RUN,
        responses={200: Schedules},
    )
    def get(self) -> None:
        caller = self.user()
        schedules = self.store.schedules(None if caller.admin else caller.name)
        self.write_json({"schedules": [schedule_json(s) for s in schedules]})

    @API.post(
        "/schedules",
        "run a notebook on a cron schedule",
        scope=RUN,
        body=NewSchedule,
        responses={
            201: Schedule,
            404: NO_ITEM,
            422: "a wrong field; or the notebook names a kernel no profile offers",
        },
    )
    async def post(self) -> None:
        caller = self.user()
        data = read_body(self)
        # In a thread: a long minimum may need croniter to look through years of days.
        minimum = self.runner.limits.min_schedule_interval
        message = await self.runner.executor.call(interval_problem, data.cron, minimum)
        if message:
            raise problem(422, "cron", message)
        target = await self.target(data)
        await self.choose(caller.name, target)  # a kernel not offered now is refused now
        target.pop("source", None)  # looked up again at each run, and the notebook's kernel read again
        schedule = self.store.add_schedule(
            user=caller.name,
            cron=data.cron,
            parameters=data.parameters or {},
            next_run=next_time(data.cron, now()),
            **target,
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

    @API.get(
        "/schedules/{id}", "one schedule", scope=RUN, parameters=RUN_ID, responses={200: Schedule, 404: NO_SCHEDULE}
    )
    def get(self, schedule_id: str) -> None:
        self.write_json(schedule_json(self.visible_schedule(schedule_id, self.user())))

    @API.delete(
        "/schedules/{id}",
        "remove a schedule (the runs it made stay)",
        scope=RUN,
        parameters=RUN_ID,
        responses={204: "removed", 404: NO_SCHEDULE},
    )
    def delete(self, schedule_id: str) -> None:
        schedule = self.visible_schedule(schedule_id, self.user())
        self.store.delete_schedule(schedule.id)
        self.settings["scheduler"].changed()
        self.set_status(204)
        self.finish()


class UserHandler(BaseHandler):
    """``GET /api/user``: who the runner thinks is calling, and the limits of a run."""

    @API.get("/user", "who is calling, and the limits of a run and of a schedule", scope=RUN, responses={200: UserInfo})
    def get(self) -> None:
        caller = self.user()
        limits = self.runner.limits
        self.write_json(
            {
                "name": caller.name,
                "admin": caller.admin,
                "image": limits.image,
                "kernels": {kernel: limits.kernels.choose(kernel).profile for kernel in limits.kernels.offered()},
                "time_limit": limits.time_limit,
                "mem_limit": size_text(limits.mem_limit),
                "cpu_limit": self.runner.executor.options.cpu_limit,
                "max_active_per_user": limits.max_active_per_user,
                "min_schedule_interval": limits.min_schedule_interval,
                "concurrency": self.runner.concurrency,
                "failing_statuses": list(FAILING),
            }
        )
