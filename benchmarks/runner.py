"""Notebook runner overhead and throughput, next to bare papermill in an already running container.

Run from the repository: ``.venv/bin/python benchmarks/runner.py`` (``make bench-runner``).

Both sides run the same trivial notebook (a parameters cell and a print) from the same
home volume, with the same image (``statcommons/lab:latest``), user (uid 1000) and limits,
in the same run of the benchmark, on the same engine:

* **runner**: a real hub (:class:`tests.hubtools.RunningHub`) with the runner at its
  defaults; the clock runs from ``POST /services/runner/api/runs`` until ``GET runs/{id}``
  says the run ended (polled every 50 ms): queueing, a fresh container, papermill with a
  new kernel, copying the executed notebook out, removing the container, the record.
* **bare**: ``docker exec`` of ``python -m papermill`` in a container of the image that was
  started beforehand and keeps running (what a user does in a terminal of their server);
  the clock runs around the exec call.

Per-run overhead: ``--runs`` runs one at a time, runner and bare alternating, after one
untimed run of each; the target is a runner p50 of at most 1.5 x the bare p50.
Throughput: ``--burst`` runs submitted at once at the runner's default concurrency, next to
the same number of bare execs, as many at a time. A MISS is a result, not an error: the
exit code is 1 only when a run or the set-up failed.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import docker
import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.spawn import cleanup, open_engine, percentile, say  # noqa: E402
from statcommons.platform import engine as engine_mod  # noqa: E402
from statcommons.platform.containers import GID, HOME, UID  # noqa: E402
from statcommons.platform.names import home_volume  # noqa: E402
from statcommons.platform.units import parse_size  # noqa: E402
from statcommons.settings import validate  # noqa: E402
from tests.hubtools import RunningHub  # noqa: E402
from tests.runner.conftest import Runner, notebook  # noqa: E402

IMAGE = "statcommons/lab:latest"
TARGET_RATIO = 1.5
POLL = 0.05
TRIVIAL = notebook("print(f'{greeting}, world')", parameters='greeting = "hello"')
ENDED = ("succeeded", "failed", "timeout", "interrupted", "cancelled")


def runner_run(runner: Runner, user: str) -> tuple[float, dict]:
    """One run through the runner API, timed from the request until the record says it ended."""
    started = time.perf_counter()
    run = runner.start(user, path="trivial.ipynb", parameters={"greeting": "bonjour"})
    while True:
        record = runner.call("GET", f"/runs/{run['id']}", user).json()
        if record["status"] in ENDED:
            return time.perf_counter() - started, record
        time.sleep(POLL)


def bare_run(container, tag: str) -> float:
    """papermill in the already running container, through the engine's exec."""
    started = time.perf_counter()
    command = ["python", "-m", "papermill", "--no-progress-bar", "-p", "greeting", "bonjour"]
    code, output = container.exec_run(
        [*command, "trivial.ipynb", f"/tmp/out-{tag}.ipynb"], user=f"{UID}:{GID}", workdir=HOME
    )
    seconds = time.perf_counter() - started
    if code != 0:
        raise RuntimeError(f"bare papermill exited with {code}: {output.decode(errors='replace')[-300:]}")
    return seconds


def warm_container(client: docker.DockerClient, volume: str, settings: dict):
    """A container of the image with the same home and limits as a run, kept running."""
    ulimits = settings["engine"]["ulimits"]
    mem = parse_size(settings["runner"]["mem_limit"])
    return client.containers.run(
        IMAGE,
        ["sleep", "infinity"],
        name=f"statcommons-bench-runner-{int(time.time())}",
        detach=True,
        user=f"{UID}:{GID}",
        working_dir=HOME,
        network_mode="host",
        volumes={volume: {"bind": HOME, "mode": "rw"}},
        mem_limit=mem,
        memswap_limit=mem,
        ulimits=[docker.types.Ulimit(name=k, soft=v, hard=v) for k, v in sorted(ulimits.items())],
        cap_drop=["ALL"],
        security_opt=["no-new-privileges"],
    )


def end_exec_monitors(container_id: str) -> None:
    """Podman 4.3 leaves the monitor (conmon) of each exec session running after its container is removed."""
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            command = (proc / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if command[0].endswith(b"conmon") and container_id.encode() in command:
            try:
                os.kill(int(proc.name), signal.SIGTERM)
            except ProcessLookupError:
                pass


def sequential(runner: Runner, container, runs: int) -> tuple[list[float], list[float], list[float]]:
    say("warm-up: one untimed run of each")
    runner_run(runner, "bench")
    bare_run(container, "warm")
    through, inside, bare = [], [], []
    for i in range(1, runs + 1):
        seconds, record = runner_run(runner, "bench")
        if record["status"] != "succeeded":
            raise RuntimeError(f"run {record['id']} ended {record['status']}: {record['error']}")
        through.append(seconds)
        inside.append(record["duration"])
        bare.append(bare_run(container, str(i)))
        say(f"  {i}/{runs}  runner {seconds:5.2f}s (container {record['duration']:5.2f}s)  bare {bare[-1]:5.2f}s")
    return through, inside, bare


def burst(runner: Runner, container, count: int, concurrency: int) -> tuple[float, float, int]:
    """(runner seconds, bare seconds, failed runs) for ``count`` runs each, at ``concurrency``."""
    started = time.perf_counter()
    ids = [runner.start("bench", path="trivial.ipynb")["id"] for _ in range(count)]
    pending, failed = set(ids), 0
    while pending:
        for run_id in list(pending):
            record = runner.call("GET", f"/runs/{run_id}", "bench").json()
            if record["status"] in ENDED:
                pending.discard(run_id)
                failed += record["status"] != "succeeded"
        time.sleep(POLL)
    through = time.perf_counter() - started
    say(f"  runner: {count} runs in {through:.1f}s")
    counter = iter(range(count))
    lock = threading.Lock()

    def next_tag():
        with lock:
            return next(counter, None)

    def worker():
        while (tag := next_tag()) is not None:
            bare_run(container, f"b{tag}")

    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=concurrency) as pool:
        for future in [pool.submit(worker) for _ in range(concurrency)]:
            future.result()
    bare = time.perf_counter() - started
    say(f"  bare:   {count} execs in {bare:.1f}s")
    return through, bare, failed


def run(runs: int, count: int, workdir: Path) -> bool:
    settings = validate({})
    eng = open_engine(settings, workdir / "engine")
    client = eng.client(timeout=300)
    hub = container = None
    try:
        say(f"engine: {eng.kind} at {eng.docker_host}")
        hub = RunningHub(workdir / "hub", eng.docker_host, extra_settings={"culler": {"enabled": False}}).start()
        runner = Runner(hub, podman=eng.kind == "podman")
        deadline = time.monotonic() + 60
        while requests.get(f"{runner.url}/openapi.json", timeout=5).status_code != 200:
            if time.monotonic() > deadline:
                raise RuntimeError("the runner service did not answer")
            time.sleep(0.5)
        runner.give_home("bench", {"trivial.ipynb": TRIVIAL})
        container = warm_container(client, home_volume(hub.prefix, "bench"), settings)
        say(f"hub: {hub.url}; runner concurrency {settings['runner']['concurrency']} (default)")
        through, inside, bare = sequential(runner, container, runs)
        say(f"burst of {count} runs")
        burst_runner, burst_bare, failed = burst(runner, container, count, settings["runner"]["concurrency"])
    finally:
        if container is not None:
            container.remove(force=True)
            if eng.kind == "podman":
                end_exec_monitors(container.id)
        if hub is not None:
            hub.stop()
            cleanup(hub)
        engine_mod.stop_podman_service(workdir / "engine")  # only if this run started it
    b50, r50, i50 = percentile(bare, 50), percentile(through, 50), percentile(inside, 50)
    ratio = r50 / b50
    print()
    print(f"Notebook runs of a trivial notebook, engine {eng.kind}, image {IMAGE}")
    print(f"{'':<34}{'p50':>8}{'p95':>8}")
    print(f"{'bare papermill (docker exec)':<34}{b50:>8.2f}{percentile(bare, 95):>8.2f}")
    print(f"{'runner, request to recorded end':<34}{r50:>8.2f}{percentile(through, 95):>8.2f}")
    print(f"{'runner, container start to end':<34}{i50:>8.2f}{percentile(inside, 95):>8.2f}")
    verdict = "PASS" if ratio <= TARGET_RATIO else "MISS"
    print(f"per-run overhead: runner p50 / bare p50 = {ratio:.2f} (target <= {TARGET_RATIO}) {verdict}")
    per_minute = 60 * count / burst_runner
    print(
        f"throughput, {count} runs at concurrency {settings['runner']['concurrency']}: runner {burst_runner:.1f}s "
        f"({per_minute:.1f} runs/min), bare {burst_bare:.1f}s ({60 * count / burst_bare:.1f} runs/min), "
        f"ratio {burst_runner / burst_bare:.2f}; {failed} failed"
    )
    summary = {"bare_p50": b50, "runner_p50": r50, "ratio": ratio, "burst_runner": burst_runner}
    (workdir / "summary.json").write_text(json.dumps({**summary, "burst_bare": burst_bare, "failed": failed}))
    return failed == 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10, help="runs of each kind, one at a time (default 10)")
    parser.add_argument("--burst", type=int, default=20, help="runs submitted at once (default 20)")
    args = parser.parse_args(argv)
    workdir = Path(tempfile.mkdtemp(prefix="statcommons-bench-runner-"))
    (workdir / "engine").mkdir()
    (workdir / "hub").mkdir()
    started = time.monotonic()
    try:
        ok = run(args.runs, args.burst, workdir)
    except Exception as e:
        print(f"benchmark failed: {type(e).__name__}: {e} (logs in {workdir})", file=sys.stderr)
        return 1
    print(f"logs: {workdir}; took {time.monotonic() - started:.0f}s")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
