"""Driving a real StatCommons hub from tests, the way people and scripts do.

:class:`RunningHub` starts the hub with ``python -m statcommons run`` (the
command ``make run`` uses) on random loopback ports with its own settings
file, state folder and container-name prefix; :class:`Person` signs up, logs
in through the form and talks to their server over HTTP.
"""

from __future__ import annotations

import contextlib
import os
import random
import re
import secrets
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import quote, urljoin

import docker
import requests
import yaml

ROOT = Path(__file__).resolve().parent.parent
#: This machine's loopback as containers reach it from their own network namespace (the gateway
#: of the default engine.slirp4netns_cidr). Only containers use it: nothing on the host sends to it.
FROM_CONTAINERS = "100.64.7.2"
#: Where a hub's API, services and servers listen (the default hub.internal_ip).
INTERNAL_IP = "127.0.0.2"


def _port_range() -> tuple[int, int]:
    """Where this process looks for free ports: below the kernel's ephemeral range, this worker's share of it.

    Every outgoing connection on the machine takes its local port from the ephemeral range, so a
    port found there with bind(0) can be taken before the hub binds it. Under pytest-xdist each
    worker has a share of its own: a port one worker found free and has not bound yet is never
    another's pick.
    """
    ephemeral = Path("/proc/sys/net/ipv4/ip_local_port_range")
    low, high = 10000, int(ephemeral.read_text().split()[0]) if ephemeral.exists() else 32768
    worker = os.environ.get("PYTEST_XDIST_WORKER", "")  # "gw0", "gw1"... under xdist
    workers = int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1"))
    if not worker.startswith("gw") or workers < 2:
        return low, high
    share = (high - low) // workers
    first = low + int(worker[2:]) % workers * share
    return first, first + share


def _free_ports(count: int) -> int:
    """The first of ``count`` consecutive free loopback ports in this worker's range (:func:`_port_range`)."""
    low, high = _port_range()
    while True:
        first = random.randrange(low, high - count)
        with contextlib.ExitStack() as stack:
            try:
                for port in range(first, first + count):
                    for address in ("127.0.0.1", INTERNAL_IP):
                        stack.enter_context(socket.socket()).bind((address, port))
            except OSError:
                continue
            return first


def free_port() -> int:
    return _free_ports(1)


def free_port_pair() -> int:
    """A free port whose next port is free too: the proxy's API listens on the hub's port + 1."""
    return _free_ports(2)


def wait_for(predicate, timeout: float, interval: float = 0.25, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise TimeoutError(f"timed out after {timeout}s waiting for {what}")


def _merge(settings: dict, extra: dict) -> None:
    """``extra`` over ``settings``, section by section (a section given replaces only its own keys)."""
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(settings.get(key), dict):
            _merge(settings[key], value)
        else:
            settings[key] = value


#: A hub with no container engine (:data:`RunningHub` given no engine): it builds no image and starts
#: no server, so the services that start containers are off.
NO_ENGINE = {"engine": {"kind": "none"}, "runner": {"enabled": False}, "projects": {"enabled": False}}


class RunningHub:
    """A hub started with ``statcommons run``; with ``docker_host=None``, one with no container engine."""

    def __init__(
        self, workdir: Path, docker_host: str | None, extra_settings: dict | None = None, env: dict | None = None
    ):
        self.workdir = workdir
        self.docker_host = docker_host
        self.port = free_port_pair()
        self.api_port = free_port()
        while self.api_port in (self.port, self.port + 1):
            self.api_port = free_port()
        self.library_port = free_port()
        while self.library_port in (self.port, self.port + 1, self.api_port):
            self.library_port = free_port()
        self.runner_port = free_port()
        while self.runner_port in (self.port, self.port + 1, self.api_port, self.library_port):
            self.runner_port = free_port()
        self.projects_port = free_port()
        while self.projects_port in (self.port, self.port + 1, self.api_port, self.library_port, self.runner_port):
            self.projects_port = free_port()
        self.prefix = "sctest" + secrets.token_hex(3)
        self.admin_password = secrets.token_urlsafe(12)
        self.ops_token = secrets.token_hex(24)
        self.tokens: dict[str, str] = {}
        self.url = f"http://127.0.0.1:{self.port}"
        self.api_url = f"http://{INTERNAL_IP}:{self.api_port}/hub/api"
        self.settings_file = workdir / "statcommons.yaml"
        self.log_file = workdir / "hub.log"
        settings = {
            "state_dir": str(workdir / "state"),
            "hub": {"port": self.port, "api_port": self.api_port},
            "servers": {"name_prefix": self.prefix, "poll_interval": 3, "start_timeout": 90},
            # Tests sign many people up from one address; tests/hub/test_logins.py keeps the defaults.
            "auth": {"local": {"signups_per_address_per_hour": 1000, "signups_per_hour": 10000}},
            "culler": {"enabled": False},
            "library": {"port": self.library_port},
            # The living library would run every shipped tutorial on each test hub: only its own test turns it on.
            "runner": {"port": self.runner_port, "rerun_library_every": 0},
            "projects": {"port": self.projects_port},
        }
        if docker_host is None:
            _merge(settings, NO_ENGINE)
        _merge(settings, extra_settings or {})
        self.settings_file.write_text(yaml.safe_dump(settings))
        self.env = {
            **os.environ,
            "STATCOMMONS_SETTINGS": str(self.settings_file),
            "STATCOMMONS_ADMIN_PASSWORD": self.admin_password,
            "STATCOMMONS_API_TOKEN": self.ops_token,
            **({"DOCKER_HOST": docker_host} if docker_host else {}),
            **(env or {}),
        }
        if docker_host is None:
            self.env.pop("DOCKER_HOST", None)
        self.proc: subprocess.Popen | None = None

    # --- process -------------------------------------------------------
    def start(self, timeout: float = 120) -> RunningHub:
        log = open(self.log_file, "ab")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "statcommons", "run"],
            cwd=ROOT,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        wait_for(self._ready_or_dead, timeout, what=f"the hub at {self.url} (log: {self.log_file})")
        if self.proc.poll() is not None:
            self._stop_orphaned_proxy()
            raise RuntimeError(f"hub exited with {self.proc.returncode}:\n{self.log()[-3000:]}")
        return self

    def _ready_or_dead(self) -> bool:
        if self.proc.poll() is not None:
            return True
        try:
            return requests.get(f"{self.url}/hub/health", timeout=2).status_code == 200
        except requests.RequestException:
            return False

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._stop_orphaned_proxy()
        self.proc = None

    def _stop_orphaned_proxy(self) -> None:
        """A hub that dies while starting leaves its proxy (started in its own session) running."""
        pid_file = self.workdir / "state" / "proxy.pid"
        if pid_file.exists():
            with contextlib.suppress(ProcessLookupError, ValueError):
                os.kill(int(pid_file.read_text()), signal.SIGTERM)

    def log(self) -> str:
        return self.log_file.read_text(errors="replace") if self.log_file.exists() else ""

    # --- engine --------------------------------------------------------
    def engine(self) -> docker.DockerClient:
        return docker.DockerClient(base_url=self.docker_host, timeout=60)

    def containers(self) -> list:
        if self.docker_host is None:
            return []  # no engine: nothing ever ran
        # Filtered by the engine: listing all containers inspects each, and fails when another
        # session's container disappears meanwhile.
        listed = self.engine().containers.list(all=True, filters={"name": self.prefix + "-"}, ignore_removed=True)
        return [c for c in listed if c.name.startswith(self.prefix + "-")]

    def cleanup_engine(self) -> None:
        if self.docker_host is None:
            return
        client = self.engine()
        for container in self.containers():
            container.remove(force=True)
        for volume in client.volumes.list():
            if volume.name.startswith(self.prefix + "-"):
                volume.remove(force=True)

    def close(self, container_lines: int = 0, log_chars: int = 12000) -> None:
        """Stop the hub and remove its containers and volumes, printing what a failed test needs.

        Pytest shows a fixture's output only when a test of its scope failed: the last
        ``container_lines`` lines of each container's log (none by default), then the hub's log.
        """
        if container_lines:
            try:
                for container in self.containers():
                    logs = container.logs(tail=container_lines).decode(errors="replace")
                    print(f"--- container {container.name} ---\n{logs}")
            except docker.errors.APIError as e:
                print(f"container logs: {e}")
        self.stop()
        try:
            self.cleanup_engine()
        except docker.errors.APIError as e:
            print(f"cleanup: {e}")
        print(f"--- hub log ({self.log_file}) ---\n{self.log()[-log_chars:]}")

    # --- hub API -------------------------------------------------------
    def api(self, method: str, path: str, token: str | None = None, **kwargs) -> requests.Response:
        headers = {"Authorization": f"token {token or self.ops_token}"}
        return requests.request(method, f"{self.url}/hub/api{path}", headers=headers, timeout=30, **kwargs)

    def token(self, name: str, curator: bool = False) -> str:
        """An API token of the hub user ``name``, made (a curator if asked) on first use, kept for the hub's life."""
        if name not in self.tokens:
            r = self.api("POST", f"/users/{name}")
            assert r.status_code in (201, 409), r.text  # 409: signed up, or made by the test itself
            r = self.api("POST", f"/users/{name}/tokens", json={"note": "tests", "expires_in": 7200})
            r.raise_for_status()
            self.tokens[name] = r.json()["token"]
        if curator:
            self.api("POST", "/groups/curators/users", json={"users": [name]}).raise_for_status()
        return self.tokens[name]

    def server(self, name: str) -> dict | None:
        user = self.api("GET", f"/users/{name}").json()
        return user.get("servers", {}).get("")

    def wait_server_ready(self, name: str, timeout: float = 120) -> dict:
        def ready():
            server = self.server(name)
            return server if server and server.get("ready") else None

        return wait_for(ready, timeout, what=f"{name}'s server to be ready")

    def wait_server_stopped(self, name: str, timeout: float = 60) -> None:
        wait_for(lambda: self.server(name) is None, timeout, what=f"{name}'s server to stop")


class Person:
    """Someone using the hub through its web pages, with a cookie jar."""

    def __init__(self, hub: RunningHub, name: str, password: str | None = None):
        self.hub = hub
        self.name = name
        self.password = password or secrets.token_urlsafe(12)
        self.http = requests.Session()

    def _xsrf(self, path: str) -> str:
        self.http.get(f"{self.hub.url}{path}", timeout=30)
        return self.http.cookies.get("_xsrf", path="/hub/") or self.http.cookies.get("_xsrf") or ""

    def sign_up(self) -> requests.Response:
        xsrf = self._xsrf("/hub/signup")
        return self.http.post(
            f"{self.hub.url}/hub/signup",
            data={
                "username": self.name,
                "signup_password": self.password,
                "signup_password_confirmation": self.password,
                "_xsrf": xsrf,
            },
            timeout=30,
        )

    def log_in(self) -> requests.Response:
        xsrf = self._xsrf("/hub/login")
        return self.http.post(
            f"{self.hub.url}/hub/login",
            data={"username": self.name, "password": self.password, "_xsrf": xsrf},
            timeout=30,
        )

    @property
    def logged_in(self) -> bool:
        r = self.http.get(f"{self.hub.url}/hub/home", timeout=30, allow_redirects=False)
        return r.status_code == 200

    def hub_post(self, path: str, **kwargs) -> requests.Response:
        """A form POST on a hub page, with the page's XSRF token."""
        xsrf = self._xsrf("/hub/home")
        data = {**kwargs.pop("data", {}), "_xsrf": xsrf}
        return self.http.post(f"{self.hub.url}/hub{path}", data=data, timeout=120, **kwargs)

    def approve(self, name: str) -> requests.Response:
        """As an admin, approve ``name`` as the Authorize button of ``/hub/authorize`` does.

        A form POST with the page's XSRF token: a GET changes nothing (statcommons/approval.py).
        """
        page = self.http.get(f"{self.hub.url}/hub/authorize", timeout=30)
        page.raise_for_status()
        xsrf = re.search(r'name="_xsrf" value="([^"]+)"', page.text)
        assert xsrf, f"no XSRF token on {page.url} (logged in as an admin?)"
        r = self.http.post(
            f"{self.hub.url}/hub/authorize/{quote(name, safe='')}",
            data={"action": "authorize", "_xsrf": xsrf.group(1)},
            timeout=30,
        )
        r.raise_for_status()
        return r

    def new_token(self) -> str:
        xsrf = self._xsrf("/hub/token")
        r = self.http.post(
            f"{self.hub.url}/hub/api/users/{self.name}/tokens",
            json={"note": "test", "expires_in": 3600},
            headers={"X-XSRFToken": xsrf},
            timeout=30,
        )
        r.raise_for_status()
        return r.json()["token"]

    def server_url(self, path: str = "") -> str:
        return urljoin(f"{self.hub.url}/user/{self.name}/", path)
