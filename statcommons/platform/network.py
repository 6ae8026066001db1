"""How containers are networked: the modes of ``engine.network`` and what each gives a container.

Three modes (see the README's "Container engine and network modes"):

* ``slirp4netns`` (the default, Podman): every server and every run has its own network
  namespace, with its own loopback that nothing else shares. Podman's slirp4netns gives it a
  user-mode network whose gateway is the host's 127.0.0.1 (``allow_host_loopback``), where the
  hub's public proxy listens: a server reaches the hub's API and the services through that
  proxy, like a browser. The hub, the services, the proxy's API and servers' published ports
  listen on the host's internal address (``hub.internal_ip``, 127.0.0.2), which no container
  reaches. Kernels, debuggers and anything else a user starts listen inside their own
  namespace, out of other users' reach.
* ``host``: containers share the host's network; every server listens on its own loopback port.
  Nothing is isolated at the network level (a trial on one machine).
* ``bridge``: a Docker network of a production Docker host; containers reach the hub at
  ``engine.hub_connect_url``.

Pure functions of the settings: the spawner, the runner and the configuration all ask here.
"""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit

#: The port a server listens on inside its own namespace (published on a free host port).
CONTAINER_PORT = 8888
#: Address ranges slirp4netns' network must stay out of: private networks (where traffic may
#: leave the machine or be mistaken for it) and loopback.
RESERVED = tuple(
    ipaddress.ip_network(n) for n in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "127.0.0.0/8")
)


def cidr_problem(cidr: object) -> str | None:
    """Why ``cidr`` cannot be slirp4netns' network, or None when it can."""
    try:
        network = ipaddress.ip_network(str(cidr), strict=True)
    except ValueError:
        return "expected an IPv4 network such as 100.64.7.0/24"
    if network.version != 4 or network.prefixlen > 24:
        return "expected an IPv4 network of at least 256 addresses (a prefix of /24 or shorter)"
    for reserved in RESERVED:
        if network.overlaps(reserved):
            return f"it overlaps {reserved}: use a network outside 10/8, 172.16/12, 192.168/16 and 127/8"
    return None


def gateway(cidr: str) -> str:
    """The address at which a slirp4netns container reaches the host's loopback (the network's .2)."""
    return str(ipaddress.ip_network(cidr)[2])


def isolated(settings: dict) -> bool:
    """Whether every container gets a network namespace of its own (slirp4netns)."""
    return settings["engine"]["network"] == "slirp4netns"


def container_network(settings: dict) -> str:
    """The engine's ``network_mode`` for servers and runs."""
    engine = settings["engine"]
    if engine["network"] == "slirp4netns":
        return f"slirp4netns:allow_host_loopback=true,cidr={engine['slirp4netns_cidr']}"
    if engine["network"] == "bridge":
        return engine["bridge_network"]
    return "host"


def internal_ip(settings: dict) -> str:
    """Where the hub's API, the services, the proxy's API and servers' ports listen on this machine."""
    return settings["hub"]["internal_ip"]


def _host(address: str) -> str:
    return f"[{address}]" if ":" in address else address


def hub_from_container(settings: dict) -> str | None:
    """The URL (no path) at which a server reaches the hub's API, when it is not the hub's own.

    In slirp4netns mode that is the public proxy, on the host's 127.0.0.1 that the gateway
    leads to; in host mode the hub's own internal address.
    """
    engine, hub = settings["engine"], settings["hub"]
    if engine["network"] == "slirp4netns":
        return f"http://{gateway(engine['slirp4netns_cidr'])}:{hub['port']}"
    if engine["network"] == "host":
        return f"http://{_host(internal_ip(settings))}:{hub['api_port']}"
    return None


def service_url_from_container(settings: dict, service: str) -> str:
    """The base URL at which a server reaches a StatCommons service (``.../services/<name>/``)."""
    engine, hub = settings["engine"], settings["hub"]
    path = f"{hub['base_url']}services/{service}/"
    if engine["network"] == "slirp4netns":
        return f"http://{gateway(engine['slirp4netns_cidr'])}:{hub['port']}{path}"
    if engine["network"] == "bridge" and engine.get("hub_connect_url"):
        host = urlsplit(engine["hub_connect_url"]).hostname or "127.0.0.1"
    else:
        host = internal_ip(settings)
    return f"http://{_host(host)}:{settings[service]['port']}{path}"
