"""Fixtures shared by the test tiers: the container engine, real hubs, PostgreSQL and chromium."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from statcommons.platform import engine as engine_mod
from statcommons.platform import images
from statcommons.settings import validate

from . import pgserver
from .chromium import CHROMIUM, CHROMIUM_ARGS
from .hubtools import RunningHub

# The migration tests' databases (previous_release, empty_database).
pytest_plugins = ["tests.migrationtools"]

ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"
# The user images that the image tests run in: the official tags unless these name others, for
# images built by hand under other tags (a branch that changes images/ must not rebuild the tags
# that every test on a machine shares). When either is set, the engine fixture builds nothing.
TEST_IMAGE_VARIABLES = ("STATCOMMONS_TEST_LAB_IMAGE", "STATCOMMONS_TEST_LAB_R_IMAGE")


@pytest.fixture(scope="session")
def artifacts() -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS


@pytest.fixture(scope="session")
def engine(tmp_path_factory):
    """The project's engine: Docker if one answers, else our own Podman service."""
    state = tmp_path_factory.mktemp("engine")
    settings = validate({})
    try:
        eng = engine_mod.find_engine(settings, state)
    except engine_mod.EngineError as e:
        pytest.fail(f"no container engine for the container tests: {e}")
    if not any(os.environ.get(name) for name in TEST_IMAGE_VARIABLES):
        builder = images.Builder(eng, base_image=os.environ.get("BASE_IMAGE") or None)
        builder.ensure(images.needed(images.profile_images(settings)))
    os.environ.update(eng.env)
    yield eng
    if eng.kind == "podman":
        engine_mod.stop_podman_service(state)


@pytest.fixture
def make_hub(tmp_path_factory, engine, request):
    """Start hubs on random ports; their containers and volumes are removed afterwards."""
    yield from _hubs(tmp_path_factory, engine.docker_host, request)


@pytest.fixture
def make_bare_hub(tmp_path_factory, request):
    """Start hubs with no container engine (``engine.kind: none``): no image, no server, no runner or projects."""
    yield from _hubs(tmp_path_factory, None, request)


def _hubs(tmp_path_factory, docker_host: str | None, request):
    hubs: list[RunningHub] = []

    def make(**kwargs) -> RunningHub:
        hub = RunningHub(tmp_path_factory.mktemp("hub"), docker_host, **kwargs)
        hubs.append(hub)
        return hub.start()

    yield make
    failed = getattr(request.node, "rep_call", None) is not None and request.node.rep_call.failed
    for hub in hubs:
        try:
            if failed:
                print(f"\n--- hub log ({hub.log_file}) ---\n{hub.log()[-6000:]}")
                for container in hub.containers():
                    print(f"--- container {container.name} ---\n{container.logs(tail=60).decode(errors='replace')}")
        finally:
            hub.stop()
            hub.cleanup_engine()


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    report = yield
    setattr(item, f"rep_{report.when}", report)
    return report


@pytest.fixture(scope="session")
def postgres_server():
    """A PostgreSQL server of our own on a Unix socket, with an empty database; stopped at the end."""
    if pgserver.missing():
        pytest.fail(f"the PostgreSQL server is not installed: {pgserver.missing()} is missing; "
                    "`make postgres-deps` (run by `make test`) installs it, or set PG_BIN")  # fmt: skip
    with pgserver.running("statcommons_test") as server:
        yield server


@pytest.fixture
def page(request):
    """A fresh page of Debian's chromium; the browser and Playwright stop in the finalizer."""
    if not shutil.which(CHROMIUM):
        pytest.fail(f"{CHROMIUM} is missing: run `make browser-deps` (installs Debian's chromium)")
    from playwright.sync_api import sync_playwright

    playwright = sync_playwright().start()
    browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)

    def close():
        browser.close()
        playwright.stop()

    request.addfinalizer(close)
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    context.set_default_timeout(30_000)
    return context.new_page()

