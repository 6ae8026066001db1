"""Running one notebook in a fresh container, through the same engine as users' servers.

The image is the run's (:mod:`.kernels` chose it from the notebook's kernel when the run was
queued); the driver gets that image's kernels and runs no notebook naming another. A notebook in
a user's home is read for its kernel by :meth:`Executor.notebook_head`, a short container of the
default image with the home read-only and no network.

Each run gets a container named ``<prefix>-runner.<id>`` (a dot never appears in a user's
container name, so the two cannot collide), labelled with the runner's prefix, running as
uid 1000 (never root) with every capability dropped, no new privileges, the engine's
ulimits, the run's memory limit (swap included) and the network of users' servers (by default
a network namespace of its own: its kernel's ports are out of everyone else's reach). What it
sees:

* a user's own notebook (``path``): that user's home volume at ``/home/jovyan``, and nothing
  of anyone else's;
* a library notebook: no home; ``shared_path`` mounts the workspace's ``shared-notebooks/``
  and ``datasets/`` read-only at ``/home/jovyan/shared-notebooks`` and ``/home/jovyan/datasets``;
  ``attached`` gets the file the library keeps, downloaded beforehand; ``repository`` is cloned
  (``git clone --depth 1``) inside the container, which needs the network.

The run's folder on the host (spec, driver, a downloaded notebook) is mounted read-only at
``/statcommons-run``. The container writes the executed notebook and ``result.json`` inside
itself; the runner copies them out of the stopped container (a tar stream, regular files
only, size-capped), so user code never writes to the host's disk nor plants links there.
The time limit is the runner's: past it the container is killed.
"""

from __future__ import annotations

import asyncio
import functools
import json
import logging
import secrets
import shutil
import tarfile
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

import docker

from ..platform import containers, diskcap
from ..platform.containers import GID, HOME, UID, is_podman
from ..platform.names import home_volume
from ..platform.units import size_text
from .store import now

RUN_DIR = "/statcommons-run"
#: Where the driver writes the executed notebook: a volume of the run's own, capped (Podman), which
#: outlives the container's stop; /tmp is in memory and gone by then.
OUT_DIR = "/statcommons-out"
#: Docker cannot cap a volume: there the output stays in the container's own layer.
LAYER_OUT_DIR = "/tmp/statcommons-run"
CLONE_DIR = "/tmp/statcommons-clone"
DRIVER = Path(__file__).with_name("incontainer.py")
MAX_OUTPUT = 200 * 1024**2  # the executed notebook and result together, as a tar stream
OUTPUT_VOLUME_SIZE = 256 * 1024**2  # room for MAX_OUTPUT and the file system's own blocks
LABEL = "org.statcommons.runner"
#: What the driver reports when the notebook names a kernel the run's image does not have (see incontainer.py).
KERNEL_NOT_IN_IMAGE = "KernelNotInImage"
ENDED_STATES = ("exited", "dead")
STOPPED_GRACE = 3  # seconds Podman may show "stopped" before "exited"
POLL_FAST, POLL_SLOW = 0.1, 0.5  # seconds between looks at a running container
KILL_WAIT = 30  # seconds a killed container may take to stop
PEEK_MEMORY = 512 * 1024**2  # what reading a notebook's kernelspec may take
PEEK_TIMEOUT = 60  # seconds
#: Prints a notebook reduced to its kernelspec (the argument is its path), in a container with the home read-only.
PEEK = """import json, sys
notebook = json.load(open(sys.argv[1], "rb"))
metadata = notebook.get("metadata") if isinstance(notebook, dict) else None
spec = metadata.get("kernelspec") if isinstance(metadata, dict) else None
print(json.dumps({"metadata": {"kernelspec": spec}}))
"""


class SourceError(Exception):
    """A notebook that cannot be found or fetched; ``str()`` says why."""


@dataclass(frozen=True)
class Options:
    """What every run container gets, made by :func:`statcommons.runner.registration.options` from the
    settings (their defaults are the settings schema's)."""

    image: str
    name_prefix: str
    network: str
    ulimits: dict
    shared_notebooks: Path | None
    datasets: Path | None
    cpu_limit: float | None  # cores; None leaves a run all of the machine's
    pids_limit: int | None  # processes and threads of a run (a cgroup limit of its own)
    tmp_size: int  # each in-memory folder: /tmp, /var/tmp, and the home of a run without one
    volume_images: Path | None  # where a run's capped output volume keeps its image (Podman)


@dataclass
class Outcome:
    """How a run ended, as recorded."""

    status: str
    error: str | None = None
    failing_cell: dict | None = None
    notebook: bytes | None = None
    duration: float | None = None
    #: The kernel the notebook names, when the image the run was given does not have it (nothing ran).
    kernel: str | None = None


@dataclass
class Plan:
    """Mounts and the driver's spec for one run."""

    volumes: dict[str, dict]
    spec: dict[str, Any]
    files: dict[str, bytes] = field(default_factory=dict)



def shared_notebook(options: Options, shared: str) -> Path:
    """The file on this machine of a library notebook's ``shared_path``. Raises :class:`SourceError`."""
    relative = PurePosixPath(shared).relative_to("shared-notebooks")
    folder = options.shared_notebooks
    if folder is None or not (folder / relative).is_file():
        raise SourceError(f"the library names {shared}, which is not in this workspace's shared notebooks")
    return folder / relative


def plan(run, options: Options, attached: bytes | None = None, kernels: tuple[str, ...] = ()) -> Plan:
    """The mounts and spec of a run, from its ``path`` or its library ``source``. Raises :class:`SourceError`.

    ``kernels`` are those of the run's image (its profile's): the driver refuses a notebook naming
    another, and gives the first to a notebook naming none.
    """
    spec: dict[str, Any] = {"output_dir": OUT_DIR, "parameters": run.parameters or {}, "clone": None}
    spec["kernels"] = list(kernels)
    # A kernel may start slowly on a busy machine: the run's own time limit is what bounds it.
    spec["start_timeout"] = max(60, min(run.time_limit, 600))
    volumes: dict[str, dict] = {}
    files: dict[str, bytes] = {}
    if run.path is not None:
        notebook = PurePosixPath(HOME, run.path)
        volumes[home_volume(options.name_prefix, run.user)] = {"bind": HOME, "mode": "rw"}
        spec.update(input=str(notebook), cwd=str(notebook.parent))
        return Plan(volumes, spec)
    source = run.source or {}
    if "shared_path" in source:
        shared = source["shared_path"]
        shared_notebook(options, shared)
        folder = options.shared_notebooks
        volumes[str(folder)] = {"bind": f"{HOME}/shared-notebooks", "mode": "ro"}
        if options.datasets is not None and options.datasets.is_dir():
            volumes[str(options.datasets)] = {"bind": f"{HOME}/datasets", "mode": "ro"}
        notebook = PurePosixPath(HOME, shared)
        spec.update(input=str(notebook), cwd=str(notebook.parent))
    elif "attached" in source:
        if attached is None:
            raise SourceError(f"the library has no notebook file for {run.item!r}")
        name = "notebook.ipynb"
        files[name] = attached
        spec.update(input=f"{RUN_DIR}/{name}", cwd=HOME)
    elif "repository" in source:
        notebook = PurePosixPath(CLONE_DIR, source["path"])
        spec["clone"] = {"repository": source["repository"], "branch": source["branch"], "dest": CLONE_DIR}
        spec.update(input=str(notebook), cwd=str(notebook.parent))
    else:
        raise SourceError(f"the library item {run.item!r} does not say where its notebook is")
    return Plan(volumes, spec, files)


# --- reading what the container left -----------------------------------------


def _tags(cell: dict) -> list:
    return (cell.get("metadata") or {}).get("tags") or []


def failing_cell(notebook: dict | None) -> dict | None:
    """The cell that failed (an error output) or was running when the run stopped.

    ``index`` counts the notebook's cells as its author wrote them (0 is the first), leaving
    out the parameters cell papermill injects and the error banners it adds.
    """
    if not isinstance(notebook, dict):
        return None
    index = -1
    for cell in notebook.get("cells") or []:
        if not isinstance(cell, dict):
            continue
        tags = _tags(cell)
        if "injected-parameters" in tags or "papermill-error-cell-tag" in tags:
            continue
        index += 1
        if cell.get("cell_type") != "code":
            continue
        papermill = (cell.get("metadata") or {}).get("papermill") or {}
        errors = [o for o in cell.get("outputs") or [] if isinstance(o, dict) and o.get("output_type") == "error"]
        if errors or papermill.get("status") in ("failed", "running") or papermill.get("exception"):
            source = cell.get("source") or ""
            source = "".join(source) if isinstance(source, list) else str(source)
            found: dict[str, Any] = {
                "index": index,
                "execution_count": cell.get("execution_count"),
                "source": source[:1000],
            }
            if errors:
                found["error"] = f"{errors[0].get('ename', 'Error')}: {errors[0].get('evalue', '')}".strip()
            return found
    return None


def outcome(
    *,
    exit_code: int | None,
    oom_killed: bool,
    stopped_by: str | None,
    result: dict | None,
    notebook: dict | None,
    time_limit: int,
    mem_limit: int,
    log_tail: str = "",
) -> tuple[str, str | None, dict | None]:
    """(status, error, failing cell) of a stopped container. Pure: unit-tested without an engine."""
    cell = failing_cell(notebook)
    if stopped_by == "cancel":
        return "cancelled", "cancelled before it finished", cell
    if stopped_by == "timeout":
        where = f" while cell {cell['index']} was running" if cell else ""
        return "timeout", f"stopped at the time limit of {time_limit} s{where}", cell
    if exit_code == 0 and result and result.get("ok"):
        return "succeeded", None, None
    oom = oom_killed or bool(result and result.get("oom_kills")) or (exit_code == 137 and not result)
    if oom:
        where = f" in cell {cell['index']}" if cell else ""
        return "failed", f"stopped by the memory limit of {size_text(mem_limit)}{where} (OOM-killed)", cell
    if result and result.get("ename"):
        error = f"{result['ename']}: {result.get('evalue', '')}".strip().rstrip(":")
        if cell and cell.get("error"):
            error = cell["error"]
        return "failed", error, cell
    lines = [line for line in log_tail.strip().splitlines() if line.strip()]
    reason = lines[-1][:500] if lines else f"the container exited with status {exit_code}"
    return "failed", reason, cell


def read_output(stream, limit: int = MAX_OUTPUT) -> tuple[dict | None, bytes | None, str | None]:
    """(result, executed notebook bytes, problem) from the tar stream of the container's output folder."""
    with tempfile.SpooledTemporaryFile(max_size=8 * 1024**2) as spool:
        size = 0
        for chunk in stream:
            size += len(chunk)
            if size > limit:
                return None, None, f"the run's output is larger than {size_text(limit)}: not kept"
            spool.write(chunk)
        spool.seek(0)
        result = notebook = None
        try:
            with tarfile.open(fileobj=spool, mode="r|") as tar:
                for member in tar:
                    name = PurePosixPath(member.name).name
                    if not member.isreg() or name not in ("result.json", "output.ipynb"):
                        continue
                    data = tar.extractfile(member).read()
                    if name == "result.json":
                        try:
                            loaded = json.loads(data)
                            result = loaded if isinstance(loaded, dict) else None
                        except ValueError:
                            result = None
                    else:
                        notebook = data
        except tarfile.TarError as e:
            return None, None, f"the run's output could not be read: {e}"
    return result, notebook, None


# --- the engine ----------------------------------------------------------------


class Executor:
    """Starts, watches, stops and removes run containers; blocking engine calls run in its own threads."""

    def __init__(self, client: docker.DockerClient, options: Options, workdir: Path, threads: int = 8):
        self.client = client
        self.options = options
        self.workdir = workdir
        self.pool = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="runner-engine")

    async def call(self, fn, *args, **kwargs):
        return await asyncio.get_running_loop().run_in_executor(self.pool, functools.partial(fn, *args, **kwargs))

    def container_name(self, run_id: int) -> str:
        return f"{self.options.name_prefix}-runner.{run_id}"

    def run_dir(self, run_id: int) -> Path:
        return self.workdir / "runs" / str(run_id)

    def home_exists(self, user: str) -> bool:
        try:
            self.client.volumes.get(home_volume(self.options.name_prefix, user))
            return True
        except docker.errors.NotFound:
            return False

    def image_id(self, image: str | None = None) -> str | None:
        try:
            return self.client.images.get(image or self.options.image).id
        except docker.errors.ImageNotFound:
            return None

    def notebook_head(self, user: str, path: str) -> bytes | None:
        """The kernelspec of a notebook in ``user``'s home, as a notebook with nothing else; None if unreadable.

        Read by a short container of the default image (the home read-only, no network, the
        runs' hardening), since the runner sees no home on this machine. A user without a home
        gets None: the engine would make the volume.
        """
        if not self.home_exists(user):
            return None
        name = f"{self.options.name_prefix}-runner.peek-{secrets.token_hex(6)}"
        container = self.client.containers.create(
            self.options.image,
            ["python", "-c", PEEK, str(PurePosixPath(HOME, path))],
            name=name,
            user=f"{UID}:{GID}",
            working_dir=HOME,
            labels={LABEL: self.options.name_prefix, "org.statcommons.user": user},
            network_mode="none",
            volumes={home_volume(self.options.name_prefix, user): {"bind": HOME, "mode": "ro"}},
            mem_limit=PEEK_MEMORY,
            memswap_limit=PEEK_MEMORY,
            pids_limit=self.options.pids_limit,
            read_only=True,
            **containers.hardening(self.options.ulimits),
        )
        try:
            container.start()
            if container.wait(timeout=PEEK_TIMEOUT).get("StatusCode") != 0:
                return None
            return container.logs(stdout=True, stderr=False)[-64 * 1024 :]
        except (docker.errors.APIError, OSError, ValueError) as e:  # the engine's wait timing out is an OSError
            log = logging.getLogger("statcommons.runner")
            log.warning("the kernel of %s's %s could not be read: %s", user, path, e)
            return None
        finally:
            self._remove(name)

    def _write_inputs(self, run, plan_: Plan) -> Path:
        folder = self.run_dir(run.id)
        inputs = folder / "input"
        shutil.rmtree(inputs, ignore_errors=True)
        inputs.mkdir(parents=True)
        (inputs / "spec.json").write_text(json.dumps(plan_.spec))
        shutil.copyfile(DRIVER, inputs / "driver.py")
        for name, data in plan_.files.items():
            (inputs / name).write_bytes(data)
        for path in [inputs, *inputs.iterdir()]:
            path.chmod(0o755 if path.is_dir() else 0o644)  # readable by uid 1000, writable by no one there
        return inputs

    def output_volume(self, run_id: int) -> str:
        return f"{self.options.name_prefix}-run-{run_id}-out"

    def _podman(self) -> bool:
        if getattr(self, "_is_podman", None) is None:
            self._is_podman = is_podman(self.client.version())
        return self._is_podman

    def _make_output_volume(self, run_id: int) -> str:
        """The run's own output volume, owned by uid 1000; capped in size with Podman."""
        name = self.output_volume(run_id)
        self._remove_output_volume(run_id)
        options = {"o": f"uid={UID},gid={GID}"}
        if self.options.volume_images is not None:
            options = diskcap.driver_options(self.options.volume_images, name, OUTPUT_VOLUME_SIZE, (UID, GID))
        self.client.volumes.create(name, driver_opts=options, labels={LABEL: self.options.name_prefix})
        return name

    def _remove_output_volume(self, run_id: int, attempts: int = 5) -> None:
        name = self.output_volume(run_id)
        for attempt in range(attempts):
            try:
                self.client.volumes.get(name).remove(force=True)
                break
            except docker.errors.NotFound:
                break
            except docker.errors.APIError:  # the removed container may hold it a moment longer
                if attempt == attempts - 1:
                    raise
                time.sleep(0.3 * (attempt + 1))
        if self.options.volume_images is not None:
            diskcap.remove_image(self.options.volume_images, name)

    def _create(self, run, plan_: Plan, inputs: Path):
        options = self.options
        volumes = {**plan_.volumes, str(inputs): {"bind": RUN_DIR, "mode": "ro"}}
        scratch = {"/tmp": f"size={options.tmp_size},mode=1777", "/var/tmp": f"size={options.tmp_size},mode=1777"}
        if HOME not in {v["bind"] for v in volumes.values()}:
            scratch[HOME] = f"size={options.tmp_size},mode=0755,U"  # Podman: owned by the run's user
        isolated: dict[str, Any] = {}
        if self._podman():
            # The image read-only: a run writes only to its home, its output volume and memory.
            volumes[self._make_output_volume(run.id)] = {"bind": OUT_DIR, "mode": "rw"}
            isolated = {"read_only": True, "tmpfs": scratch}
        else:
            # Docker cannot cap the output volume: the output goes to the container's own layer,
            # under /tmp, which therefore is not in memory there.
            isolated = {"tmpfs": {k: v for k, v in scratch.items() if k != "/tmp"}}
        return self.client.containers.create(
            run.image,
            ["python", f"{RUN_DIR}/driver.py"],
            name=self.container_name(run.id),
            user=f"{UID}:{GID}",
            working_dir=HOME,
            environment={"HOME": HOME, "PYTHONUNBUFFERED": "1", "STATCOMMONS_RUN": str(run.id)},
            labels={LABEL: options.name_prefix, "org.statcommons.run": str(run.id), "org.statcommons.user": run.user},
            network_mode=options.network,
            volumes=volumes,
            mem_limit=run.mem_limit,
            memswap_limit=run.mem_limit,
            nano_cpus=int(options.cpu_limit * 1e9) if options.cpu_limit else None,
            pids_limit=options.pids_limit,
            **containers.hardening(options.ulimits),
            **isolated,
        )

    def out_dir(self) -> str:
        return OUT_DIR if self._podman() else LAYER_OUT_DIR

    async def execute(self, run, plan_: Plan, cancel: asyncio.Event, on_start) -> Outcome:
        """Run it to the end, the time limit or a cancel; the container is removed afterwards."""
        plan_.spec["output_dir"] = await self.call(self.out_dir)
        inputs = self._write_inputs(run, plan_)
        await self.remove(self.container_name(run.id))  # a leftover of an earlier attempt
        try:
            container = await self.call(self._create, run, plan_, inputs)
        except docker.errors.ImageNotFound:
            return Outcome("failed", f"the image {run.image} is not on the engine: build it (make images)")
        try:
            clock = time.monotonic()
            await self.call(container.start)
            await on_start(now(), container.attrs.get("Image"))
            return await self._watch(run, container, cancel, clock)
        finally:
            await self.remove(container.name)
            try:
                await self.call(self._remove_output_volume, run.id)
            except (docker.errors.APIError, OSError) as e:
                logging.getLogger("statcommons.runner").warning("run %s: its output volume stays: %s", run.id, e)

    async def _watch(self, run, container, cancel: asyncio.Event, clock: float) -> Outcome:
        stopped_by = await self._wait_exit(container, cancel, clock + run.time_limit)
        if stopped_by:
            try:
                await self.call(container.kill)
            except docker.errors.APIError:
                pass  # it stopped meanwhile
            await self._wait_exit(container, asyncio.Event(), time.monotonic() + KILL_WAIT)
        duration = round(time.monotonic() - clock, 2)
        state = container.attrs.get("State") or {}
        exit_code = state.get("ExitCode")
        result, notebook_bytes, problem = await self.call(self._output, container)
        log_tail = (await self.call(container.logs, tail=200)).decode(errors="replace")
        self.run_dir(run.id).joinpath("log.txt").write_text(log_tail)
        notebook = None
        if notebook_bytes:
            try:
                notebook = json.loads(notebook_bytes)
            except ValueError:
                notebook = None
        status_, error, cell = outcome(
            exit_code=exit_code,
            oom_killed=bool(state.get("OOMKilled")),
            stopped_by=stopped_by,
            result=result,
            notebook=notebook,
            time_limit=run.time_limit,
            mem_limit=run.mem_limit,
            log_tail=log_tail,
        )
        if problem and status_ == "succeeded":
            error = problem
        kernel = result.get("kernel") if result and result.get("ename") == KERNEL_NOT_IN_IMAGE else None
        kernel = kernel if isinstance(kernel, str) else None
        return Outcome(status_, error, cell, notebook_bytes, duration, kernel=kernel)

    async def _wait_exit(self, container, cancel: asyncio.Event, deadline: float) -> str | None:
        """Poll the container until it exits (None), is cancelled (``"cancel"``) or passes ``deadline`` (``"timeout"``).

        Polled rather than awaited with the engine's wait call: Podman's Docker-compatible
        wait keeps its service busy, and on a small machine that slows the run itself about
        twofold. Often at first, when short runs end, then every half second.
        """
        started = time.monotonic()
        stopped_since = None
        while True:
            await self.call(container.reload)
            status = (container.attrs.get("State") or {}).get("Status")
            if status in ENDED_STATES:
                return None
            if status == "stopped":  # Podman, while it cleans up after the exit: "exited" follows
                stopped_since = stopped_since or time.monotonic()
                if time.monotonic() - stopped_since > STOPPED_GRACE:
                    return None
            if cancel.is_set():
                return "cancel"
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return "timeout"
            interval = POLL_FAST if time.monotonic() - started < 10 else POLL_SLOW
            try:
                await asyncio.wait_for(cancel.wait(), min(interval, remaining))
            except TimeoutError:
                pass

    def _output(self, container, attempts: int = 6) -> tuple[dict | None, bytes | None, str | None]:
        if self._podman() and self.options.volume_images is not None:
            return self._output_from_volume(container)
        return self._output_from_layer(container, attempts)

    def _output_from_volume(self, container) -> tuple[dict | None, bytes | None, str | None]:
        """What the driver left in the run's output volume (read from its image: the container has stopped)."""
        run_id = int(container.labels.get("org.statcommons.run", "0"))
        files, problem = diskcap.read_files(
            self.options.volume_images, self.output_volume(run_id), ("result.json", "output.ipynb"), MAX_OUTPUT
        )
        result = None
        if "result.json" in files:
            try:
                loaded = json.loads(files["result.json"])
                result = loaded if isinstance(loaded, dict) else None
            except ValueError:
                result = None
        return result, files.get("output.ipynb"), problem

    def _output_from_layer(self, container, attempts: int) -> tuple[dict | None, bytes | None, str | None]:
        """What the driver left in the stopped container.

        Right after the container stops, Podman may still be unmounting it (its cleanup runs
        beside us), and the folder then looks missing for a moment: asked again, it is there.
        """
        for attempt in range(attempts):
            try:
                stream, _ = container.get_archive(self.out_dir())
                return read_output(stream)
            except docker.errors.NotFound:
                if attempt == attempts - 1:
                    return None, None, None
            except docker.errors.APIError as e:
                if attempt == attempts - 1:
                    return None, None, f"the run's output could not be read: {e}"
            time.sleep(0.2 * (attempt + 1))
        return None, None, None

    async def remove(self, name: str) -> None:
        try:
            await self.call(self._remove, name)
        except docker.errors.APIError:
            pass

    def _remove(self, name: str) -> None:
        try:
            self.client.containers.get(name).remove(force=True)
        except docker.errors.NotFound:
            pass

    def leftovers(self) -> list[str]:
        """Names of run containers of this runner's prefix (after a crash, every one is left over)."""
        listed = self.client.containers.list(
            all=True, filters={"label": f"{LABEL}={self.options.name_prefix}"}, ignore_removed=True
        )
        return [c.name for c in listed]

    def close(self) -> None:
        self.pool.shutdown(wait=False, cancel_futures=True)
