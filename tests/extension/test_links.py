"""The rules of links that bring content into a home (nbgitpuller, Open in my workspace), on the host.

The attack they stop: a git-pull link whose ``targetpath`` named ``.local/share/jupyter/kernels/python3``
replaced the clicker's kernelspec with an attacker's; absolute and ``../`` paths were written too.
The same attack against a real server is in tests/security/test_links.py.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

EXTENSION = Path(__file__).resolve().parents[2] / "extensions" / "statcommons-workspace"
sys.path.insert(0, str(EXTENSION))

from statcommons_workspace import links, workspace  # noqa: E402


@pytest.fixture
def home(tmp_path):
    home = tmp_path / "home"
    (home / "work").mkdir(parents=True)
    (tmp_path / "mnt" / "projects" / "census").mkdir(parents=True)
    (home / "projects").mkdir()
    (home / "projects" / "census").symlink_to(tmp_path / "mnt" / "projects" / "census")
    (home / "datasets").symlink_to(tmp_path / "mnt")
    (home / "escape").symlink_to(tmp_path)
    (home / "tutorials").mkdir()
    (home / "tutorials" / "to-kernels").symlink_to(home / ".local")
    return home


@pytest.mark.parametrize("relative", ["record-linkage", "work/repo", "tutorials/splink", "./repo"])
def test_a_link_writes_in_the_home(home, relative):
    assert links.target(home, relative) == (home / relative).resolve()


@pytest.mark.parametrize(
    ("relative", "why"),
    [
        (".local/share/jupyter/kernels/python3", "hidden folder '.local'"),
        ("work/.ipython/profile_default/startup", "hidden folder '.ipython'"),
        (".jupyter", "hidden folder"),
        ("/tmp/x", "not a folder of your home"),
        ("../other", "without .."),
        ("work/../../other", "without .."),
        ("projects/census/repo", "under ~/projects, a shared folder"),
        ("shared-notebooks/x", "under ~/shared-notebooks"),
        ("datasets", "under ~/datasets"),
        ("escape/elsewhere", "leads outside your home"),
        ("tutorials/to-kernels/python3", "hidden folder '.local'"),
        ("", "names no folder"),
        (".", "the home folder itself"),
    ],
)
def test_a_link_never_writes_elsewhere(home, relative, why):
    with pytest.raises(links.LinkRefused, match=why.replace(".", r"\.").replace("~", "~")):
        links.target(home, relative)


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://github.com/statcommons/tutorials", "https://github.com"),
        ("https://GitHub.com:443/a/b.git", "https://github.com"),
        ("http://100.64.7.2:8931/repo.git", "http://100.64.7.2:8931"),
        ("http://git.example.org:80/x", "http://git.example.org"),
    ],
)
def test_origins_are_scheme_host_and_port(url, expected):
    assert links.origin(url) == expected


@pytest.mark.parametrize(
    "url",
    ["file:///etc/passwd", "ssh://git@github.com/a/b", "git://github.com/a", "ext::sh -c touch% /tmp/x", "/srv/repo"],
)
def test_only_http_repositories_are_cloned(url):
    with pytest.raises(links.LinkRefused, match="not an http or https repository URL"):
        links.origin(url)


def test_credentials_in_a_repository_url_are_refused():
    with pytest.raises(links.LinkRefused, match="user name or password"):
        links.origin("https://user:secret@github.com/a/b")


def test_an_origin_not_allowed_is_named_with_the_setting_that_allows_it():
    allowed = {"https://github.com", "http://100.64.7.2:8931"}
    assert links.check_origin("https://github.com:443/x/y", allowed) == "https://github.com"
    with pytest.raises(links.LinkRefused) as refused:
        links.check_origin("http://100.64.7.2:9999/evil.git", allowed)
    assert "http://100.64.7.2:9999" in refused.value.message
    assert "servers.git_origins" in refused.value.message


def test_the_settings_origins_come_from_the_environment():
    env = {"STATCOMMONS_GIT_ORIGINS": "https://gitlab.example.org http://git.local:8080/ not-a-url"}
    assert links.origins_from_setting(env) == {"https://gitlab.example.org", "http://git.local:8080"}


def test_open_in_my_workspace_does_not_follow_a_link_out_of_the_home(home, tmp_path):
    (home / "tutorials" / "census").symlink_to(tmp_path / "mnt" / "projects" / "census")
    with pytest.raises(workspace.WorkspaceError, match="under ~/projects|outside your home"):
        workspace.write_new(home, Path("tutorials/census/x.ipynb"), b"{}")
    assert not (tmp_path / "mnt" / "projects" / "census" / "x.ipynb").exists()
