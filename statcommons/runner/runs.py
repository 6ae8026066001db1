"""The queue of runs: workers up to the concurrency limit, fair turns, cancelling, and recovery after a crash.

Every run is recorded ``queued`` first; the queue is the store's queued runs. When a worker is
free it chooses one with :func:`next_run` (round robin between users, so that one person's
backlog never holds up another person's first run) and claims it (``running``) before its
container exists, so whatever moment the runner is killed at, its next start finds the run:
:meth:`Runner.start` removes every container of this runner that is left, marks the runs
that were ``running`` as ``interrupted`` and queues one retry of each (``retry_of``); the runs
that were waiting wait on, and the turns go on from when each user's latest run started.
After each run of a library notebook the runner records how it ended in the library
(``PUT api/items/{id}/last-run``). The files of old runs are removed after a retention period
(:meth:`Runner.prune`); their records stay.
"""

from __future__ import annotations

import asyncio
import logging
import shutil
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

import docker

from ..kit.client import ServiceError
from .executor import Executor, Outcome, SourceError, plan, shared_notebook
from .failures import missing_package
from .kernels import Choice, KernelError, Kernels, read_kernel
from .sources import Library, notebook_source
from .store import Run, Store, iso, now

log = logging.getLogger("statcommons.runner")

CANCEL_WAIT = 60  # seconds DELETE waits for a running run to stop
IDLE_LOOK = 30  # seconds an idle worker waits before it looks at the store again, woken or not


@dataclass(frozen=True)
class Limits:
    """The defaults and ceilings of a run, from the settings."""

    image: str  # the default profile's, for notebooks naming no kernel
    kernels: Kernels  # which profile's image runs a notebook, by the kernel it names
    time_limit: int
    mem_limit: int
    max_active_per_user: int  # queued or running runs of one user
    min_schedule_interval: int  # seconds: the shortest gap allowed between the times of a new schedule


def next_run(waiting: Iterable[tuple[int, str]], last_turns: Mapping[str, datetime]) -> int | None:
    """The run to start when a slot frees: round robin between the users who have runs waiting.

    ``waiting`` is (run id, user) of every queued run; ``last_turns`` says when each user's
    latest run was given a slot. The user whose turn came longest ago goes next (one who has
    had none first, and among those the one whose oldest waiting run is oldest), with their
    oldest waiting run. Every run has a user: a scheduled run is its schedule's creator's,
    library notebook or not, and waits its turn among that user's runs.
    """
    oldest: dict[str, int] = {}
    for run_id, user in waiting:
        oldest[user] = min(run_id, oldest.get(user, run_id))
    if not oldest:
        return None

    def waited(user: str) -> tuple[bool, float, int]:
        turn = last_turns.get(user)
        return (turn is not None, turn.timestamp() if turn else 0.0, oldest[user])

    return oldest[min(oldest, key=waited)]


class Runner:
    def __init__(self, store: Store, executor: Executor, limits: Limits, concurrency: int, library: Library | None):
        self.store = store
        self.executor = executor
        self.limits = limits
        self.concurrency = concurrency
        self.library = library
        self.last_turns: dict[str, datetime] = {}  # when each user's latest run was given a slot
        self.wake = asyncio.Event()  # set when a run is queued
        self.cancels: dict[int, asyncio.Event] = {}
        self.finished: dict[int, asyncio.Event] = {}
        self.cancelled_by: dict[int, str] = {}
        self.workers: list[asyncio.Task] = []
        self.background: set[asyncio.Task] = set()

    # --- start and stop ------------------------------------------------------

    async def start(self) -> None:
        try:
            leftovers = await self.executor.call(self.executor.leftovers)
        except docker.errors.DockerException as e:
            log.error("the container engine does not answer (%s): runs will fail until it does", e)
            leftovers = []
        for name in leftovers:
            log.warning("removing container %s, left by an earlier runner process", name)
            await self.executor.remove(name)
        for interrupted, retry in self.store.recover("interrupted: the runner stopped during the run"):
            log.warning(
                "run %s was interrupted by a stop of the runner%s",
                interrupted.id,
                f"; retrying it as run {retry.id}" if retry else " (a retry already: not retried again)",
            )
            self._record_in_library(interrupted)
        self.last_turns = self.store.last_started()
        self.workers = [asyncio.create_task(self._worker()) for _ in range(self.concurrency)]

    async def stop(self) -> None:
        """Stop taking runs and remove the running containers; their records say ``running`` until the next start."""
        for worker in self.workers:
            worker.cancel()
        names = [self.executor.container_name(run_id) for run_id in self.cancels]
        await asyncio.gather(*(self.executor.remove(name) for name in names), return_exceptions=True)

    def prune(self, keep_days: float) -> int:
        """Remove the files (executed notebook, log) of runs that ended more than ``keep_days`` ago.

        The records stay: a run's status, times and error are kept for good; asking for its
        notebook then says it is no longer kept. Returns how many runs' files were removed.
        """
        runs = self.executor.workdir / "runs"
        ids = [int(p.name) for p in runs.iterdir() if p.name.isdigit()] if runs.is_dir() else []
        old = self.store.finished_before(now() - timedelta(days=keep_days), ids) if ids else []
        for run_id in old:
            shutil.rmtree(self.executor.run_dir(run_id), ignore_errors=True)
        if old:
            log.info("removed the files of %d runs that ended more than %g days ago", len(old), keep_days)
        return len(old)

    # --- submitting and cancelling ---------------------------------------------

    async def item_source(self, item_id: str) -> dict:
        """Where a library notebook is. Raises ServiceError (404 for an unknown item) or ValueError."""
        if self.library is None:
            raise ServiceError(422, "the library is not enabled on this hub")
        return notebook_source(await self.library.item(item_id))

    async def choose(
        self, user: str, *, path: str | None = None, item: str | None = None, source: dict | None = None
    ) -> Choice:
        """The profile whose image runs a notebook, by the kernel it names. Raises KernelError for a kernel not offered.

        The notebook is read where it is: in the user's home (a short container), in the shared
        notebooks, or from the library. One that cannot be read goes to the default profile, whose
        run then says why it failed; so does a notebook in a git repository, known only once cloned
        in the run's container, where the driver finds its kernel and the run starts again in the
        image of that kernel's profile (:meth:`_execute`).
        """
        data = None
        source = source or {}
        try:
            if path is not None:
                data = await self.executor.call(self.executor.notebook_head, user, path)
            elif "shared_path" in source:
                file = shared_notebook(self.executor.options, source["shared_path"])
                data = await self.executor.call(file.read_bytes)
            elif "attached" in source and self.library is not None and item is not None:
                data = await self.library.notebook(item)
        except (SourceError, ServiceError, OSError, docker.errors.DockerException) as e:
            log.info("the kernel of %s could not be read (%s): the default profile's image runs it", path or item, e)
        return self.limits.kernels.choose(read_kernel(data))

    async def queue(
        self, user: str, *, item: str | None = None, path: str | None = None, known: dict | None = None, **fields
    ) -> Run:
        """Queue a run that nobody waits on (a schedule's, the living library's) in the image of its kernel's profile.

        A notebook that cannot be run (a library item gone, a kernel no profile offers) gives a run
        recorded as failed, saying why, rather than an error. ``known`` is the library item, when
        the caller already has it.
        """
        target = {"path": path} if item is None else {"item": item}
        source = None
        try:
            if item is not None:
                source = notebook_source(known) if known is not None else await self.item_source(item)
            choice = await self.choose(user, source=source, **target)
        except (ServiceError, ValueError) as e:  # KernelError too: a kernel no profile offers
            what = f"the library item {item!r}" if item is not None else path
            return self.record_failure(user, f"{what} cannot be run: {e}", **target, **fields)
        return self.submit(user, image=choice.image, source=source, **target, **fields)

    def submit(
        self,
        user: str,
        *,
        image: str | None = None,
        time_limit: int | None = None,
        mem_limit: int | None = None,
        **fields,
    ) -> Run:
        """Record a run ``queued`` (in ``image``, by default the default profile's) and wake the idle workers."""
        run = self.store.add_run(
            user=user,
            image=image or self.limits.image,
            time_limit=time_limit or self.limits.time_limit,
            mem_limit=mem_limit or self.limits.mem_limit,
            **fields,
        )
        self.wake.set()
        return run

    def record_failure(self, user: str, error: str, **fields) -> Run:
        """A run that could not even be queued (a scheduled library item that is gone), recorded as failed."""
        limits = {"image": self.limits.image, "time_limit": self.limits.time_limit, "mem_limit": self.limits.mem_limit}
        run = self.store.add_run(user=user, **limits, **fields)
        failed = self.store.update_run(run.id, status="failed", finished=now(), duration=0.0, error=error)
        self._record_in_library(failed)
        return failed

    async def cancel(self, run: Run, who: str) -> Run:
        """Cancel a queued or running run; returns its record once it has stopped."""
        stopped = self.store.update_run(
            run.id,
            only_if=("queued",),
            status="cancelled",
            finished=now(),
            error=f"cancelled by {who} before it started",
        )
        if stopped is not None:
            self._record_in_library(stopped)
            return stopped
        if run.id in self.cancels:
            self.cancelled_by[run.id] = who
            self.cancels[run.id].set()
            try:
                await asyncio.wait_for(self.finished[run.id].wait(), CANCEL_WAIT)
            except TimeoutError:
                pass
        return self.store.run(run.id)

    # --- running -----------------------------------------------------------------

    def _claim_next(self) -> Run | None:
        """Choose the next run (:func:`next_run`) and claim it; None when nothing waits.

        Nothing is awaited between choosing and claiming, so two workers never choose the same
        run; the claim (``queued`` to ``running`` in one update) holds even if they did.
        """
        while (run_id := next_run(self.store.waiting(), self.last_turns)) is not None:
            container = self.executor.container_name(run_id)
            run = self.store.update_run(run_id, only_if=("queued",), status="running", container=container)
            if run is not None:
                self.last_turns[run.user] = now()
                return run
        return None

    async def _worker(self) -> None:
        while True:
            try:
                run = self._claim_next()
            except Exception:
                log.exception("the queue could not be read from the runner's database")
                run = None
            if run is None:
                self.wake.clear()
                try:
                    await asyncio.wait_for(self.wake.wait(), IDLE_LOOK)
                except TimeoutError:
                    pass
                continue
            run_id = run.id
            try:
                await self._run(run)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("run %s failed in the runner itself", run_id)
                failed = self.store.update_run(
                    run_id,
                    only_if=("running",),
                    status="failed",
                    finished=now(),
                    error="the runner could not complete this run (see the runner's log)",
                )
                if failed:
                    self._record_in_library(failed)
            finally:
                self.cancels.pop(run_id, None)
                done = self.finished.pop(run_id, None)
                if done:
                    done.set()

    async def _run(self, run: Run) -> None:
        run_id = run.id
        cancel = self.cancels[run_id] = asyncio.Event()
        self.finished[run_id] = asyncio.Event()
        log.info("run %s of %s for %s starting", run_id, run.item or run.path, run.user)
        result = await self._execute(run, cancel)
        if result.status == "cancelled":
            result.error = f"cancelled by {self.cancelled_by.pop(run_id, 'someone')}"
        notebook = None
        if result.notebook:
            folder = self.executor.run_dir(run_id)
            folder.mkdir(parents=True, exist_ok=True)
            (folder / "output.ipynb").write_bytes(result.notebook)
            notebook = "output.ipynb"
        done = self.store.update_run(
            run_id,
            only_if=("running",),
            status=result.status,
            finished=now(),
            duration=result.duration,
            error=result.error,
            failing_cell=result.failing_cell,
            notebook=notebook,
        )
        log.info("run %s ended %s%s", run_id, result.status, f": {result.error}" if result.error else "")
        if done:
            self._record_in_library(done)

    async def _execute(self, run: Run, cancel: asyncio.Event) -> Outcome:
        attached = None
        if run.path is not None and not await self.executor.call(self.executor.home_exists, run.user):
            return Outcome("failed", f"{run.user} has no home volume: start a server once to make it")
        if run.item is not None and "attached" in (run.source or {}):
            if self.library is None:
                return Outcome("failed", "the library is not enabled on this hub")
            try:
                attached = await self.library.notebook(run.item)
            except ServiceError as e:
                return Outcome("failed", f"the library did not give the notebook of {run.item!r}: {e}")

        async def started(moment, image_id):
            self.store.update_run(run.id, started=moment, image_id=image_id)

        for attempt in (1, 2):
            chosen = self.limits.kernels.for_image(run.image)
            try:
                plan_ = plan(run, self.executor.options, attached, chosen.kernels if chosen else ())
            except SourceError as e:
                return Outcome("failed", str(e))
            if cancel.is_set():
                return Outcome("cancelled")
            result = await self.executor.execute(run, plan_, cancel, started)
            if result.kernel is None or attempt == 2:
                return result
            # The notebook names a kernel its image lacks (a cloned one, or changed since it was queued).
            try:
                choice = self.limits.kernels.choose(result.kernel)
            except KernelError as e:
                return Outcome("failed", str(e), duration=result.duration)
            if choice.image == run.image:
                return result
            log.info("run %s names the kernel %r: running it again in %s", run.id, result.kernel, choice.image)
            run = self.store.update_run(run.id, only_if=("running",), image=choice.image) or run
        return result

    # --- the library -----------------------------------------------------------------

    def _record_in_library(self, run: Run) -> None:
        if run.item is None or self.library is None:
            return
        task = asyncio.get_running_loop().create_task(self._record(run))
        self.background.add(task)
        task.add_done_callback(self.background.discard)

    async def _record(self, run: Run, attempts: int = 3) -> None:
        last_run = {"status": run.status, "finished": iso(run.finished or now()), "run": str(run.id)}
        if run.error:
            last_run["error"] = run.error[:2000]
        if run.failing_cell and isinstance(run.failing_cell.get("index"), int):
            last_run["cell"] = run.failing_cell["index"]
        if package := missing_package(run.error):
            last_run["missing_package"] = package
        for attempt in range(1, attempts + 1):
            try:
                await self.library.record(run.item, last_run)
                return
            except ServiceError as e:
                if attempt == attempts or 400 <= e.status < 500:
                    log.warning("could not record run %s of %r in the library: %s", run.id, run.item, e)
                    return
                await asyncio.sleep(2 * attempt)
