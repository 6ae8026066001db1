"""Spawn-to-ready latency through the hub, next to a bare container start.

Run from the repository: ``.venv/bin/python benchmarks/spawn.py`` (``make bench``).

Both are measured in the same run, on the same engine, with the same image
(``statcommons/lab:latest``) and the same limits as a hub server (memory, CPU,
ulimits, host network, a fresh home volume):

* **bare**: docker-py creates and starts the image with ``jupyter server`` on a
  free loopback port; the clock runs from the create call until
  ``GET /api/status`` with the server's token answers 200.
* **hub**: a real hub (:class:`tests.hubtools.RunningHub`); the clock runs from
  ``POST /hub/api/users/<name>/server`` until the spawn's progress stream says
  ``ready`` (what the spawn page waits for) and then
  ``GET /user/<name>/api/status`` through the public proxy answers 200: when
  a user's browser can use the server.

Sequential: ``--runs`` spawns one at a time, bare and hub alternating, each hub
server stopped (and the stop awaited) before the next. Concurrent: ``--runs``
spawns released at once, in ``--rounds`` rounds ordered bare-hub, hub-bare, ...
so that load from elsewhere on the machine hits both sides alike. One untimed
spawn of each kind warms the engine and the hub first.

The table gives p50 and p95 and the hub/bare ratios; the target is a p50 ratio
of at most 1.5. A MISS is a result, not an error: the exit code is 1 only when
a spawn or the set-up failed. Hub, server and bare container logs stay in the
work folder printed at the end.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import docker
import requests
from docker.types import Ulimit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from statcommons.platform import engine as engine_mod  # noqa: E402
from statcommons.platform import images  # noqa: E402
from statcommons.platform.containers import HOME  # noqa: E402
from statcommons.platform.units import parse_size  # noqa: E402
from statcommons.settings import validate  # noqa: E402
from tests.hubtools import RunningHub, free_port  # noqa: E402

IMAGE = "statcommons/lab:latest"
TARGET_P50_RATIO = 1.5
POLL_INTERVAL = 0.05  # seconds between readiness checks
READY_TIMEOUT = 150  # seconds a single spawn may take before it counts as failed
_print_lock = threading.Lock()


@dataclass
class Sample:
    """One spawn: how long until usable, and whether it worked."""

    kind: str  # "bare" or "hub"
    ok: bool
    seconds: float
    ready: float | None = None  # hub only: when the progress stream said ready
    error: str = ""


def say(line: str) -> None:
    with _print_lock:
        print(line, flush=True)


# --- the engine and the limits of a hub server -------------------------------


def server_limits(settings: dict) -> dict:
    """docker-py run() options matching what the hub gives a default-profile server."""
    profile = settings["profiles"][settings["default_profile"]]
    ulimits = settings["engine"]["ulimits"]
    limits: dict = {
        "ulimits": [Ulimit(name=k, soft=v, hard=v) for k, v in sorted(ulimits.items())],
        "cap_drop": ["ALL"],
        "security_opt": ["no-new-privileges"],
    }
    if profile.get("mem_limit"):
        limits["mem_limit"] = parse_size(profile["mem_limit"])
    if profile.get("cpu_limit"):
        limits["cpu_period"] = 100_000
        limits["cpu_quota"] = int(profile["cpu_limit"] * 100_000)
    return limits


def open_engine(settings: dict, state: Path) -> engine_mod.Engine:
    """The project's engine, found as the tests find it, with the images built."""
    eng = engine_mod.find_engine(settings, state)
    builder = images.Builder(eng, base_image=os.environ.get("BASE_IMAGE") or None)
    builder.ensure(images.needed(images.profile_images(settings)))
    os.environ.update(eng.env)
    return eng


# --- waiting for a server ----------------------------------------------------


def wait_status(url: str, token: str, started: float) -> None:
    """Poll ``url`` (a Jupyter ``api/status``) until it answers 200."""
    headers = {"Authorization": f"token {token}"}
    while time.perf_counter() - started < READY_TIMEOUT:
        try:
            if requests.get(url, headers=headers, timeout=5).status_code == 200:
                return
        except requests.RequestException:
            pass
        time.sleep(POLL_INTERVAL)
    raise TimeoutError(f"{url} did not answer 200 within {READY_TIMEOUT}s")


def wait_progress(hub: RunningHub, name: str) -> None:
    """Follow the spawn's event stream (what the spawn page shows) until it says ready."""
    url = f"{hub.url}/hub/api/users/{name}/server/progress"
    headers = {"Authorization": f"token {hub.ops_token}"}
    with requests.get(url, headers=headers, stream=True, timeout=(5, READY_TIMEOUT)) as r:
        r.raise_for_status()
        for line in r.iter_lines(decode_unicode=True):
            if not line or not line.startswith("data:"):
                continue
            event = json.loads(line[len("data:") :])
            if event.get("ready"):
                return
            if event.get("failed"):
                raise RuntimeError(event.get("message", "spawn failed"))
    raise RuntimeError(f"the progress stream of {name} ended without ready")


# --- one spawn ---------------------------------------------------------------


def bare_spawn(client: docker.DockerClient, limits: dict, tag: str, logs: Path) -> Sample:
    """Start the lab image directly with docker-py and time it until it answers."""
    port, token = free_port(), secrets.token_hex(16)
    name = f"statcommons-bench-{secrets.token_hex(3)}-{tag}"
    command = [
        "jupyter",
        "server",
        "--ServerApp.ip=127.0.0.1",
        f"--ServerApp.port={port}",
        f"--IdentityProvider.token={token}",
    ]
    volumes = {f"{name}-home": {"bind": HOME, "mode": "rw"}}
    container = None
    started = time.perf_counter()
    try:
        container = client.containers.run(
            IMAGE, command=command, name=name, detach=True, network_mode="host", volumes=volumes, **limits
        )
        wait_status(f"http://127.0.0.1:{port}/api/status", token, started)
        return Sample("bare", True, time.perf_counter() - started)
    except Exception as e:
        return Sample("bare", False, time.perf_counter() - started, error=f"{type(e).__name__}: {e}")
    finally:
        remove_bare(client, container, f"{name}-home", logs / f"bare-{tag}.log")


def remove_bare(client: docker.DockerClient, container, volume: str, log: Path) -> None:
    if container is not None:
        log.write_bytes(container.logs(timestamps=True))
        container.remove(force=True)
    try:
        client.volumes.get(volume).remove(force=True)
    except docker.errors.NotFound:
        pass


def hub_spawn(hub: RunningHub, name: str) -> Sample:
    """Start a user's server through the hub API and time it until the user can reach it."""
    started = time.perf_counter()
    try:
        r = hub.api("POST", f"/users/{name}/server", json={"profile": "python"})
        if r.status_code == 202:  # still starting after the hub's slow_spawn_timeout
            wait_progress(hub, name)
        elif r.status_code != 201:
            raise RuntimeError(f"POST server answered {r.status_code}: {r.text[:200]}")
        ready = time.perf_counter() - started
        wait_status(f"{hub.url}/user/{name}/api/status", hub.ops_token, started)
        return Sample("hub", True, time.perf_counter() - started, ready=ready)
    except Exception as e:
        return Sample("hub", False, time.perf_counter() - started, error=f"{type(e).__name__}: {e}")


def save_server_log(hub: RunningHub, name: str) -> None:
    """Keep the server's container log next to the hub log (the container is removed on stop)."""
    try:
        container = hub.engine().containers.get(f"{hub.prefix}-{name}")
        (hub.workdir / f"server-{name}.log").write_bytes(container.logs(timestamps=True))
    except docker.errors.DockerException as e:
        say(f"  (no log of {name}'s server: {e})")


def hub_stop(hub: RunningHub, name: str) -> None:
    save_server_log(hub, name)
    r = hub.api("DELETE", f"/users/{name}/server")
    if r.status_code not in (202, 204, 400):  # 400: it was not running
        raise RuntimeError(f"stopping {name}'s server answered {r.status_code}: {r.text[:200]}")
    hub.wait_server_stopped(name, timeout=90)


def report(mode: str, label: str, sample: Sample) -> Sample:
    status = "ok" if sample.ok else f"FAILED {sample.error}"
    extra = f"  (progress ready {sample.ready:6.2f}s)" if sample.ready is not None else ""
    say(f"  {mode:<10} {label:<6} {sample.kind:<4} {sample.seconds:6.2f}s{extra}  {status}")
    return sample


# --- the series --------------------------------------------------------------


def warm_up(client, limits, hub: RunningHub, logs: Path) -> None:
    """One untimed spawn of each kind: first engine connections, page cache, hub code paths."""
    report("warm-up", "1/1", bare_spawn(client, limits, "warm", logs))
    hub.api("POST", "/users", json={"usernames": ["benchwarm"]}).raise_for_status()
    report("warm-up", "1/1", hub_spawn(hub, "benchwarm"))
    hub_stop(hub, "benchwarm")


def sequential(client, limits, hub: RunningHub, users: list[str], logs: Path):
    """Bare and hub spawns alternating, one at a time, so drift in load hits both alike."""
    bare, via_hub = [], []
    for i, name in enumerate(users, 1):
        label = f"{i}/{len(users)}"
        bare.append(report("sequential", label, bare_spawn(client, limits, f"s{i}", logs)))
        via_hub.append(report("sequential", label, hub_spawn(hub, name)))
        hub_stop(hub, name)
    return bare, via_hub


def all_at_once(task, count: int) -> list:
    """Run ``task(i)`` for i in 1..count in threads released together."""
    barrier = threading.Barrier(count)

    def run(i):
        barrier.wait()
        return task(i)

    with ThreadPoolExecutor(max_workers=count) as pool:
        return list(pool.map(run, range(1, count + 1)))


def concurrent_bare(client, limits, count: int, rnd: int, logs: Path) -> list[Sample]:
    def one(i):
        return report("concurrent", f"r{rnd} {i}", bare_spawn(client, limits, f"r{rnd}c{i}", logs))

    return all_at_once(one, count)


def concurrent_hub(hub: RunningHub, users: list[str], rnd: int) -> list[Sample]:
    samples = all_at_once(lambda i: report("concurrent", f"r{rnd} {i}", hub_spawn(hub, users[i - 1])), len(users))
    all_at_once(lambda i: hub_stop(hub, users[i - 1]), len(users))
    return samples


def concurrent(client, limits, hub: RunningHub, runs: int, rounds: int, logs: Path):
    """``rounds`` rounds of ``runs`` spawns at once, bare first in odd rounds, hub first in even ones."""
    bare, via_hub = [], []
    for rnd in range(1, rounds + 1):
        users = [f"benchr{rnd}c{i}" for i in range(1, runs + 1)]
        hub.api("POST", "/users", json={"usernames": users}).raise_for_status()
        if rnd % 2:
            bare += concurrent_bare(client, limits, runs, rnd, logs)
            via_hub += concurrent_hub(hub, users, rnd)
        else:
            via_hub += concurrent_hub(hub, users, rnd)
            bare += concurrent_bare(client, limits, runs, rnd, logs)
    return bare, via_hub


# --- the table ---------------------------------------------------------------


def percentile(values: list[float], q: float) -> float:
    """Linear-interpolated percentile (q in 0..100) of a non-empty list."""
    ordered = sorted(values)
    pos = (len(ordered) - 1) * q / 100
    low = int(pos)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (pos - low)


COLUMNS = ("n", "bare p50", "bare p95", "hub p50", "hub p95", "p50 ratio", "p95 ratio", "all ok", "target")


def row(mode: str, bare: list[Sample], via_hub: list[Sample]) -> str:
    """One line of the table."""
    all_ok = all(s.ok for s in bare + via_hub)
    b = [s.seconds for s in bare if s.ok]
    h = [s.seconds for s in via_hub if s.ok]
    if not b or not h:
        return f"{mode:<11}{'no successful spawns to compare':>60}{'NO':>10}{'MISS':>10}"
    b50, b95, h50, h95 = percentile(b, 50), percentile(b, 95), percentile(h, 50), percentile(h, 95)
    r50, r95 = h50 / b50, h95 / b95
    met = all_ok and r50 <= TARGET_P50_RATIO
    cells = [f"{len(b)}+{len(h)}", *(f"{v:.2f}" for v in (b50, b95, h50, h95, r50, r95))]
    cells += ["yes" if all_ok else "NO", "PASS" if met else "MISS"]
    return f"{mode:<11}" + "".join(f"{c:>10}" for c in cells)


def print_table(eng_kind: str, results: dict) -> None:
    print()
    print(f"Spawn-to-ready latency in seconds, engine {eng_kind}, image {IMAGE}")
    print(f"target: hub p50 at most {TARGET_P50_RATIO} x bare p50 (n = bare + hub spawns)")
    print(f"{'':<11}" + "".join(f"{c:>10}" for c in COLUMNS))
    for mode, (bare, via_hub) in results.items():
        print(row(mode, bare, via_hub))
    ready = {m: [s.ready for s in h if s.ok and s.ready is not None] for m, (_, h) in results.items()}
    notes = ", ".join(f"{m} {percentile(v, 50):.2f}s" for m, v in ready.items() if v)
    if notes:
        print(f"hub p50 until the progress stream says ready (before the first request through the proxy): {notes}")


# --- set-up and main ---------------------------------------------------------


def start_hub(workdir: Path, docker_host: str, attempts: int = 3) -> RunningHub:
    """A RunningHub; retried because its proxy API port (port + 1) is not checked as free."""
    for attempt in range(1, attempts + 1):
        folder = workdir / f"hub{attempt}"
        folder.mkdir(exist_ok=True)
        hub = RunningHub(folder, docker_host)
        try:
            return hub.start()
        except RuntimeError as e:
            hub.stop()
            if attempt == attempts:
                raise
            say(f"hub did not start ({str(e).splitlines()[0]}); trying other ports")
    raise AssertionError("unreachable")


def cleanup(hub: RunningHub, attempts: int = 3) -> None:
    """Remove the hub's containers and volumes; retried, as listing races with other users of the engine."""
    for attempt in range(1, attempts + 1):
        try:
            hub.cleanup_engine()
            return
        except docker.errors.APIError as e:
            if attempt == attempts:
                raise
            say(f"cleanup: {e}; again")
            time.sleep(1)


def measure(client, limits, hub: RunningHub, runs: int, rounds: int) -> dict:
    logs = hub.workdir
    warm_up(client, limits, hub, logs)
    seq_users = [f"benchs{i}" for i in range(1, runs + 1)]  # no '-': the container is <prefix>-<user>
    hub.api("POST", "/users", json={"usernames": seq_users}).raise_for_status()
    return {
        "sequential": sequential(client, limits, hub, seq_users, logs),
        "concurrent": concurrent(client, limits, hub, runs, rounds, logs),
    }


def run(runs: int, rounds: int, workdir: Path) -> bool:
    """The whole benchmark; True when every spawn worked."""
    settings = validate({})
    eng = open_engine(settings, workdir / "engine")
    hub = None
    try:
        client = eng.client(timeout=120)
        say(f"engine: {eng.kind} at {eng.docker_host}")
        hub = start_hub(workdir, eng.docker_host)
        say(f"hub: {hub.url} (log: {hub.log_file})")
        results = measure(client, server_limits(settings), hub, runs, rounds)
    finally:
        if hub is not None:
            hub.stop()
            cleanup(hub)
        engine_mod.stop_podman_service(workdir / "engine")  # only if this run started it
    print_table(eng.kind, results)
    return all(s.ok for pair in results.values() for series in pair for s in series)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10, help="spawns per series, and at once (default 10)")
    parser.add_argument("--rounds", type=int, default=2, help="rounds of the concurrent series (default 2)")
    args = parser.parse_args(argv)
    workdir = Path(tempfile.mkdtemp(prefix="statcommons-bench-"))
    (workdir / "engine").mkdir()
    started = time.monotonic()
    try:
        ok = run(args.runs, args.rounds, workdir)
    except Exception as e:
        print(f"benchmark failed: {type(e).__name__}: {e} (logs in {workdir})", file=sys.stderr)
        return 1
    print(f"logs: {workdir}; took {time.monotonic() - started:.0f}s")
    if not ok:
        print("some spawns failed: see the lines marked FAILED above", file=sys.stderr)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
