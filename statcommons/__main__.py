"""The ``statcommons`` command: a thin CLI over the package's functions.

statcommons run              validate settings, start the engine, build images, start the hub
statcommons check-settings   validate the settings file (exit 2 when it is wrong)
statcommons images [--force] build the user images that are missing or stale
statcommons engine           start the container engine and print DOCKER_HOST
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import ssl
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from traitlets.config import Config

from . import config, engine, images, settings


def _fail(message: str, code: int) -> None:
    print(f"statcommons: {message}", file=sys.stderr)
    raise SystemExit(code)


def _settings() -> dict:
    try:
        loaded = settings.load()
        config.apply_config(loaded, Config())  # also checks the environment the settings need
        return loaded
    except settings.SettingsError as e:
        _fail(str(e), 2)


def _engine(loaded: dict) -> engine.Engine:
    state = settings.state_dir(loaded)
    state.mkdir(parents=True, exist_ok=True)
    try:
        return engine.find_engine(loaded, state)
    except engine.EngineError as e:
        _fail(str(e), 1)


def _build(loaded: dict, eng: engine.Engine, force: bool = False) -> None:
    wanted = images.profile_images(loaded)
    builder = images.Builder(eng, base_image=os.environ.get("BASE_IMAGE") or None)
    try:
        builder.ensure(images.needed(wanted), force=force)
    except images.ImageBuildError as e:
        _fail(str(e), 1)
    for tag in sorted(wanted - {i.tag for i in images.IMAGES.values()}):
        if images.image_id(builder.client, tag) is None:
            print(f"statcommons: warning: image {tag} of a profile is not on the engine", file=sys.stderr)


def wait_ready(url: str, proc: subprocess.Popen, timeout: float = 120) -> bool:
    context = ssl._create_unverified_context()  # only our own health check, maybe a self-signed cert
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and proc.poll() is None:
        try:
            with urllib.request.urlopen(url, timeout=2, context=context) as r:
                if r.status == 200:
                    return True
        except OSError:
            pass
        time.sleep(0.2)
    return False


def hub_env(eng: engine.Engine) -> dict:
    return {
        **os.environ,
        **eng.env,
        "DOCKER_HOST": eng.docker_host,
        "STATCOMMONS_SETTINGS": str(settings.settings_path().resolve()),
    }


def port_in_use(ip: str, port: int) -> bool:
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((ip, port))
        except OSError:
            return True
    return False


def cmd_run(args) -> int:
    started = time.monotonic()
    loaded = _settings()
    hub = loaded["hub"]
    ports = [
        (hub["ip"], hub["port"], "hub.port"),
        ("127.0.0.1", hub["port"] + 1, "the proxy's API, hub.port + 1"),
        ("127.0.0.1", hub["api_port"], "hub.api_port"),
    ]
    for ip, port, what in ports:
        if port_in_use(ip, port):
            pid_file = settings.state_dir(loaded) / "jupyterhub.pid"
            _fail(f"{ip}:{port} ({what}) is already in use: is a hub already running (see {pid_file})?", 1)
    eng = _engine(loaded)
    print(f"==> container engine: {eng.kind} at {eng.docker_host}", flush=True)
    _build(loaded, eng)
    proto = "https" if hub["ssl_cert"] else "http"
    url = f"{proto}://{hub['ip']}:{hub['port']}{hub['base_url']}"
    print(f"==> starting JupyterHub at {url}", flush=True)
    proc = subprocess.Popen(
        [str(Path(sys.executable).parent / "jupyterhub"), "-f", str(settings.ROOT / "jupyterhub_config.py")],
        cwd=settings.state_dir(loaded),
        env=hub_env(eng),
        # Started from a background job, SIGINT arrives ignored, and services the hub starts
        # would inherit that and hold up every stop; the hub and its children get the default.
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda s, _f: proc.send_signal(s))
    api = f"http://127.0.0.1:{hub['api_port']}{hub['base_url']}hub/health"
    if wait_ready(api, proc) and wait_ready(f"{url}hub/health", proc):
        print(f"==> hub ready at {url} ({time.monotonic() - started:.1f}s)", flush=True)
    elif proc.poll() is None:
        print(f"statcommons: the hub did not answer at {url} within 2 minutes; see its log above", file=sys.stderr)
    code = proc.wait()
    if code:
        print(f"statcommons: JupyterHub exited with status {code}; its log above says why", file=sys.stderr)
    return code


def cmd_check(args) -> int:
    loaded = _settings()
    print(f"{settings.settings_path()}: ok (profiles: {', '.join(loaded['profiles'])})")
    return 0


def cmd_images(args) -> int:
    loaded = _settings()
    eng = _engine(loaded)
    try:
        _build(loaded, eng, force=args.force)
    finally:
        if eng.started:  # leave no engine service behind that only this build needed
            engine.stop_podman_service(settings.state_dir(loaded))
    return 0


def cmd_engine(args) -> int:
    eng = _engine(_settings())
    print(f"DOCKER_HOST={eng.docker_host}")
    for key, value in eng.env.items():
        print(f"{key}={value}")
    return 0


def cmd_library_validate(args) -> int:
    from .library.files import load_folder

    items, problems = load_folder(args.folder)
    for line in problems:
        print(line, file=sys.stderr)
    print(f"{args.folder}: {len(items)} items valid, {len(problems)} problems")
    return 1 if problems else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="statcommons", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("run", help="start the hub (engine, images and all)").set_defaults(func=cmd_run)
    sub.add_parser("check-settings", help="validate the settings file").set_defaults(func=cmd_check)
    p = sub.add_parser("images", help="build missing or stale user images")
    p.add_argument("--force", action="store_true", help="rebuild even when current")
    p.set_defaults(func=cmd_images)
    sub.add_parser("engine", help="start the container engine, print its address").set_defaults(func=cmd_engine)
    library = sub.add_parser("library", help="the library catalogue").add_subparsers(dest="action", required=True)
    p = library.add_parser("validate", help="check every file of the curated library folder")
    p.add_argument("folder", nargs="?", default=str(settings.ROOT / "library"), help="default: library/")
    p.set_defaults(func=cmd_library_validate)
    args = parser.parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
