"""``statcommons projects ...``: the administrators' commands, over the same functions as the API.

They act as an administrator (:meth:`Caller.operator`) on the hub through its REST API with the
operator's token ``STATCOMMONS_API_TOKEN`` (the hub must run with it set), on the projects'
database, and on the container engine the hub uses.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from pathlib import Path

import docker

from .. import settings
from ..platform import engine
from . import registration
from .access import Caller
from .core import ProjectError, Projects
from .hub import Hub
from .store import Store


def _fail(message: str, code: int = 1):
    print(f"statcommons projects: {message}", file=sys.stderr)
    raise SystemExit(code)


def _projects(loaded: dict) -> Projects:
    token = os.environ.get("STATCOMMONS_API_TOKEN")
    if not token:
        _fail("set STATCOMMONS_API_TOKEN to the operator's token the hub runs with (see README, Settings)", 2)
    hub = loaded["hub"]
    api = f"http://{hub['internal_ip']}:{hub['api_port']}{hub['base_url']}hub/api"
    state = settings.state_dir(loaded)
    state.mkdir(parents=True, exist_ok=True)
    try:
        eng = engine.find_engine(loaded, state)
    except engine.EngineError as e:
        _fail(str(e))
    client = docker.APIClient(base_url=eng.docker_host, timeout=120)
    env = dict(os.environ)
    options = registration.options(loaded, env)
    return Projects(Store(registration.database(loaded, env)), Hub(api, token), options, engine=client)


def _show(project: dict) -> str:
    members = ", ".join(f"{m['name']}{' (owner)' if m['role'] == 'owner' else ''}" for m in project["members"])
    return f"{project['name']}\t{project['title']}\t{members or '-'}"


async def _run(args: argparse.Namespace, projects: Projects) -> int:
    me = Caller.operator()
    if args.action == "list":
        found = await projects.list(me)
        for project in found:
            print(_show(project))
        for row in projects.store.archived() if args.archived else []:
            print(f"{row['name']}\tarchived {row['archived']}\t{row['archive'] or '-'}")
        print(f"{len(found)} projects", file=sys.stderr)
    elif args.action == "create":
        data = {"name": args.name, "title": args.title or args.name, "description": args.description or ""}
        print(_show(await projects.create(me, data, owners=args.owner)))
    elif args.action == "add-member":
        print(_show(await projects.set_member(me, args.name, args.user, {"role": args.role})))
    elif args.action == "remove-member":
        await projects.remove_member(me, args.name, args.user)
        print(f"{args.user} removed from {args.name}")
    elif args.action == "delete":
        result = await projects.delete(me, args.name)
        where = projects.options.archive_folder / result["archive"] if result["archive"] else "no files"
        print(f"{args.name} deleted; its files are in {where}")
    elif args.action == "restore":
        project = await projects.restore(me, Path(args.archive), owners=args.owner, name=args.name)
        print(_show(project))
    return 0


def command(args: argparse.Namespace) -> int:
    try:
        loaded = settings.load()
    except settings.SettingsError as e:
        _fail(str(e), 2)
    if not loaded["projects"]["enabled"]:
        _fail("projects are switched off (projects.enabled: false)", 2)
    projects = _projects(loaded)
    try:
        return asyncio.run(_run(args, projects))
    except ProjectError as e:
        _fail(e.message, 1)
    finally:
        projects.store.close()


def add_parser(sub) -> None:
    """The ``projects`` subcommands of ``statcommons``."""
    parser = sub.add_parser("projects", help="project spaces (administrators; the hub must run)")
    actions = parser.add_subparsers(dest="action", required=True)
    p = actions.add_parser("list", help="every project with its members")
    p.add_argument("--archived", action="store_true", help="also the deleted projects and their archives")
    p = actions.add_parser("create", help="create a project owned by --owner")
    p.add_argument("name")
    p.add_argument("--owner", action="append", required=True, help="a hub user; repeat for more owners")
    p.add_argument("--title")
    p.add_argument("--description")
    p = actions.add_parser("add-member", help="add a member, or change a member's role")
    p.add_argument("name")
    p.add_argument("user")
    p.add_argument("--role", choices=("member", "owner"), default="member")
    p = actions.add_parser("remove-member", help="take a member out of a project")
    p.add_argument("name")
    p.add_argument("user")
    p = actions.add_parser("delete", help="archive a project's files, then remove it")
    p.add_argument("name")
    p = actions.add_parser("restore", help="a new project from a deleted project's archive")
    p.add_argument("archive", help="a .tar.gz of the archive folder (projects list --archived shows them)")
    p.add_argument("--owner", action="append", help="owners (default: the project's owners when it was deleted)")
    p.add_argument("--name", help="the new project's name (default: the deleted project's)")
    parser.set_defaults(func=command)
