"""From a user's server, the hub and everything of other users is reachable only through the hub's proxy.

In its own network namespace a server reaches this machine's 127.0.0.1 at its gateway, where the
public proxy listens. The hub's API, the services, the proxy's API and every server's published
port listen on the internal address (127.0.0.2): from inside a container, none of their ports
answers; through the proxy each asks for the hub's credentials, as from a browser.
"""

from __future__ import annotations

import json

import pytest

from ..hubtools import FROM_CONTAINERS

pytestmark = pytest.mark.containers

#: Try to connect to each (host, port); print which connected.
CONNECT = r"""
import json, socket
found = {{}}
for host, port in {targets!r}:
    s = socket.socket()
    s.settimeout(3)
    try:
        s.connect((host, port))
        found[f"{{host}}:{{port}}"] = "open"
    except OSError as e:
        found[f"{{host}}:{{port}}"] = type(e).__name__
    finally:
        s.close()
print(json.dumps(found))
"""


def test_a_server_reaches_nothing_of_the_hub_or_others_but_through_the_proxy(users):
    users.start_server("anna")
    users.start_server("bruno")
    hub = users.hub
    bruno_port = users.container("bruno").attrs["HostConfig"]["PortBindings"]["8888/tcp"][0]
    assert bruno_port["HostIp"] == "127.0.0.2"
    closed = {
        "the hub's API": hub.api_port,
        "the proxy's API": hub.port + 1,
        "the library": hub.library_port,
        "the runner": hub.runner_port,
        "the projects service": hub.projects_port,
        "bruno's server": int(bruno_port["HostPort"]),
    }
    targets = [(FROM_CONTAINERS, port) for port in closed.values()] + [(FROM_CONTAINERS, hub.port)]
    found = json.loads(users.run_as(users.container("anna"), CONNECT.format(targets=targets)).strip().splitlines()[-1])
    for what, port in closed.items():
        assert found[f"{FROM_CONTAINERS}:{port}"] != "open", what
    assert found[f"{FROM_CONTAINERS}:{hub.port}"] == "open"  # the public proxy, as for a browser

    # Through the proxy, bruno's server and the hub's API want credentials; anna's own server token works.
    script = (
        "import os, urllib.request, urllib.error\n"
        f"base = 'http://{FROM_CONTAINERS}:{hub.port}'\n"
        "def status(url, token=None):\n"
        "    request = urllib.request.Request(url, headers={'Authorization': f'token {token}'} if token else {})\n"
        "    try:\n"
        "        return urllib.request.urlopen(request, timeout=10).status\n"
        "    except urllib.error.HTTPError as e:\n"
        "        return e.code\n"
        "own = os.environ['JUPYTERHUB_API_TOKEN']\n"
        "print(status(base + '/user/bruno/api/contents'), status(base + '/user/bruno/api/contents', own),\n"
        "      status(base + '/hub/api/user', own), status(base + '/hub/api/users'))\n"
    )
    answers = users.run_as(users.container("anna"), script).split()
    bruno_anonymous, bruno_with_annas_token, hub_self, hub_anonymous = (int(a) for a in answers[-4:])
    assert bruno_anonymous in (302, 403) and bruno_with_annas_token == 403
    assert hub_self == 200 and hub_anonymous in (401, 403)
