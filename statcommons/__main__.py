"""The ``statcommons`` command: a thin CLI over the package's functions.

statcommons run              validate settings, start the engine, build images, start the hub
                             (with engine.kind: none, only the hub: no engine, no images)
statcommons upgrade          upgrade the services' databases and the hub's, after copies in <state>/backups/
statcommons check-settings   validate the settings file (exit 2 when it is wrong)
statcommons images [--force] build the user images that are missing or stale
statcommons engine           start the container engine and print DOCKER_HOST
statcommons library validate check the curated library folder
statcommons library export   write the catalogue's items as YAML files, or the catalogue as DCAT-AP
statcommons projects ...     list, create, add-member, remove-member, delete, restore projects (admins)
"""

from __future__ import annotations

import argparse
import os
import re
import signal
import socket
import ssl
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from traitlets.config import Config

from . import settings
from .hub import config
from .platform import engine, images


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


def hub_env(eng: engine.Engine | None) -> dict:
    """The hub's environment: ours, with the engine's (none with ``engine.kind: none``) and the settings file."""
    engine_env = {**eng.env, "DOCKER_HOST": eng.docker_host} if eng else {}
    return {**os.environ, **engine_env, "STATCOMMONS_SETTINGS": str(settings.settings_path().resolve())}


def port_in_use(ip: str, port: int) -> bool:
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((ip, port))
        except OSError:
            return True
    return False


def _hub_running(loaded: dict) -> str | None:
    """Why a hub seems to run already (a port of the hub or of a service is taken), or None."""
    hub = loaded["hub"]
    ports = [
        (hub["ip"], hub["port"], "hub.port"),
        (hub["internal_ip"], hub["port"] + 1, "the proxy's API, hub.port + 1"),
        (hub["internal_ip"], hub["api_port"], "hub.api_port"),
    ]
    if loaded["library"]["enabled"]:
        ports.append((hub["internal_ip"], loaded["library"]["port"], "library.port"))
    if loaded["runner"]["enabled"]:
        ports.append((hub["internal_ip"], loaded["runner"]["port"], "runner.port"))
    if loaded["projects"]["enabled"]:
        ports.append((hub["internal_ip"], loaded["projects"]["port"], "projects.port"))
    for ip, port, what in ports:
        if port_in_use(ip, port):
            pid_file = settings.state_dir(loaded) / "jupyterhub.pid"
            return f"{ip}:{port} ({what}) is already in use: is a hub already running (see {pid_file})?"
    return None


def _upgrade(loaded: dict, say, hub_always: bool) -> list[str]:
    """Upgrade the databases (see :mod:`statcommons.hub.upgrade`); the names of those that changed."""
    from .hub import upgrade

    env = {**os.environ, "STATCOMMONS_SETTINGS": str(settings.settings_path().resolve())}
    try:
        return upgrade.upgrade(loaded, env, say, hub_always=hub_always)
    except upgrade.UpgradeError as e:
        _fail(f"{e} (copies made before it are in {settings.state_dir(loaded) / 'backups'})", 1)


def cmd_upgrade(args) -> int:
    loaded = _settings()
    running = _hub_running(loaded)
    if running:
        _fail(f"{running} Stop it before upgrading.", 1)
    changed = _upgrade(loaded, lambda line: print(line, flush=True), hub_always=True)
    print(f"statcommons: upgraded {', '.join(changed)}" if changed else "statcommons: every database was up to date")
    return 0


def cmd_run(args) -> int:
    started = time.monotonic()
    loaded = _settings()
    hub = loaded["hub"]
    running = _hub_running(loaded)
    if running:
        _fail(running, 1)
    # The same upgrade as `statcommons upgrade`, said only when a database changed.
    said: list[str] = []
    if _upgrade(loaded, said.append, hub_always=False):
        for line in said:
            print(f"==> database {line}", flush=True)
    if loaded["engine"]["kind"] == "none":
        eng = None  # neither an engine nor images: the hub's spawner refuses every start
        settings.state_dir(loaded).mkdir(parents=True, exist_ok=True)
        print("==> no container engine (engine.kind: none): no server can start", flush=True)
    else:
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
    api = f"http://{hub['internal_ip']}:{hub['api_port']}{hub['base_url']}hub/health"
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


def _library_settings(args) -> dict:
    if getattr(args, "loaded", None) is None:
        try:
            args.loaded = settings.load()
        except settings.SettingsError as e:
            _fail(str(e), 2)
    return args.loaded


def _library_store(args):
    """The catalogue's store, refusing to create a SQLite file that is not there yet."""
    import sqlalchemy as sa

    from .library.store import Store

    url = args.database or settings.library_database_url(_library_settings(args))
    try:
        parsed = sa.make_url(url)
    except sa.exc.ArgumentError:
        _fail(f"{url!r} is not a database URL such as sqlite:///path or postgresql+psycopg://...", 2)
    if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:"):
        if not Path(parsed.database).is_file():
            _fail(f"{parsed.database}: no library database there (the library service makes it at its first start)", 1)
    try:
        return Store(url), parsed.render_as_string(hide_password=True)
    except (ValueError, sa.exc.SQLAlchemyError) as e:
        _fail(f"cannot open the library database {parsed.render_as_string(hide_password=True)}: {e}", 1)


def _shown(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def _write(path: Path, text: str) -> None:
    # Through a temporary file in the same folder, so an interrupted export leaves no half-written file.
    temporary = path.with_name(f".{path.name}.tmp")
    temporary.write_text(text, encoding="utf-8")
    os.replace(temporary, path)


def _same_item(old_text: str, new_text: str) -> bool:
    import yaml

    from .library.schema import apply_defaults

    try:
        old = yaml.safe_load(old_text)
    except yaml.YAMLError:
        return False
    return isinstance(old, dict) and apply_defaults(old) == yaml.safe_load(new_text)


def _export_yaml(args, items: list[dict]) -> dict[str, int]:
    """Write one ``<id>.yaml`` per item; a file that differs is only replaced with --force."""
    from .library.files import dump_item
    from .library.schema import SLUG_PATTERN, validate_item

    folder = Path(args.to) if args.to else settings.library_folder(_library_settings(args))
    if folder.exists() and not folder.is_dir():
        _fail(f"{folder}: not a folder", 2)
    folder.mkdir(parents=True, exist_ok=True)
    counts = dict.fromkeys(("added", "updated", "unchanged", "not written"), 0)
    for item in items:
        item_id = str(item.get("id"))
        path = folder / f"{item_id}.yaml"
        problems = validate_item(item)
        if problems or not re.match(SLUG_PATTERN, item_id):
            print(f"{_shown(path)}: not written: the item is not valid: {problems[0] if problems else 'its id'}")
            counts["not written"] += 1
            continue
        text = dump_item(item)
        old = path.read_text(encoding="utf-8") if path.is_file() else None
        if old is not None and (old == text or _same_item(old, text)):
            status = "unchanged"
        elif old is not None and not args.force:
            status = "not written"
            print(f"{_shown(path)}: not written: the file differs from the item in the database; --force replaces it")
        else:
            _write(path, text)
            status = "added" if old is None else "updated"
        counts[status] += 1
        if status != "not written":
            note = " (its attached notebook is not exported)" if (item.get("notebook") or {}).get("attached") else ""
            print(f"{_shown(path)}: {status}{note}")
    return counts


def _export_dcat(args, items: list[dict]) -> dict[str, int]:
    from .library.dcat import catalogue_graph, to_jsonld, to_turtle

    base_url = args.base_url or _library_url(_library_settings(args))
    base_url = base_url if base_url.endswith("/") else base_url + "/"
    try:
        graph = catalogue_graph(items, base_url)
    except ValueError as e:
        _fail(f"--base-url: {e}", 2)
    text = to_turtle(graph) if args.format == "turtle" else to_jsonld(graph)
    published = sum(1 for item in items if item.get("status", "published") == "published")
    if not args.to:
        sys.stdout.write(text)
        print(f"{published} published items as DCAT-AP ({args.format})", file=sys.stderr)
        return {}
    path = Path(args.to)
    if path.is_dir():
        _fail(f"{path}: a folder: give a file name for the {args.format} catalogue", 2)
    old = path.read_text(encoding="utf-8") if path.is_file() else None
    if old == text:
        status = "unchanged"
    elif old is not None and not args.force:
        print(f"{_shown(path)}: not written: the file differs; --force replaces it")
        return {"not written": 1}
    else:
        _write(path, text)
        status = "added" if old is None else "updated"
    print(f"{_shown(path)}: {status} ({published} published items as DCAT-AP, {args.format})")
    return {}


def _library_url(loaded: dict) -> str:
    """The library service's public address, from the hub's: ``{hub URL}services/library/``."""
    hub_url = settings.hub_public_url(loaded)
    return f"{hub_url if hub_url.endswith('/') else hub_url + '/'}services/library/"


def cmd_library_export(args) -> int:
    store, shown = _library_store(args)
    try:
        all_items = args.all or args.format != "yaml"
        items = store.export(origin=None if all_items else "api")
    finally:
        store.close()
    if args.format != "yaml":
        return 1 if _export_dcat(args, items) else 0
    counts = _export_yaml(args, items)
    which = "items" if args.all else "items submitted through the library service"
    summary = ", ".join(f"{n} {status}" for status, n in counts.items())
    print(f"{len(items)} {which} in {shown}: {summary}")
    if counts["not written"]:
        print("statcommons: some files were not written; see above", file=sys.stderr)
    return 1 if counts["not written"] else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="statcommons", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("run", help="start the hub (engine, images and all)").set_defaults(func=cmd_run)
    sub.add_parser(
        "upgrade",
        help="upgrade the services' databases and the hub's (the hub stopped)",
        description="Bring every enabled service's database to this release's schema (Alembic revisions), then "
        "the hub's (jupyterhub upgrade-db). SQLite databases are copied to <state_dir>/backups/<UTC time>/ "
        "first: the hub's every time, a service's when it changes. statcommons run does the same before it "
        "starts the hub.",
    ).set_defaults(func=cmd_upgrade)
    sub.add_parser("check-settings", help="validate the settings file").set_defaults(func=cmd_check)
    p = sub.add_parser("images", help="build missing or stale user images")
    p.add_argument("--force", action="store_true", help="rebuild even when current")
    p.set_defaults(func=cmd_images)
    sub.add_parser("engine", help="start the container engine, print its address").set_defaults(func=cmd_engine)
    library = sub.add_parser("library", help="the library catalogue").add_subparsers(dest="action", required=True)
    p = library.add_parser("validate", help="check every file of the curated library folder")
    p.add_argument("folder", nargs="?", default=str(settings.ROOT / "library"), help="default: library/")
    p.set_defaults(func=cmd_library_validate)
    p = library.add_parser(
        "export",
        help="write the items of the catalogue's database as YAML files, or the catalogue as DCAT-AP",
        description="By default, write each item submitted through the library service as <id>.yaml in the "
        "curated folder; a file that differs is kept unless --force. With --format jsonld or "
        "turtle, write the DCAT-AP 3 catalogue of every published item to stdout or to --to FILE.",
    )
    p.add_argument("--database", help="SQLAlchemy URL of the catalogue (default: from the settings)")
    p.add_argument(
        "--to", help="folder for yaml (default: library.folder), file for jsonld and turtle (default: stdout)"
    )
    p.add_argument("--format", choices=("yaml", "jsonld", "turtle"), default="yaml", help="default: yaml")
    p.add_argument("--base-url", help="public URL of the library service (default: the hub's + services/library/)")
    p.add_argument("--all", action="store_true", help="yaml: every item, the curated ones too")
    p.add_argument("--force", action="store_true", help="replace files that differ")
    p.set_defaults(func=cmd_library_export)
    from .projects import cli as projects_cli

    projects_cli.add_parser(sub)
    args = parser.parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
