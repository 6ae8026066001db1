"""The hub's home page as StatCommons renders it: JupyterHub's template with the user's projects.

Rendered with the hub's own template lookup (StatCommons' templates first, JupyterHub's under
``templates/``) and autoescaping, as :meth:`jupyterhub.app.JupyterHub.init_tornado_settings`
sets them up, for a user whose groups are what the hub's database holds.
"""

from __future__ import annotations

import re
from pathlib import Path
from types import SimpleNamespace

import jinja2
import pytest
from jupyterhub._data import DATA_FILES_PATH
from traitlets.config import Config

from statcommons.hub import config
from statcommons.platform import names
from statcommons.settings import validate

JUPYTERHUB_TEMPLATES = str(Path(DATA_FILES_PATH) / "templates")


def group(name: str, properties: dict | None = None) -> SimpleNamespace:
    """A hub group as the templates see it (``orm.Group``: ``name``, ``properties``)."""
    return SimpleNamespace(name=name, properties=properties or {})


def project_group(project: str) -> SimpleNamespace:
    return group(names.member_group(project), {names.GROUP_PROPERTY: project})


def person(name: str, groups: list) -> SimpleNamespace:
    return SimpleNamespace(
        name=name,
        json_escaped_name=name,
        admin=False,
        groups=groups,
        spawner=SimpleNamespace(options_form=None),
    )


def render(user, **variables) -> str:
    """The home page, with the template variables StatCommons' configuration gives the hub."""
    c = Config()
    config.apply_config(validate({"hub": {"base_url": "/stats/"}}), c, env={})
    paths = [*c.JupyterHub.template_paths, JUPYTERHUB_TEMPLATES]
    loader = jinja2.ChoiceLoader(
        [
            jinja2.PrefixLoader({"templates": jinja2.FileSystemLoader([JUPYTERHUB_TEMPLATES])}, "/"),
            jinja2.FileSystemLoader(paths),
        ]
    )
    environment = jinja2.Environment(loader=loader, autoescape=True)
    namespace = {
        "base_url": "/stats/hub/",
        "prefix": "/stats/",
        "static_url": lambda path, include_version=True: f"/stats/hub/static/{path}",
        "logout_url": "/stats/hub/logout",
        "parsed_scopes": set(),
        "services": [],
        "xsrf_token": "xsrf-of-the-hub",
        "user": user,
        "url": "/stats/hub/spawn/ana",
        "default_server": SimpleNamespace(active=False),
        "allow_named_servers": False,
    }
    # As the hub does (BaseHandler.template_namespace): callables are called with the user.
    for key, value in {**c.JupyterHub.template_vars, **variables}.items():
        namespace[key] = value(user) if callable(value) else value
    return environment.get_template("home.html").render(**namespace)


def section(html: str) -> str:
    match = re.search(r'<div class="container mt-4" id="statcommons-projects">.*?</section>', html, re.S)
    assert match, "no projects section on the home page"
    return match[0]


def test_the_home_page_lists_the_users_projects_with_a_way_into_each_server():
    ana = person("ana", [project_group("survey"), project_group("census-2031"), group("statisticians")])
    html = render(ana)
    assert "Start" in html and "My Server" in html  # JupyterHub's own page is all there
    assert '<a class="nav-link" href="/stats/services/projects/">Projects</a>' in html
    projects = section(html)
    assert "Your projects" in projects
    assert re.findall(r'data-project="([^"]+)"', projects) == ["census-2031", "survey"]
    assert re.findall(r'href="([^"]+)">Open the project server</a>', projects) == [
        "/stats/services/projects/open/census-2031",
        "/stats/services/projects/open/survey",
    ]
    assert "<code>~/projects/survey</code>" in projects
    assert "A project you join reaches your own server's <code>~/projects</code> at its next start" in projects
    assert "statisticians" not in projects


@pytest.mark.parametrize(
    "groups",
    [
        [],
        [group("project-survey")],  # named like a member group, but not the service's
        [group("project-survey", {names.GROUP_PROPERTY: "census"})],  # the marker names another project
        [group("project-Bad", {names.GROUP_PROPERTY: "Bad"})],  # not a project name
        [group("statisticians", {names.GROUP_PROPERTY: "statisticians"})],
    ],
)
def test_only_the_services_member_groups_count(groups):
    projects = section(render(person("ana", groups)))
    assert "data-project" not in projects and "Open the project server" not in projects
    assert "You are in no project yet: create one on the" in projects
    assert '<a href="/stats/services/projects/">Projects page</a>' in projects


def test_what_is_shown_is_escaped():
    # Project names are DNS labels, so nothing to escape can come from a real group; the template
    # escapes anyway, whatever it is given.
    html = section(render(person("ana", []), statcommons_my_projects=['x"><script>alert(1)</script>']))
    assert "<script>alert" not in html
    assert "&lt;script&gt;" in html
    assert 'data-project="x&#34;&gt;&lt;script&gt;alert(1)&lt;/script&gt;"' in html
    assert 'href="/stats/services/projects/open/x%22%3E%3Cscript%3Ealert%281%29%3C/script%3E"' in html


def test_without_the_projects_service_the_home_page_is_jupyterhubs():
    c = Config()
    config.apply_config(validate({"projects": {"enabled": False}}), c, env={})
    assert "statcommons_my_projects" not in c.JupyterHub.template_vars
    html = render(person("ana", [project_group("survey")]), statcommons_projects_url=None)
    assert "Your projects" not in html and "Start" in html


def test_nobody_logged_in_has_no_projects():
    assert names.projects_of(None) == []
    assert names.projects_of(SimpleNamespace(groups=[project_group("b"), project_group("a"), project_group("a")])) == [
        "a",
        "b",
    ]
