"""StatCommonsSpawner: DockerSpawner driven by an engine-neutral ServerSpec.

The spawner only translates: :func:`statcommons.hub.serverspec.server_spec`
decides what a server gets, :func:`docker_options` turns that into
DockerSpawner settings.  Users choose a profile from the allowlist; any other
spawn option (an image, say) is refused with a 400.

The projects a user's server mounts come from the user's hub groups, read in
the hub at each start: the member groups the projects service made (marked in
their properties).  A user in the hub group of collaboration accounts gets the
server of their project instead (:func:`statcommons.hub.serverspec.project_server_spec`);
the username alone is never trusted for that.
"""

from __future__ import annotations

import asyncio
import dataclasses
import os
import time
from html import escape as html_escape
from urllib.parse import urlsplit

import docker
from dockerspawner import DockerSpawner
from jupyterhub import orm
from jupyterhub.spawner import Spawner
from jupyterhub.utils import random_port
from tornado import web
from tornado.httpclient import AsyncHTTPClient, HTTPClientError
from traitlets import Dict, Enum, Float, Integer, Unicode, default

from ..platform import diskcap, names, volumes
from ..platform.containers import HOME, PROJECTS_MOUNT, is_podman
from ..platform.network import CONTAINER_PORT
from .serverspec import ServerSpec, UserOptionsError, project_server_spec, server_spec


async def _listening(host: str, port: int) -> bool:
    try:
        _, writer = await asyncio.open_connection(host, port)
    except OSError:
        return False
    writer.close()
    return True


def host_config(spec: ServerSpec) -> dict:
    """The engine's host configuration a spec adds: its process limit, its in-memory folders,
    and the image read-only (a server writes only to its volumes and those folders)."""
    found: dict = {"read_only": True}
    if spec.pids_limit:
        found["pids_limit"] = spec.pids_limit
    if spec.tmpfs:
        found["tmpfs"] = {path: tmpfs_options(path, size, spec) for path, size in spec.tmpfs.items()}
    return found


def tmpfs_options(path: str, size: int, spec: ServerSpec) -> str:
    """A scratch folder for everyone (sticky, like /tmp), or a home without a volume, the server user's.

    ``U`` is Podman's: the folder belongs to the container's user (it copies the image's files in).
    """
    if path == HOME:
        return f"size={size},mode=0755,U"
    return f"size={size},mode=1777"


def docker_options(spec: ServerSpec) -> dict:
    """DockerSpawner trait values for a spec (the only Docker-specific mapping)."""
    return {
        "image": spec.image,
        # A key that is an absolute path is a folder of the host (a bind mount), any other a named volume.
        "volumes": {m.volume: {"bind": m.target, "mode": "ro" if m.read_only else "rw"} for m in spec.mounts},
        "mem_limit": spec.mem_limit,
        "cpu_limit": spec.cpu_limit,
        "environment": dict(spec.environment),
        "notebook_dir": spec.workdir,
    }


class StatCommonsSpawner(DockerSpawner):
    """Start each user's JupyterLab in its own container, from an allowlisted profile."""

    settings = Dict(
        help="The validated StatCommons settings (profiles, default profile, name prefix).",
    ).tag(config=True)

    network_mode = Enum(
        ["slirp4netns", "host", "bridge"],
        default_value="slirp4netns",
        help="""slirp4netns: each server in its own network namespace, its port published on a
        free port of the host's loopback (Podman); host: each server on its own free loopback
        port in the host's network (single machine, trial); bridge: servers on a Docker network
        (production). See statcommons.platform.network.""",
    ).tag(config=True)

    loopback_ip = Unicode(
        "127.0.0.2",
        help="""Address of the host where servers listen (host mode) or are published (slirp4netns):
        the internal address (hub.internal_ip), which containers do not reach.""",
    ).tag(config=True)

    volume_images = Unicode(
        help="The folder of the images of size-capped volumes (statcommons.platform.diskcap): <state>/volumes."
    ).tag(config=True)

    host_port = Integer(
        0, help="The host port a server's port is published on (slirp4netns mode); chosen at each start."
    )

    ready_check_interval = Float(
        0.05,
        help="""Seconds between checks that a starting server answers.

        The hub's own check backs off exponentially (0.2 s, 0.4 s, 0.8 s, ...), so it
        notices a ready server up to a second late; the spawner checks often and
        cheaply on loopback, and returns only when the server answers.""",
    ).tag(config=True)

    @default("options_form")
    def _options_form_default(self):
        profiles = self.settings.get("profiles", {})
        if len(profiles) < 2:
            return ""
        default_name = self.settings["default_profile"]
        choices = "".join(
            '<label class="form-check" style="display:block;margin:0.5em 0">'
            f'<input class="form-check-input" type="radio" name="profile" value="{html_escape(name)}"'
            f"{' checked' if name == default_name else ''}> "
            f"<strong>{html_escape(p['display_name'])}</strong>"
            f' <span class="text-muted">{html_escape(p.get("description", ""))}</span></label>'
            for name, p in profiles.items()
        )
        return f"<fieldset><legend>Choose an environment</legend>{choices}</fieldset>"

    def options_from_form(self, formdata):
        options = {"profile": formdata.get("profile", [self.settings["default_profile"]])[0]}
        server_spec(self.settings, self.user.name, options)  # refuses a profile not allowed
        return options

    def member_projects(self) -> list[str]:
        """The projects whose member group (made by the projects service) holds the user."""
        return names.projects_of(self.user)

    def collab_project(self) -> str | None:
        """The project whose collaboration account this user is, checked in the hub (None for people)."""
        if names.COLLAB_GROUP not in {g.name for g in self.user.groups}:
            return None
        project = names.project_of_collab_user(self.user.name)
        group = orm.Group.find(self.user.db, names.member_group(project)) if project else None
        if group is None or names.project_of_group(group.name, group.properties) != project:
            raise web.HTTPError(400, f"{self.user.name!r} is a collaboration account of no existing project")
        return project

    def spec(self) -> ServerSpec:
        try:
            project = self.collab_project()
            if project is not None:
                return project_server_spec(self.settings, project, self.user_options)
            return server_spec(self.settings, self.user.name, self.user_options, projects=self.member_projects())
        except UserOptionsError as e:
            raise web.HTTPError(400, str(e)) from None

    def _without_missing_folders(self, spec: ServerSpec) -> ServerSpec:
        """Bind mounts of host folders that exist (an engine would make a missing one, root-owned, or fail)."""
        kept = []
        for mount in spec.mounts:
            if mount.bind and not os.path.isdir(mount.volume):
                self.log.warning("Not mounting %s at %s: no such folder on the host", mount.volume, mount.target)
                continue
            kept.append(mount)
        return dataclasses.replace(spec, mounts=tuple(kept))

    async def start(self):
        spec = self._without_missing_folders(self.spec())
        for name, value in docker_options(spec).items():
            setattr(self, name, value)
        self.extra_host_config = {**self.extra_host_config, **host_config(spec)}
        self.user_options = {"profile": spec.profile}  # nothing else reaches DockerSpawner
        if self.network_mode == "host":
            self.ip = self.loopback_ip
            self.port = random_port()
        elif self.network_mode == "slirp4netns":
            # Inside its own namespace the server listens on every interface of that namespace;
            # only its port is published, on the host's loopback.
            self.ip = "0.0.0.0"
            self.port = CONTAINER_PORT
            self.host_port = random_port()
            self.extra_host_config = {
                **self.extra_host_config,
                "port_bindings": {CONTAINER_PORT: (self.loopback_ip, self.host_port)},
            }
        self._progress = [f"Starting a {spec.profile} server from {spec.image}"]
        await self.ensure_volumes(spec)
        ip, port = await super().start()
        self._progress.append("Container started, waiting for JupyterLab to answer")
        await self.wait_answering(f"http://{ip}:{port}{self.server.base_url}")
        self._progress.append("JupyterLab is ready")
        return ip, port

    async def ensure_volumes(self, spec: ServerSpec) -> None:
        """Create missing volumes owned by the server's user.

        Left to the engine, a volume takes the ownership of whatever image mounts it
        first, and stays root-owned for good if that image lacks the folder.  Podman
        sets the owner at creation; Docker copies it from the lab image on first use.
        """
        podman = await self._engine_is_podman()
        for mount in spec.mounts:
            if mount.bind:
                continue
            try:
                await self.docker("inspect_volume", mount.volume)
                continue
            except docker.errors.NotFound:
                pass
            opts = {}
            if podman and mount.owner:
                opts = {"o": f"uid={mount.owner[0]},gid={mount.owner[1]}"}
            if mount.size and mount.owner:
                if podman:
                    opts = await asyncio.to_thread(
                        diskcap.driver_options, self.volume_images, mount.volume, mount.size, mount.owner
                    )
                elif not getattr(type(self), "_cap_warned", False):
                    type(self)._cap_warned = True
                    self.log.warning("Volumes are not capped in size with Docker (its local driver cannot loop-mount)")
            labels = {"org.statcommons.target": mount.target}
            project = mount.target.split("/")[-1] if mount.target.startswith(PROJECTS_MOUNT + "/") else None
            if project and not podman and mount.owner:
                # Docker copies ownership from the image only where the image has the folder.
                ulimits = self.settings.get("engine", {}).get("ulimits", {})
                labels["org.statcommons.project"] = project
                await asyncio.to_thread(
                    volumes.create, self.client, mount.volume, image=spec.image, labels=labels, ulimits=ulimits
                )
            else:
                labels["org.statcommons.project" if project else "org.statcommons.user"] = project or self.user.name
                await self.docker("create_volume", mount.volume, driver_opts=opts, labels=labels)
            self.log.info("Created volume %s for %s", mount.volume, self.user.name)

    async def _engine_is_podman(self) -> bool:
        cls = type(self)
        if getattr(cls, "_podman", None) is None:
            cls._podman = is_podman(await self.docker("version"))
        return cls._podman

    async def wait_answering(self, url: str) -> None:
        """Return once the server gives any non-5xx answer, as the hub's own check wants.

        A TCP connect is tried every ``ready_check_interval`` (cheap); HTTP only once
        something listens.  The container is polled every few seconds so that a server
        that dies while starting fails the spawn at once.
        """
        parts = urlsplit(url)
        client = AsyncHTTPClient()
        next_poll = time.monotonic() + 3
        while True:
            if await _listening(parts.hostname, parts.port):
                try:
                    await client.fetch(url, follow_redirects=False, request_timeout=5)
                    return
                except HTTPClientError as e:
                    if e.code < 500:
                        return
                except OSError:
                    pass
            if time.monotonic() > next_poll:
                next_poll = time.monotonic() + 3
                status = await self.poll()
                if status is not None:
                    raise RuntimeError(f"the server stopped while starting (exit status {status})")
            await asyncio.sleep(self.ready_check_interval)

    async def progress(self):
        """Steps shown on the hub's spawn-pending page."""
        sent = 0
        total = 3
        while True:
            events = getattr(self, "_progress", [])
            for message in events[sent:]:
                sent += 1
                yield {"progress": int(100 * sent / (total + 1)), "message": message}
            if sent >= total or (self._spawn_future and self._spawn_future.done()):
                return
            await asyncio.sleep(0.2)

    async def get_ip_and_port(self):
        if self.network_mode == "host":
            return self.loopback_ip, self.port
        if self.network_mode == "slirp4netns":
            return self.loopback_ip, self.host_port
        return await super().get_ip_and_port()

    def get_state(self):
        state = super().get_state()
        if self.object_id and self.network_mode == "host":
            state["port"] = self.port
        if self.object_id and self.network_mode == "slirp4netns" and self.host_port:
            state["host_port"] = self.host_port
        return state

    def load_state(self, state):
        super().load_state(state)
        if state.get("port"):
            self.port = state["port"]
        if state.get("host_port"):
            self.host_port = state["host_port"]

    def clear_state(self):
        super().clear_state()
        self.host_port = 0


#: Why a hub without a container engine starts nobody's server.
NO_ENGINE = "this hub has no container engine (engine.kind: none): no server can start on it"


class NoEngineSpawner(Spawner):
    """The spawner of a hub with no container engine (``engine.kind: none``): every start is refused, saying why.

    Such a hub serves the library (and the hub's own pages) only; nothing on it ever runs.
    """

    async def start(self):
        raise web.HTTPError(503, NO_ENGINE)

    async def poll(self):
        return 0  # never running

    async def stop(self, now=False):
        return None
