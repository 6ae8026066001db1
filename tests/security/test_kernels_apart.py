"""No user's code can observe another user's kernels, nor listen outside its own server.

The reproduction: with host networking every kernel's ZMQ ports listened on the shared
loopback, so user A read /proc/net/tcp, subscribed to every listening port and received every
cell user B ran, code and output. Each server now has a network namespace of its own.

Each attack is also run where it must succeed (B against B's own kernel), so that a broken
attack cannot pass for a defence.
"""

from __future__ import annotations

import json
import secrets
import threading
import time

import pytest
import requests

from ..hubtools import FROM_CONTAINERS as GATEWAY
from ..hubtools import wait_for

pytestmark = pytest.mark.containers

#: Subscribe to every address given and to every port listening in the caller's own namespace,
#: for ``seconds``; print how many messages carried ``secret``.
EAVESDROP = r"""
import json, time, zmq
targets, secret, seconds = {targets!r}, {secret!r}, {seconds!r}
ports = set()
for table in ("/proc/net/tcp", "/proc/net/tcp6"):
    try:
        lines = open(table).read().splitlines()[1:]
    except OSError:
        continue
    for line in lines:
        fields = line.split()
        if fields[3] == "0A":  # LISTEN
            ports.add(int(fields[1].rsplit(":", 1)[1], 16))
targets = list(targets) + [f"tcp://127.0.0.1:{{p}}" for p in sorted(ports)]
context = zmq.Context()
poller = zmq.Poller()
for address in targets:
    sock = context.socket(zmq.SUB)
    sock.setsockopt(zmq.LINGER, 0)
    sock.setsockopt(zmq.SUBSCRIBE, b"")
    sock.connect(address)
    poller.register(sock, zmq.POLLIN)
seen = 0
deadline = time.monotonic() + seconds
while time.monotonic() < deadline:
    for sock, _ in poller.poll(200):
        frames = sock.recv_multipart()
        if any(secret.encode() in f for f in frames):
            seen += 1
print(json.dumps({{"seen": seen, "subscribed": len(targets)}}))
"""

#: Run cells in the kernel whose connection file is given, printing ``secret`` again and again.
VICTIM = r"""
import time
from jupyter_client import BlockingKernelClient
client = BlockingKernelClient(connection_file={connection_file!r})
client.load_connection_file()
client.start_channels()
deadline = time.monotonic() + {seconds!r}
while time.monotonic() < deadline:
    client.execute("print({secret!r})")
    time.sleep(0.25)
client.stop_channels()
print("done")
"""


def _kernel(users, name: str) -> dict:
    """Start a kernel on ``name``'s server through its REST API; its connection info."""
    r = users.server_api(name, "POST", "api/kernels", json={"name": "python3"})
    assert r.status_code == 201, r.text
    kernel_id = r.json()["id"]
    path = f"/home/jovyan/.local/share/jupyter/runtime/kernel-{kernel_id}.json"
    container = users.container(name)
    out = container.exec_run(["cat", path], user="1000:100")
    assert out.exit_code == 0, out.output
    info = json.loads(out.output)
    info["file"] = path
    return info


def _eavesdrop(users, attacker_container, victim_container, kernel: dict, targets: list[str]) -> dict:
    """Run the victim's cells and the attacker's subscriptions at the same time; what the attacker saw."""
    secret = "SECRET-" + secrets.token_hex(8)
    victim = VICTIM.format(connection_file=kernel["file"], seconds=10, secret=secret)
    thread = threading.Thread(target=users.run_as, args=(victim_container, victim), daemon=True)
    thread.start()
    time.sleep(1)
    try:
        attack = EAVESDROP.format(targets=targets, secret=secret, seconds=6)
        return json.loads(users.run_as(attacker_container, attack).strip().splitlines()[-1])
    finally:
        thread.join(30)


def _ports(kernel: dict) -> list[int]:
    return [kernel[k] for k in ("iopub_port", "shell_port", "control_port", "stdin_port", "hb_port")]


def test_a_user_cannot_read_another_users_kernel(users):
    users.start_server("anna")
    users.start_server("bruno")
    kernel = _kernel(users, "bruno")
    assert kernel["transport"] == "tcp"
    bruno, anna = users.container("bruno"), users.container("anna")

    # The attack works where the kernel lives: bruno subscribing to his own kernel sees his cells.
    own = _eavesdrop(users, bruno, bruno, kernel, [f"tcp://127.0.0.1:{kernel['iopub_port']}"])
    assert own["seen"] > 0, own

    # Anna aims at bruno's ports on her loopback and on the way to the host's, and at every
    # port listening where she is: none of bruno's cells reach her.
    targets = [f"tcp://{host}:{port}" for host in ("127.0.0.1", GATEWAY) for port in _ports(kernel)]
    seen = _eavesdrop(users, anna, bruno, kernel, targets)
    assert seen["subscribed"] >= len(targets)
    assert seen["seen"] == 0, seen

    # Nor does she see his ports at all: her /proc/net/tcp is her namespace's.
    listening = users.run_as(anna, "print(open('/proc/net/tcp').read())")
    for port in _ports(kernel):
        assert f":{port:04X} " not in listening


def test_a_listening_socket_stays_inside_its_server(users):
    """A's code listening on every interface (0.0.0.0 and [::]) is not on the host's interfaces."""
    users.start_server("anna")
    anna = users.container("anna")
    port = 20000 + secrets.randbelow(20000)
    listen = (
        "import socket, time\n"
        f"a = socket.socket(); a.bind(('0.0.0.0', {port})); a.listen()\n"
        f"b = socket.socket(socket.AF_INET6); b.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)\n"
        "try:\n"
        f"    b.bind(('::', {port})); b.listen()\n"
        "except OSError:\n"
        "    pass\n"
        "print('listening', flush=True); time.sleep(8)\n"
    )
    thread = threading.Thread(target=users.run_as, args=(anna, listen), daemon=True)
    thread.start()
    time.sleep(2)
    try:
        hexport = f":{port:04X} "
        # It listens in anna's namespace...
        inside = users.run_as(anna, "print(open('/proc/net/tcp').read())")
        assert any(hexport in line and line.split()[3] == "0A" for line in inside.splitlines())
        # ...and on no interface of the host's (read from the host's own tables: nothing is sent).
        for table in ("/proc/net/tcp", "/proc/net/tcp6"):
            with open(table) as f:
                rows = f.read().splitlines()[1:]
            assert not any(hexport in row.split()[1] + " " and row.split()[3] == "0A" for row in rows), table
    finally:
        thread.join(30)


def _notebook(sources: list[str]) -> dict:
    cells = [
        {"cell_type": "code", "id": f"c{i}", "source": s, "metadata": {}, "outputs": [], "execution_count": None}
        for i, s in enumerate(sources)
    ]
    kernel = {"name": "python3", "display_name": "Python 3", "language": "python"}
    return {"nbformat": 4, "nbformat_minor": 5, "metadata": {"kernelspec": kernel}, "cells": cells}


def _listening(container) -> set[int]:
    """The TCP ports listening in ``container``'s network namespace."""
    out = container.exec_run(["cat", "/proc/net/tcp", "/proc/net/tcp6"]).output.decode()
    rows = [line.split() for line in out.splitlines() if line.strip() and not line.lstrip().startswith("sl")]
    return {int(row[1].rsplit(":", 1)[1], 16) for row in rows if len(row) > 3 and row[3] == "0A"}


def _kernel_file(container) -> dict:
    """The connection file of the one kernel running in ``container`` (its user's runtime folder)."""
    found = container.exec_run(
        ["sh", "-c", "ls -t $HOME/.local/share/jupyter/runtime/kernel-*.json | head -1"], user="1000:100"
    )
    path = found.output.decode().strip()
    assert found.exit_code == 0 and path, found.output
    info = json.loads(container.exec_run(["cat", path], user="1000:100").output)
    info["file"] = path
    return info


def test_a_user_cannot_read_another_users_run(users):
    """A run's kernel (the runner's container) is out of other users' reach."""
    users.start_server("anna")
    users.start_server("bruno")
    secret = "SECRET-" + secrets.token_hex(8)
    notebook = _notebook(
        ["import time", f"for _ in range(60):\n    print({secret!r}, flush=True)\n    time.sleep(0.25)"]
    )
    r = users.server_api("anna", "PUT", "api/contents/slow.ipynb", json={"type": "notebook", "content": notebook})
    assert r.status_code in (200, 201), r.text
    runner = f"{users.hub.url}/services/runner/api/runs"
    r = requests_post(runner, users.token("anna"), {"path": "slow.ipynb"})
    assert r.status_code == 201, r.text
    run_id = r.json()["id"]
    headers = {"Authorization": f"token {users.token('anna')}"}

    def run_container():
        """The run's container once its kernel listens (three or more ports: the kernel's channels)."""
        found = [c for c in users.hub.containers() if c.labels.get("org.statcommons.run") == str(run_id)]
        if found and found[0].status == "running" and len(_listening(found[0])) >= 3:
            return found[0]
        status = requests.get(f"{runner}/{run_id}", headers=headers, timeout=30).json()
        assert status["status"] in ("queued", "running"), status
        return None

    container = wait_for(run_container, 90, interval=0.3, what="the run's kernel")
    assert container.attrs["HostConfig"]["NetworkMode"] == "slirp4netns"
    ports = _listening(container)
    targets = [f"tcp://{host}:{port}" for host in ("127.0.0.1", GATEWAY) for port in ports]
    attack = EAVESDROP.format(targets=targets, secret=secret, seconds=4)
    # Where the run lives the attack sees its cells; from bruno's server it sees nothing.
    own = users.run_as(container, EAVESDROP.format(targets=[], secret=secret, seconds=3))
    own = json.loads(own.strip().splitlines()[-1])
    assert own["seen"] > 0, own
    seen = json.loads(users.run_as(users.container("bruno"), attack).strip().splitlines()[-1])
    assert seen["seen"] == 0, seen
    requests.delete(f"{runner}/{run_id}", headers=headers, timeout=30)


def test_a_non_member_cannot_read_a_project_servers_kernel(users):
    users.start_server("bruno")
    projects = f"{users.hub.url}/services/projects/api/projects"
    r = requests_post(projects, users.token("anna"), {"name": "census", "title": "Census", "description": ""})
    assert r.status_code == 201, r.text
    r = requests_post(f"{projects}/census/server", users.token("anna"), {}, timeout=300)
    assert r.status_code in (200, 201), r.text
    r = users.server_api("census-collab", "POST", "api/kernels", as_user="anna", json={"name": "python3"})
    assert r.status_code == 201, r.text
    collab = users.container("census-collab")
    kernel = _kernel_file(collab)
    targets = [f"tcp://{host}:{port}" for host in ("127.0.0.1", GATEWAY) for port in _ports(kernel)]
    seen = _eavesdrop(users, users.container("bruno"), collab, kernel, targets)
    assert seen["seen"] == 0, seen


def requests_post(url: str, token: str, body: dict, timeout: float = 60):
    return requests.post(url, headers={"Authorization": f"token {token}"}, json=body, timeout=timeout)
