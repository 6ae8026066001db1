"""Finding the container engine: a Docker daemon, or a Podman API service we start.

With a Docker daemon (or ``engine.docker_host``) we use it as it is.  With
none, we start ``podman system service`` on our own socket under the state
folder, with our own ``containers.conf`` (runtime, cgroup manager, ulimits)
passed through ``CONTAINERS_CONF``, so nothing global is changed.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import docker

from .containers import is_podman

DOCKER_SOCKET = "/var/run/docker.sock"


class EngineError(RuntimeError):
    """No usable container engine; ``str()`` is the one line to show."""


@dataclass(frozen=True)
class Engine:
    kind: str  # "docker" or "podman"
    docker_host: str  # what DOCKER_HOST must be for docker-py and dockerspawner
    env: dict  # extra environment for the hub and for engine commands
    started: bool = False  # True when this call started our Podman service

    @property
    def cli(self) -> list[str]:
        return ["podman"] if self.kind == "podman" else ["docker"]

    def client(self, timeout: int = 60) -> docker.DockerClient:
        return docker.DockerClient(base_url=self.docker_host, timeout=timeout)


def containers_conf(ulimits: dict) -> str:
    """Podman's settings for this kind of host: runc, cgroupfs, ulimits below the host's."""
    limits = ", ".join(f'"{k}={v}:{v}"' for k, v in sorted(ulimits.items()))
    return (
        "# Written by StatCommons; used through CONTAINERS_CONF only.\n"
        "[containers]\n"
        f"default_ulimits = [{limits}]\n"
        # A container given no network gets none: never Podman's bridge, whose private addresses
        # must not be used on this kind of machine. StatCommons always names the network it wants.
        'netns = "none"\n'
        "[engine]\n"
        'runtime = "runc"\n'
        'cgroup_manager = "cgroupfs"\n'
        'events_logger = "file"\n'
    )


def ping(docker_host: str, timeout: float = 3) -> bool:
    try:
        client = docker.APIClient(base_url=docker_host, timeout=timeout)
        try:
            return bool(client.ping())
        finally:
            client.close()
    except Exception:
        return False


def engine_kind(docker_host: str) -> str:
    client = docker.APIClient(base_url=docker_host, timeout=5)
    try:
        return "podman" if is_podman(client.version()) else "docker"
    finally:
        client.close()


def podman_paths(state: Path) -> dict[str, Path]:
    state = Path(state).resolve()
    base = state / "podman"
    return {
        "dir": base,
        "socket": base / "podman.sock",
        "conf": base / "containers.conf",
        "pid": base / "service.pid",
        "log": state / "log" / "podman.log",
    }


def start_podman_service(state: Path, ulimits: dict, timeout: float = 30) -> Engine:
    """Start (or reuse) our Podman API service; it outlives the hub, as a daemon would."""
    if not shutil.which("podman"):
        raise EngineError(
            "no container engine: neither a Docker daemon nor podman was found; "
            "install podman and runc (apt-get install podman runc) or start Docker"
        )
    paths = podman_paths(state)
    paths["dir"].mkdir(parents=True, exist_ok=True)
    paths["log"].parent.mkdir(parents=True, exist_ok=True)
    conf = containers_conf(ulimits)
    if not paths["conf"].exists() or paths["conf"].read_text() != conf:
        paths["conf"].write_text(conf)
    env = {"CONTAINERS_CONF": str(paths["conf"])}
    docker_host = f"unix://{paths['socket']}"
    engine = Engine("podman", docker_host, env)
    if ping(docker_host):
        return engine
    paths["socket"].unlink(missing_ok=True)
    with open(paths["log"], "ab") as log:
        proc = subprocess.Popen(
            ["podman", "system", "service", "--time=0", docker_host],
            env={**os.environ, **env},
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=log,
            start_new_session=True,
            # Podman's conmon leaves files such as "oom" in its working directory.
            cwd=paths["socket"].parent,
        )
    paths["pid"].write_text(str(proc.pid))
    engine = Engine("podman", docker_host, env, started=True)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise EngineError(f"podman system service exited with {proc.returncode}; see {paths['log']}")
        if ping(docker_host, timeout=1):
            return engine
        time.sleep(0.1)
    raise EngineError(f"podman system service did not answer on {paths['socket']} within {timeout:.0f}s")


def stop_podman_service(state: Path) -> None:
    pid_file = podman_paths(state)["pid"]
    if pid_file.exists():
        try:
            os.kill(int(pid_file.read_text()), 15)
        except (ProcessLookupError, ValueError):
            pass
        pid_file.unlink(missing_ok=True)


def check_network(settings: dict, eng: Engine) -> None:
    """Refuse a network mode the engine cannot give (slirp4netns needs Podman and its helper)."""
    if settings["engine"]["network"] != "slirp4netns":
        return
    if eng.kind != "podman":
        raise EngineError(
            "engine.network 'slirp4netns' (the default) needs Podman, and the engine is Docker: "
            "set engine.network to 'bridge' (with engine.hub_connect_url) or 'host' in the settings"
        )
    if not shutil.which("slirp4netns"):
        raise EngineError(
            "engine.network 'slirp4netns' needs the slirp4netns program: install it "
            "(apt-get install slirp4netns), or set engine.network to 'host'"
        )


def find_engine(settings: dict, state: Path, env: dict | None = None) -> Engine:
    """The engine to use, starting our Podman service when that is the one."""
    env = os.environ if env is None else env
    conf = settings["engine"]
    if conf["kind"] == "none":
        raise EngineError("engine.kind is 'none': no container engine to use; set engine.kind: auto, docker or podman")
    explicit = conf["docker_host"] or env.get("DOCKER_HOST")
    if explicit:
        if not ping(explicit):
            raise EngineError(f"the container engine at {explicit} does not answer: is it running?")
        kind = engine_kind(explicit)
        env_conf = (
            {"CONTAINERS_CONF": env["CONTAINERS_CONF"]} if kind == "podman" and env.get("CONTAINERS_CONF") else {}
        )
        return _checked(settings, Engine(kind, explicit, env_conf))
    if conf["kind"] in ("auto", "docker"):
        docker_host = f"unix://{DOCKER_SOCKET}"
        if ping(docker_host):
            return _checked(settings, Engine("docker", docker_host, {}))
        if conf["kind"] == "docker":
            raise EngineError(f"no Docker daemon answers at {DOCKER_SOCKET}: start Docker, or set engine.kind: auto")
    return _checked(settings, start_podman_service(state, conf["ulimits"]))


def _checked(settings: dict, eng: Engine) -> Engine:
    check_network(settings, eng)
    return eng
