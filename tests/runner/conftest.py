"""A real hub with the library and the runner, real containers, and people with notebooks in their homes."""

from __future__ import annotations

import json

import pytest
import requests
import yaml

from statcommons.platform.containers import GID, HOME, UID
from statcommons.platform.names import home_volume

from ..hubtools import RunningHub, wait_for

IMAGE = "statcommons/lab:latest"
ENDED = ("succeeded", "failed", "timeout", "interrupted", "cancelled")


def notebook(*sources: str, parameters: str | None = None) -> dict:
    """A Python notebook; ``parameters`` becomes the cell tagged for papermill."""
    cells = []
    if parameters is not None:
        cells.append({"cell_type": "code", "source": parameters, "metadata": {"tags": ["parameters"]}})
    cells += [{"cell_type": "code", "source": s, "metadata": {}} for s in sources]
    for i, cell in enumerate(cells):
        cell.update(id=f"c{i}", outputs=[], execution_count=None)
    kernel = {"name": "python3", "display_name": "Python 3", "language": "python"}
    return {"nbformat": 4, "nbformat_minor": 5, "metadata": {"kernelspec": kernel}, "cells": cells}


HELLO = notebook(
    "print(f'{greeting}, {open(\"data.txt\").read().strip()}')",
    parameters='greeting = "hello"',
)
FAILING = notebook("x = 1", "total = x / 0", "print('never')")
SLEEPY = notebook("import time\ntime.sleep(seconds)", "print('woke up')", parameters="seconds = 8")
HANGING = notebook("import time\nwhile True:\n    time.sleep(1)")
# Touches every page so that the memory is really used.
HOG = notebook("blocks = []\nfor _ in range(64):\n    blocks.append(bytearray(b'x' * 32 * 1024 * 1024))")
SHARED = notebook("import pathlib\nprint(len(pathlib.Path('../../datasets/tiny.csv').read_text().splitlines()))")
ATTACHED_FAILING = notebook("import missing_module_for_the_runner_test")


class Runner:
    """The runner (and the library) of a running hub, called with hub tokens like a program would."""

    def __init__(self, hub: RunningHub, podman: bool):
        self.hub = hub
        self.podman = podman
        self.url = f"{hub.url}/services/runner/api"
        self.library_url = f"{hub.url}/services/library/api"

    def user(self, name: str, curator: bool = False) -> str:
        return self.hub.token(name, curator)

    def call(self, method: str, path: str, as_user: str, **kwargs) -> requests.Response:
        headers = {"Authorization": f"token {self.user(as_user)}"}
        return requests.request(
            method, f"{self.url}{path}", headers=headers, timeout=90, allow_redirects=False, **kwargs
        )

    def library(self, method: str, path: str, as_user: str, **kwargs) -> requests.Response:
        headers = {"Authorization": f"token {self.user(as_user)}"}
        return requests.request(method, f"{self.library_url}{path}", headers=headers, timeout=30, **kwargs)

    def start(self, as_user: str, **body) -> dict:
        r = self.call("POST", "/runs", as_user, json=body)
        assert r.status_code == 201, r.text
        return r.json()

    def wait(self, run_id: int, as_user: str, statuses=ENDED, timeout: float = 120) -> dict:
        def ended():
            try:
                r = self.call("GET", f"/runs/{run_id}", as_user)
            except requests.RequestException:
                return None  # the runner is restarting
            return r.json() if r.status_code == 200 and r.json()["status"] in statuses else None

        return wait_for(ended, timeout, interval=0.5, what=f"run {run_id} to be {' or '.join(statuses)}")

    def give_home(self, name: str, files: dict[str, str | dict]) -> None:
        """Make ``name``'s home volume as the spawner does, with ``files`` in it (uid 1000)."""
        client = self.hub.engine()
        volume = home_volume(self.hub.prefix, name)
        # Podman sets the owner at creation; Docker copies it from the image's /home/jovyan.
        options = {"o": f"uid={UID},gid={GID}"} if self.podman else {}
        client.volumes.create(volume, driver_opts=options, labels={"org.statcommons.user": name})
        contents = {path: json.dumps(v) if isinstance(v, dict) else v for path, v in files.items()}
        script = (
            "import json, os, pathlib\n"
            "for path, text in json.loads(os.environ['FILES']).items():\n"
            "    target = pathlib.Path(path)\n"
            "    target.parent.mkdir(parents=True, exist_ok=True)\n"
            "    target.write_text(text)\n"
        )
        client.containers.run(
            IMAGE,
            ["python", "-c", script],
            user=f"{UID}:{GID}",
            working_dir=HOME,
            environment={"FILES": json.dumps(contents)},
            volumes={volume: {"bind": HOME, "mode": "rw"}},
            network_mode="host",
            remove=True,
        )


def _library_folder(folder) -> None:
    folder.mkdir()
    item = {
        "id": "runner-shared",
        "type": "notebook",
        "status": "published",
        "title": "A shared notebook for the runner tests",
        "summary": "Counts the lines of a data set.",
        "notebook": {"shared_path": "shared-notebooks/tiny/count.ipynb"},
    }
    (folder / "runner-shared.yaml").write_text(yaml.safe_dump(item, sort_keys=False))


@pytest.fixture(scope="module")
def runner(engine, tmp_path_factory):
    """One hub for the tier: the runner with small limits, the library with a test catalogue."""
    work = tmp_path_factory.mktemp("runnerhub")
    (work / "shared-notebooks" / "tiny").mkdir(parents=True)
    (work / "shared-notebooks" / "tiny" / "count.ipynb").write_text(json.dumps(SHARED))
    (work / "datasets").mkdir()
    (work / "datasets" / "tiny.csv").write_text("a,b\n1,2\n3,4\n")
    _library_folder(work / "library")
    settings = {
        "runner": {
            "concurrency": 2,
            "time_limit": 90,
            "mem_limit": "1G",
            "min_schedule_interval": 60,  # the schedules of the tests fire every minute
            "shared_notebooks": str(work / "shared-notebooks"),
            "datasets": str(work / "datasets"),
        },
        "library": {"folder": str(work / "library")},
    }
    yield from _serve(engine, work, settings)


@pytest.fixture(scope="module")
def one_slot_runner(engine, tmp_path_factory):
    """A hub whose runner runs one notebook at a time, with the default minimum interval of schedules."""
    work = tmp_path_factory.mktemp("oneslothub")
    yield from _serve(engine, work, {"runner": {"concurrency": 1, "time_limit": 90, "mem_limit": "1G"}})


def _serve(engine, work, settings):
    (work / "hub").mkdir()
    hub = RunningHub(work / "hub", engine.docker_host, extra_settings=settings)
    hub.start()
    runner = Runner(hub, podman=engine.kind == "podman")
    try:
        wait_for(
            lambda: requests.get(f"{runner.url}/openapi.json", timeout=5).status_code == 200,
            60,
            what="the runner service",
        )
        wait_for(
            lambda: requests.get(f"{runner.library_url}/openapi.json", timeout=5).status_code == 200,
            60,
            what="the library service",
        )
        yield runner
    finally:
        hub.close()
