"""One click on a link must not run another user's code: git-pull links write only where they may.

The reproduction: ``/hub/user-redirect/git-pull?repo=<A's repo>&branch=main&targetpath=.local/share/
jupyter/kernels/python3&urlpath=lab`` replaced B's python3 kernelspec with one from a repository A
served from A's own container, and B's next kernel ran A's code; absolute and ``../`` target paths
were written too. Now a link clones only from an allowed origin (those of published library
notebooks, and ``servers.git_origins``) and writes only into B's own, non-hidden folders.
"""

from __future__ import annotations

import html
import json
import re
import time
from urllib.parse import urlencode, urlsplit

import pytest
import requests

from ..gitserver import make_repository, serving

pytestmark = pytest.mark.containers

EVIL_KERNEL = {"argv": ["python", "-c", "open('/tmp/pwned', 'w').write('pwned')"], "display_name": "Python 3"}


def _click(users, victim: str, query: dict, api: bool = False) -> requests.Response:
    """``victim`` following a git-pull link (the UI page, or the stream it calls) with their own session."""
    path = "git-pull/api" if api else "git-pull"
    return users.server_api(victim, "GET", f"{path}?{urlencode(query)}")


def _exists(users, name: str, path: str) -> bool:
    return users.container(name).exec_run(["test", "-e", path], user="1000:100").exit_code == 0


@pytest.fixture(scope="module")
def evil_repository(users, tmp_path_factory):
    """A repository anna serves, holding a kernelspec that would run her code, and a harmless notebook."""
    root = tmp_path_factory.mktemp("evil")
    files = {"kernel.json": json.dumps(EVIL_KERNEL), "intro.ipynb": json.dumps({"cells": [], "nbformat": 4})}
    make_repository(root, "kernels.git", files)
    with serving(root) as base:
        yield f"{base}kernels.git"


def test_a_link_from_an_origin_nobody_allowed_is_refused_and_says_why(users, evil_repository):
    users.start_server("bruno")
    link = {"repo": evil_repository, "branch": "main", "targetpath": "kernels", "urlpath": "lab"}
    for api in (False, True):
        r = _click(users, "bruno", link, api=api)
        assert r.status_code == 403, r.text
        origin = "http://" + urlsplit(evil_repository).netloc
        shown = html.unescape(r.text)
        assert f"clone a repository from {origin}, which is not an allowed origin" in shown
        assert "servers.git_origins" in shown
    assert not _exists(users, "bruno", "/home/jovyan/kernels")


def test_a_link_never_writes_into_hidden_shared_or_outside_folders(users, evil_repository):
    """Even from an allowed origin (a published notebook's), the kernelspec attack and its variants fail."""
    users.start_server("bruno")
    library = f"{users.hub.url}/services/library/api"
    users.hub.api("POST", "/groups/curators", json={})  # 409 when it exists
    r = users.hub.api("POST", "/groups/curators/users", json={"users": ["cora"]}) if users.token("cora") else None
    assert r.status_code == 200, r.text
    curator = {"Authorization": f"token {users.token('cora')}"}
    item = {
        "type": "notebook",
        "title": "A tutorial from anna's repository",
        "summary": "Published, so its origin is allowed.",
        "notebook": {"repository": evil_repository, "branch": "main", "path": "intro.ipynb"},
    }
    made = requests.post(f"{library}/items", json=item, headers=curator, timeout=30)
    assert made.status_code == 201, made.text
    review = {"decision": "publish", "revision": made.json()["revision"]}
    assert requests.post(f"{library}/items/{made.json()['id']}/review", json=review, headers=curator, timeout=30).ok
    origins = requests.get(f"{library}/repositories", headers=curator, timeout=30).json()["origins"]
    assert "http://" + urlsplit(evil_repository).netloc in origins

    # bruno's server was refused this origin a moment ago; it asks the library again after 3 s.
    time.sleep(3.5)
    kernels = "/home/jovyan/.local/share/jupyter/kernels/python3"
    for target, why in (
        (".local/share/jupyter/kernels/python3", "hidden folder '.local'"),
        ("/tmp/evil", "not a folder of your home"),
        ("../../tmp/evil", "not a folder of your home"),
        ("projects/evil", "under ~/projects, a shared folder"),
        ("datasets/evil", "under ~/datasets, a shared folder"),
        ("", None),  # nbgitpuller's default is the repository's name: allowed, see below
    ):
        if why is None:
            continue
        for api in (False, True):
            r = _click(users, "bruno", {"repo": evil_repository, "branch": "main", "targetpath": target}, api=api)
            assert r.status_code == 403, (target, r.text)
            assert why in html.unescape(r.text), (target, re.sub(r"(?s).*<body>|<script.*", "", r.text))
    assert not _exists(users, "bruno", kernels)
    assert not _exists(users, "bruno", "/tmp/evil")

    # A link into a folder of his own works: the content arrives, nothing runs.
    r = _click(users, "bruno", {"repo": evil_repository, "branch": "main", "targetpath": "from-anna"}, api=True)
    assert r.status_code == 200 and '"phase": "finished"' in r.text, r.text
    assert _exists(users, "bruno", "/home/jovyan/from-anna/intro.ipynb")
    assert not _exists(users, "bruno", kernels)

    # The library's own link to the tutorial still opens it: the page of the hub's user-redirect.
    link = requests.get(f"{library}/items/{made.json()['id']}", headers=curator, timeout=30).json()["nbgitpuller_url"]
    assert link.startswith(f"{users.hub.url}/hub/user-redirect/git-pull?")
    # (The hub's user-redirect sends a logged-in browser to its own server's git-pull page.)
    query = link.split("?", 1)[1]
    page = users.server_api("bruno", "GET", f"git-pull?{query}")
    assert page.status_code == 200, page.text
    assert "git-pull/static/dist/bundle.js" in page.text
