"""What can be done with projects: the functions behind the API, the web page and the CLI.

:class:`Projects` keeps the three places a project lives in step: the hub (the member group
``project-<name>``, marked as the service's in its properties, holding owners and members),
the store (title, description, owners, archives) and the engine (the project's volume).  A
project's collaboration server is driven by :mod:`statcommons.projects.collab`, imported when
first needed.  Every refusal is a :class:`ProjectError` with an HTTP status and a message
naming what is wrong; the API answers it as JSON, the CLI prints it.

Rules: every user with ``custom:projects:use`` may create projects (or only the members of
``projects.create_group``) up to ``projects.max_projects_per_user`` owned; owners change the
title, description and members and delete; members see the project, start its server and
leave it; anyone else gets a 404 for the project, as if it did not exist.  Admins
(``custom:projects:admin``) do everything everywhere.  A project always keeps one owner.
"""

from __future__ import annotations

import asyncio
import logging
import os
import re
import tarfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import docker
import requests

from ..kit.client import ServiceError
from ..kit.validation import validate
from ..kit.web import ApiError
from ..platform import names, volumes
from .access import Caller
from .hub import Hub
from .models import Membership, NewProject, ProjectChange
from .store import Store

log = logging.getLogger("statcommons.projects")

#: Seconds the hub's answer about groups and their members is kept (changes made elsewhere show after it).
MEMBERSHIP_MAX_AGE = 10.0

ARCHIVE_NAME = re.compile(r"^(?P<name>[a-z0-9-]+)-(?P<stamp>\d{8}T\d{6}Z)\.tar\.gz$")


class ProjectError(Exception):
    """A refused request: ``status`` (HTTP), ``message``, and the fields at fault in ``errors``."""

    def __init__(self, status: int, message: str, errors: list[dict] | None = None):
        super().__init__(message)
        self.status = status
        self.message = message
        self.errors = errors


def _status_of(error: ServiceError) -> int:
    """The status to answer when the hub (or a project server) refused: theirs for a 4xx, 503 when unreachable."""
    if error.status in (0, 502, 503, 504):
        return 503
    return error.status if 400 <= error.status < 500 else 502


def _field_error(status: int, path: str, message: str) -> ProjectError:
    return ProjectError(status, f"{path}: {message}", [{"path": path, "message": message}])


def _checked(model: type, data: Any) -> Any:
    """``data`` (a request's body, or what the command line gives) as ``model`` of :mod:`.models`:
    a 422 naming each field that is wrong, in the words of the API's other refusals."""
    try:
        return validate(model, data)
    except ApiError as e:
        raise ProjectError(e.status_code, e.message, e.errors) from None


@dataclass(frozen=True)
class Options:
    """The settings the service works with, made by :func:`statcommons.projects.registration.options`
    from ``projects.*``, ``servers.*`` and ``engine.*`` (their defaults are the settings schema's)."""

    name_prefix: str
    image: str
    ulimits: dict
    archive_folder: Path
    create_group: str | None
    max_projects_per_user: int
    proxy_url: str | None
    #: A project volume's size cap in bytes (None: none) and where capped volumes' images live.
    volume_size: int | None
    volume_images: Path | None


class Projects:
    """Projects in the hub, the store and the engine, for one caller at a time."""

    def __init__(self, store: Store, hub: Hub, options: Options, engine: docker.APIClient | None = None):
        self.store = store
        self.hub = hub
        self.options = options
        self._engine = engine
        self._lock = asyncio.Lock()  # creations and deletions one at a time: names stay unique
        self._tasks: set[asyncio.Task] = set()
        self._putting_out = asyncio.Lock()  # removals and the periodic check one at a time
        self._groups: dict[str, set[str]] | None = None
        self._groups_at = 0.0
        #: The members of each project at the last look (:meth:`enforce`).
        self._members_seen: dict[str, set[str]] = {}

    # --- the engine ------------------------------------------------------------
    @property
    def engine(self) -> docker.APIClient:
        if self._engine is None:
            # The engine of the hub's spawner, which the hub passes on in DOCKER_HOST.
            self._engine = docker.APIClient(base_url=os.environ.get("DOCKER_HOST") or None, timeout=120)
        return self._engine

    async def _on_engine(self, function, *args, **kwargs):
        try:
            return await asyncio.to_thread(function, self.engine, *args, **kwargs)
        except volumes.VolumeError as e:
            raise ProjectError(503, str(e)) from None
        except (docker.errors.DockerException, requests.RequestException, OSError) as e:
            # docker-py lets connection errors through as requests' own
            raise ProjectError(503, f"the container engine did not do it: {e}") from None

    def volume(self, project: str) -> str:
        return names.project_volume(self.options.name_prefix, project)

    @property
    def _helper_options(self) -> dict:
        return {"image": self.options.image, "ulimits": self.options.ulimits}

    # --- the hub ----------------------------------------------------------------
    async def _hub(self, method: str, *args):
        try:
            return await getattr(self.hub, method)(*args)
        except ServiceError as e:
            raise ProjectError(_status_of(e), e.message) from None

    async def _memberships(self, fresh: bool = False) -> dict[str, set[str]]:
        """Every hub group's members, kept ``MEMBERSHIP_MAX_AGE`` seconds.

        The service changes the member groups itself and updates this at once (:meth:`_joined`,
        :meth:`_left`); only changes made elsewhere (the hub's admin page) take up to that long to
        show. The hub is asked once for many requests, not on each.
        """
        if fresh or self._groups is None or time.monotonic() - self._groups_at > MEMBERSHIP_MAX_AGE:
            groups = await self._hub("groups")
            self._groups = {g["name"]: set(g.get("users", [])) for g in groups}
            self._groups_at = time.monotonic()
        return self._groups

    def _joined(self, project: str, users: list[str]) -> None:
        if self._groups is not None:
            self._groups.setdefault(names.member_group(project), set()).update(users)

    def _left(self, project: str, users: list[str]) -> None:
        if self._groups is not None:
            self._groups.get(names.member_group(project), set()).difference_update(users)

    async def _member_names(self, project: str) -> list[str]:
        return sorted((await self._memberships()).get(names.member_group(project), set()))

    # --- models -----------------------------------------------------------------
    def _model(self, row: dict, users: list[str], caller: Caller) -> dict:
        owners = [u for u in row["owners"] if u in users]
        members = [{"name": u, "role": "owner" if u in owners else "member"} for u in sorted(users)]
        role = "owner" if caller.name in owners else "member" if caller.name in users else None
        return {
            "name": row["name"],
            "title": row["title"],
            "description": row["description"],
            "created": row["created"],
            "created_by": row["created_by"],
            "owners": owners,
            "members": members,
            "role": role,
            "folder": f"~/projects/{row['name']}",
        }

    async def _visible(self, caller: Caller, name: str) -> tuple[dict, list[str]]:
        """The project and its member names, when the caller may see it; 404 otherwise."""
        self._check_use(caller)
        row = self.store.get(name) if isinstance(name, str) else None
        users = await self._member_names(name) if row else []
        if row is not None and not (caller.admin or caller.name in users):
            # Kept memberships miss what another process did (an admin's command, the hub's page).
            await self._memberships(fresh=True)
            users = await self._member_names(name)
        if row is None or not (caller.admin or caller.name in users):
            raise ProjectError(404, f"there is no project {name!r} that you are a member of")
        return row, users

    async def _owned(self, caller: Caller, name: str) -> tuple[dict, list[str]]:
        row, users = await self._visible(caller, name)
        if not caller.admin and caller.name not in row["owners"]:
            raise ProjectError(403, f"only the owners of {name} may do this: {', '.join(row['owners']) or 'none'}")
        return row, users

    @staticmethod
    def _check_use(caller: Caller) -> None:
        if not caller.can_use:
            raise ProjectError(403, f"{caller.name} may not use projects: ask an administrator for access")

    # --- listing and reading ----------------------------------------------------
    async def list(self, caller: Caller) -> list[dict]:
        """The caller's projects (every project for admins), by name."""
        self._check_use(caller)
        groups = await self._memberships()
        found = []
        for row in self.store.live():
            users = sorted(groups.get(names.member_group(row["name"]), set()))
            if caller.admin or caller.name in users:
                found.append(self._model(row, users, caller))
        return found

    async def get(self, caller: Caller, name: str) -> dict:
        row, users = await self._visible(caller, name)
        return self._model(row, users, caller)

    # --- creating and changing --------------------------------------------------
    async def _may_create(self, caller: Caller) -> None:
        self._check_use(caller)
        if caller.admin:
            return
        group = self.options.create_group
        if group and caller.name not in ((await self._hub("group", group)) or {}).get("users", []):
            raise ProjectError(403, f"only members of the hub group {group!r} may create projects")
        owned = self.store.owned_by(caller.name)
        if owned >= self.options.max_projects_per_user:
            raise ProjectError(
                409,
                f"{caller.name} owns {owned} projects already: the limit is {self.options.max_projects_per_user} "
                "(delete one, or ask an administrator)",
            )

    async def _check_name_free(self, name: str) -> None:
        problem = names.name_problem(name)
        if problem:
            raise _field_error(422, "name", problem)
        if self.store.get(name):
            raise _field_error(409, "name", f"a project named {name!r} exists already")
        if await self._hub("group", names.member_group(name)):
            raise _field_error(409, "name", f"the hub group {names.member_group(name)!r} exists already")
        collab = await self._hub("user", names.collab_user(name))
        if collab and names.COLLAB_GROUP not in collab.get("groups", []):
            raise _field_error(
                409, "name", f"{name!r} cannot be used: its collaboration account {names.collab_user(name)!r} is a user"
            )
        if await self._on_engine(volumes.exists, self.volume(name)):
            raise _field_error(
                409,
                "name",
                f"a volume {self.volume(name)!r} exists already, left from an earlier project: "
                "an administrator restores or removes it first",
            )

    async def create(self, caller: Caller, data: Any, owners: list[str] | None = None) -> dict:
        """A new project (``data`` as :class:`~.models.NewProject`); the caller (or ``owners``, at the
        command line) owns it."""
        self._check_use(caller)
        fields = _checked(NewProject, data)
        name = fields.name
        await self._may_create(caller)
        owner_names = list(owners) if owners else [caller.name]
        for owner in owner_names:
            await self._existing_person(owner)
        async with self._lock:
            await self._check_name_free(name)
            row = self.store.add(
                name,
                fields.title or name,
                fields.description or "",
                created_by=caller.name,
                owner_names=owner_names,
            )
            try:
                labels = {"org.statcommons.project": name, "org.statcommons.target": f"/mnt/projects/{name}"}
                cap = {"size": self.options.volume_size, "images": self.options.volume_images}
                await self._on_engine(volumes.create, self.volume(name), labels=labels, **self._helper_options, **cap)
                await self._hub("create_group", names.member_group(name), owner_names, {names.GROUP_PROPERTY: name})
                self._joined(name, owner_names)
            except ProjectError:
                self.store.forget(row["id"])
                await self._quietly(self.hub.delete_group(names.member_group(name)))
                images = self.options.volume_images
                await self._quietly(asyncio.to_thread(volumes.remove, self.engine, self.volume(name), images))
                raise
        log.info("%s created the project %s", caller.name, name)
        return self._model(row, owner_names, caller)

    async def update(self, caller: Caller, name: str, data: Any) -> dict:
        """Change the title or the description (``data`` as :class:`~.models.ProjectChange`)."""
        row, users = await self._owned(caller, name)
        fields = _checked(ProjectChange, data).model_dump(exclude_unset=True)
        if fields:
            self.store.update(row["id"], **fields)
        return await self.get(caller, name)

    # --- members ------------------------------------------------------------------
    async def _existing_person(self, username: Any) -> dict:
        if not isinstance(username, str) or not username:
            raise _field_error(422, "user", "a username is required")
        user = await self._hub("user", username)
        if user is None:
            raise ProjectError(404, f"there is no hub user {username!r}")
        if names.COLLAB_GROUP in user.get("groups", []):
            raise ProjectError(422, f"{username!r} is a project's collaboration account, not a person")
        return user

    async def set_member(self, caller: Caller, name: str, username: str, data: Any = None) -> dict:
        """Add ``username`` with a role (``data`` as :class:`~.models.Membership`: ``member`` by
        default), or change their role."""
        role = _checked(Membership, {} if data is None else data).role
        row, users = await self._owned(caller, name)
        await self._existing_person(username)
        owners = [u for u in row["owners"] if u in users]
        if role == "member" and owners == [username]:
            raise ProjectError(409, f"{username} is the last owner of {name}: make someone else an owner first")
        if username not in users:
            await self._hub("add_users", names.member_group(name), [username])
            self._joined(name, [username])
            servers = self._servers(required=False)
            if servers is not None and hasattr(servers, "sync"):
                # A running project server learns of the new member at once.
                await self._quietly(servers.sync(name))
        self.store.set_owner(row["id"], username, role == "owner")
        log.info("%s made %s %s of %s", caller.name, username, "an owner" if role == "owner" else "a member", name)
        return await self.get(caller, name)

    async def remove_member(self, caller: Caller, name: str, username: str) -> None:
        """Take ``username`` out of the project (owners do it; a member may leave)."""
        if caller.name == username:
            row, users = await self._visible(caller, name)
        else:
            row, users = await self._owned(caller, name)
        if username not in users:
            raise ProjectError(404, f"{username} is not a member of {name}")
        owners = [u for u in row["owners"] if u in users]
        if owners == [username]:
            raise ProjectError(
                409, f"{username} is the last owner of {name}: make someone else an owner first, or delete the project"
            )
        await self._hub("remove_users", names.member_group(name), [username])
        self._left(name, [username])
        self.store.set_owner(row["id"], username, False)
        log.info("%s removed %s from %s", caller.name, username, name)
        self._members_seen.setdefault(name, set(users)).discard(username)
        await self._put_out(name, [username], by=caller.name)

    # --- putting removed members out ----------------------------------------------
    async def _put_out(self, name: str, usernames: list[str], by: str | None = None) -> None:
        """Take away every credential and mount the removed ``usernames`` held, at once.

        The project server stops (the hub deletes its API token, which every member could read
        from its environment, and every process on it ends) and starts again with a new token; a
        removed member's own server that has the project's folder mounted stops and starts again
        without it, and a notice tells them why. What fails here is logged and tried again by
        :meth:`enforce`.
        """
        async with self._putting_out:
            await self._put_out_now(name, usernames, by)

    async def _put_out_now(self, name: str, usernames: list[str], by: str | None) -> None:
        began = time.monotonic()
        holders = set(await self._users_of_volume(name, running=True))
        # The stops run side by side: each takes seconds on a busy engine, and the removal
        # counts from the first to the last.
        await asyncio.gather(
            self._renew_project_server(name, usernames),
            *(self._restart_without(name, u, by) for u in usernames if u in holders),
        )
        log.info("put %s out of %s in %.1f s", ", ".join(usernames), name, time.monotonic() - began)

    async def _renew_project_server(self, name: str, usernames: list[str]) -> None:
        servers = self._servers(required=False)
        if servers is None:
            return
        for username in usernames:
            await self._quietly(servers.revoke(name, username))
        try:
            if (await servers.status(name))["running"]:
                began = time.monotonic()
                await servers.stop(name)
                self._later(servers.start(name), f"starting the project server of {name} again")
                log.info(
                    "stopped the project server of %s in %.1f s: it restarts with a new token",
                    name,
                    time.monotonic() - began,
                )
        except ServiceError as e:
            log.warning("could not restart the project server of %s: %s", name, e.message)

    async def _restart_without(self, name: str, username: str, by: str | None) -> None:
        began = time.monotonic()
        try:
            server = await self.hub.stop_server(username)
        except ServiceError as e:
            log.warning("could not stop %s's server, which mounts %s: %s", username, name, e.message)
            return
        if server is None:
            return
        if by == username:
            why = f"You left the project {name}"
        elif by:
            why = f"{by} removed you from the project {name}"
        else:
            why = f"You are no longer a member of the project {name}"
        self.store.add_notice(username, name, f"{why}: your server was restarted without its folder ~/projects/{name}.")
        options = server.get("user_options") or {}
        self._later(self.hub.start_server(username, options), f"starting {username}'s server again")
        log.info(
            "stopped %s's server in %.1f s: it restarts without the project %s",
            username,
            time.monotonic() - began,
            name,
        )

    def _later(self, awaitable, what: str) -> None:
        """Run ``awaitable`` in the background (a start may take a minute); log how it ended."""

        async def run():
            try:
                await awaitable
            except Exception as e:
                log.warning("%s failed: %s", what, e)

        task = asyncio.ensure_future(run())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def enforce(self) -> None:
        """Put out whoever is no longer a member but still holds a project's mount or server access.

        Catches removals made elsewhere (the hub's admin page, another admin's script) and what
        :meth:`_put_out` could not finish: servers still mounting a project of which their user
        is no longer a member restart without it, and a project server that lost a member since
        the last look gets a new token.
        """
        async with self._putting_out:
            await self._enforce_now()

    async def _enforce_now(self) -> None:
        groups = await self._memberships(fresh=True)
        for row in self.store.live():
            name = row["name"]
            members = groups.get(names.member_group(name), set())
            seen = self._members_seen.get(name)
            self._members_seen[name] = set(members)
            holders = set(await self._users_of_volume(name, running=True))
            gone = sorted(holders - members)
            if seen is not None and seen - members:
                await self._put_out_now(name, sorted((seen - members) | set(gone)), None)
            elif gone:
                await self._put_out_now(name, gone, None)

    async def upgrade(self) -> None:
        """Move the collaboration accounts out of the group of an earlier release (``project-servers``).

        That name was also the member group a project named ``servers`` would get; the accounts
        now have a group no project can be given (:data:`names.COLLAB_GROUP`).
        """
        legacy = await self._hub("group", names.LEGACY_COLLAB_GROUP)
        if legacy is None:
            return
        accounts = [u for u in legacy.get("users", []) if names.project_of_collab_user(u)]
        if accounts:
            if await self._hub("group", names.COLLAB_GROUP) is None:
                await self._hub("create_group", names.COLLAB_GROUP, accounts, {})
            else:
                await self._hub("add_users", names.COLLAB_GROUP, accounts)
        if names.project_of_group(legacy["name"], legacy.get("properties")):
            if accounts:  # a project named "servers": its members stay, the accounts go
                await self._hub("remove_users", names.LEGACY_COLLAB_GROUP, accounts)
        else:
            await self._hub("delete_group", names.LEGACY_COLLAB_GROUP)
        log.info("moved %d collaboration accounts to the group %s", len(accounts), names.COLLAB_GROUP)

    def notices(self, caller: Caller) -> list[dict]:
        return self.store.notices(caller.name)

    def dismiss(self, caller: Caller, notice_id: str) -> None:
        if not str(notice_id).isdigit() or not self.store.dismiss(caller.name, int(notice_id)):
            raise ProjectError(404, f"you have no notice {notice_id!r}")

    # --- deleting and restoring ---------------------------------------------------
    async def _users_of_volume(self, name: str, running: bool = False) -> list[str]:
        """Whose servers have the project's folder mounted (its own collaboration server aside)."""
        found = set()
        for container in await self._on_engine(volumes.users_of, self.volume(name)):
            if running and container.get("State") != "running":
                continue
            user = (container.get("Labels") or {}).get("org.statcommons.user")
            if user is None:
                user = (container.get("Names") or ["?"])[0].lstrip("/")
            if names.project_of_collab_user(user) != name:
                found.add(user)
        return sorted(found)

    async def delete(self, caller: Caller, name: str) -> dict:
        """Archive the project's files, then remove its volume, group, collaboration account and record."""
        row, users = await self._owned(caller, name)
        async with self._lock:
            holders = await self._users_of_volume(name)
            if holders:
                raise ProjectError(
                    409,
                    f"{name} cannot be deleted while servers have its folder mounted ({', '.join(holders)}): "
                    "they stop their servers first (File > Hub Control Panel > Stop My Server)",
                )
            servers = self._servers(required=False)
            if servers is not None:
                await self._collab(servers.remove(name))
            stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
            destination = self.options.archive_folder / f"{name}-{stamp}.tar.gz"
            if await self._on_engine(volumes.exists, self.volume(name)):
                await self._on_engine(volumes.archive, self.volume(name), destination, **self._helper_options)
            else:
                destination = None
            await self._hub("delete_group", names.member_group(name))
            if self._groups is not None:
                self._groups.pop(names.member_group(name), None)
            if destination is not None:
                await self._on_engine(volumes.remove, self.volume(name), self.options.volume_images)
            self.store.archive(row["id"], str(destination) if destination else None)
        log.info("%s deleted the project %s (archive: %s)", caller.name, name, destination)
        return {"name": name, "archive": destination.name if destination else None}

    async def restore(self, caller: Caller, archive: Path, owners: list[str] | None = None, name: str | None = None):
        """A new project from a deleted project's archive, owned by ``owners`` (default: its owners then)."""
        if not caller.admin:
            raise ProjectError(403, "only administrators restore projects")
        archive = Path(archive).resolve()
        if not archive.is_file():
            raise ProjectError(404, f"{archive}: no such archive")
        try:
            with tarfile.open(archive, "r:gz") as tar:
                tar.getmembers()
        except (tarfile.TarError, OSError, EOFError) as e:
            raise ProjectError(422, f"{archive}: not a .tar.gz archive: {e}") from None
        earlier = self.store.by_archive(str(archive)) or {}
        match = ARCHIVE_NAME.match(archive.name)
        name = name or earlier.get("name") or (match and match["name"])
        if not name:
            raise ProjectError(422, f"{archive.name}: the project's name is not known: give one")
        owners = owners or earlier.get("owners")
        if not owners:
            raise ProjectError(422, f"{archive.name}: the owners are not known: give at least one")
        data = {"name": name, "title": earlier.get("title") or name, "description": earlier.get("description", "")}
        try:
            project = await self.create(caller, data, owners=owners)
        except ProjectError as e:
            if e.status == 409:
                e.message += " (restore it under another name: --name)"
            raise
        try:
            await self._on_engine(volumes.restore, self.volume(name), archive, **self._helper_options)
        except ProjectError:
            await self._quietly(self._undo(name))
            raise
        log.info("restored the project %s from %s", name, archive)
        return project

    async def _undo(self, name: str) -> None:
        row = self.store.get(name)
        await self.hub.delete_group(names.member_group(name))
        await asyncio.to_thread(volumes.remove, self.engine, self.volume(name), self.options.volume_images)
        if row:
            self.store.forget(row["id"])

    # --- collaboration servers ---------------------------------------------------
    def _servers(self, required: bool = True):
        try:
            from . import collab
        except ImportError:
            if required:
                raise ProjectError(503, "project servers are not available") from None
            return None
        return collab.ProjectServers(self.hub.api, self.hub.token, log=log, public_url=self.options.proxy_url)

    async def _collab(self, awaitable):
        try:
            return await awaitable
        except ServiceError as e:  # the hub or the project server refused
            raise ProjectError(_status_of(e), f"the project server: {e.message}") from None

    async def start_server(self, caller: Caller, name: str) -> dict:
        await self._visible(caller, name)
        url = await self._collab(self._servers().start(name))
        return {"running": True, "url": url}

    async def stop_server(self, caller: Caller, name: str) -> None:
        await self._visible(caller, name)
        await self._collab(self._servers().stop(name))

    async def server_status(self, caller: Caller, name: str) -> dict:
        await self._visible(caller, name)
        return await self._collab(self._servers().status(name))

    @staticmethod
    async def _quietly(awaitable) -> None:
        try:
            await awaitable
        except Exception as e:  # clean-up after a failure already reported: log, never mask it
            log.warning("clean-up step failed: %s", e)
