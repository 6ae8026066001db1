"""Who a request comes from: the address our own proxy saw, never one the client claims.

The hub and the services run tornado with ``xheaders``, which takes a request's address from
``X-Real-Ip`` or ``X-Forwarded-For``, headers any client can send. That address is what the
logs show and what failed logins are counted by, so a client must not choose it.

Our proxy (configurable-http-proxy, on this machine) appends the address it was connected from
to ``X-Forwarded-For``. The hub, the services and the proxy's API listen on the internal address
(``hub.internal_ip``) where containers in their own network namespaces cannot connect: what
reaches them comes through the proxy, or from a program of this machine. So:

* a request whose connection comes from this machine (a loopback address) or from one of
  ``hub.trusted_proxies`` has the last ``X-Forwarded-For`` entry that is not a trusted proxy;
* any other request has the address of its connection;
* ``X-Real-Ip`` is never read.

:func:`install` makes tornado itself follow these rules in this process, so that
``remote_ip`` is right everywhere, the logs included.
"""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Iterable

from tornado import httputil, netutil
from tornado.httpserver import _HTTPRequestContext

#: The environment variable that gives the hub's services ``hub.trusted_proxies`` (space-separated).
TRUSTED_VARIABLE = "STATCOMMONS_TRUSTED_PROXIES"


def _local(peer: str) -> bool:
    try:
        return ipaddress.ip_address(peer).is_loopback
    except ValueError:
        return False


def address(headers: httputil.HTTPHeaders, peer: str, trusted: Iterable[str] = ()) -> str:
    """The client's address of a request whose connection comes from ``peer``."""
    trusted = set(trusted)
    if not (_local(peer) or peer in trusted):
        return peer
    entries = [entry.strip() for entry in headers.get("X-Forwarded-For", "").split(",") if entry.strip()]
    for entry in reversed(entries):
        if entry not in trusted:
            return entry if netutil.is_valid_ip(entry) else peer
    return peer


def install(trusted: Iterable[str] = ()) -> None:
    """Make tornado's ``remote_ip`` (and ``protocol``) in this process follow :func:`address`.

    Tornado has no hook for this: its request context's ``_apply_xheaders`` is replaced.
    """
    trusted = frozenset(trusted)

    def apply_xheaders(context, headers: httputil.HTTPHeaders) -> None:
        peer = context.remote_ip
        if not (_local(peer) or peer in trusted):
            return
        context.remote_ip = address(headers, peer, trusted)
        proto = headers.get("X-Forwarded-Proto", context.protocol).split(",")[-1].strip()
        if proto in ("http", "https"):
            context.protocol = proto

    _HTTPRequestContext._apply_xheaders = apply_xheaders


def install_from_environment(env: dict | None = None) -> None:
    """:func:`install` with the trusted proxies the hub gives its services in their environment."""
    env = os.environ if env is None else env
    install(env.get(TRUSTED_VARIABLE, "").split())
