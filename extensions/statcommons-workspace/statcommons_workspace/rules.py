"""What the browser may ask of the StatCommons services through its own server: the allowlist.

Light on imports (no Jupyter server) so that it is unit-tested on the host. Every path is
relative to a service's base URL (``.../services/library/``); anything not listed here is a
404 from the server extension and never reaches the service with the server's token. Of the
projects service, only what the "My projects" view needs: read the user's projects, and see or
start a project's server (creating projects and changing members stay on the Projects page), and
the user's notices (read, dismiss).
"""

from __future__ import annotations

import re

_ID = r"[a-z0-9]+(?:-[a-z0-9]+)*"
_NUMBER = r"[0-9]{1,11}"
# A project's name: a lowercase DNS label, at most 40 characters (statcommons.platform.names).
_PROJECT = r"[a-z0-9](?:[a-z0-9-]{0,38}[a-z0-9])?"

# (service, path pattern, allowed methods)
RULES: dict[str, list[tuple[re.Pattern, frozenset[str]]]] = {
    "library": [
        (re.compile(r"api/items"), frozenset({"GET", "POST"})),
        (re.compile(rf"api/items/{_ID}"), frozenset({"GET", "PATCH"})),
        (re.compile(rf"api/items/{_ID}/review"), frozenset({"POST"})),
        (re.compile(rf"api/items/{_ID}/rating"), frozenset({"PUT"})),
        (re.compile(rf"api/items/{_ID}/comments"), frozenset({"GET", "POST"})),
        (re.compile(rf"api/items/{_ID}/comments/{_NUMBER}"), frozenset({"PATCH"})),
        (re.compile(rf"api/items/{_ID}/notebook"), frozenset({"GET"})),
        (re.compile(rf"api/items/{_ID}/video"), frozenset({"GET", "HEAD"})),
        (re.compile(r"api/(schema|vocabularies|user|openapi\.json)"), frozenset({"GET"})),
    ],
    "runner": [
        (re.compile(r"api/runs"), frozenset({"GET", "POST"})),
        (re.compile(rf"api/runs/{_NUMBER}"), frozenset({"GET", "DELETE"})),
        (re.compile(rf"api/runs/{_NUMBER}/notebook"), frozenset({"GET"})),
        (re.compile(r"api/schedules"), frozenset({"GET", "POST"})),
        (re.compile(rf"api/schedules/{_NUMBER}"), frozenset({"GET", "DELETE"})),
        (re.compile(r"api/user"), frozenset({"GET"})),
    ],
    "projects": [
        (re.compile(r"api/projects"), frozenset({"GET"})),
        (re.compile(rf"api/projects/{_PROJECT}"), frozenset({"GET"})),
        (re.compile(rf"api/projects/{_PROJECT}/server"), frozenset({"GET", "POST"})),
        (re.compile(r"api/user"), frozenset({"GET"})),
        (re.compile(rf"api/notices/{_NUMBER}"), frozenset({"DELETE"})),
    ],
}

#: Calls that may take longer than ``StatCommonsServices.timeout``: starting a project server.
SLOW: dict[str, list[tuple[re.Pattern, frozenset[str]]]] = {
    "projects": [(re.compile(rf"api/projects/{_PROJECT}/server"), frozenset({"POST"}))],
}

# Request headers passed on to the service (besides the server's own Authorization).
REQUEST_HEADERS = ("Accept", "Content-Type", "Range", "If-None-Match", "If-Range")
# Response headers passed back to the browser.
RESPONSE_HEADERS = (
    "Content-Type",
    "Content-Range",
    "Accept-Ranges",
    "Content-Disposition",
    "Etag",
    "Cache-Control",
    "Location",
)


def allowed(service: str, path: str, method: str) -> str | None:
    """None when ``method path`` may be forwarded to ``service``, else why not (for a 404/405 message)."""
    rules = RULES.get(service)
    if rules is None:
        return f"no such service {service!r}: use {', '.join(RULES)}"
    if ".." in path.split("/") or "//" in path:
        return f"{path!r} is not a path of the {service} service"
    methods = [m for pattern, m in rules if pattern.fullmatch(path)]
    if not methods:
        return f"{path!r} is not a path of the {service} service that this server forwards"
    if method not in methods[0]:
        return f"{method} is not allowed on {path!r}: use {', '.join(sorted(methods[0]))}"
    return None


def slow(service: str, path: str, method: str) -> bool:
    """Whether ``method path`` is a call that may take minutes (see :data:`SLOW`)."""
    return any(pattern.fullmatch(path) and method in methods for pattern, methods in SLOW.get(service, []))
