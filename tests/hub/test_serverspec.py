"""What a user's server gets, as plain data: profiles, image, home volume, shared folders, projects, limits."""

import pytest

from statcommons.hub.serverspec import (
    Mount,
    UserOptionsError,
    choose_profile,
    project_server_spec,
    server_spec,
    service_urls,
)
from statcommons.hub.spawner import docker_options, host_config
from statcommons.platform import names
from statcommons.platform.containers import HOME
from statcommons.platform.names import home_volume, safe_name
from statcommons.platform.units import parse_size
from statcommons.settings import ROOT, validate


@pytest.fixture
def settings():
    return validate({})


def test_default_profile(settings):
    spec = server_spec(settings, "ana")
    assert spec.profile == "python"
    assert spec.image == "statcommons/lab:latest"
    assert spec.mounts == (
        Mount("statcommons-home-ana", HOME, owner=(1000, 100), size=10 * 1024**3),
        Mount(str(ROOT / "shared-notebooks"), "/mnt/shared-notebooks", read_only=True, bind=True),
        Mount(str(ROOT / "datasets"), "/mnt/datasets", read_only=True, bind=True),
    )
    assert spec.mem_limit == 4 * 1024**3
    assert spec.cpu_limit == 1.0
    assert spec.uid == 1000


def test_r_profile(settings):
    assert server_spec(settings, "ana", {"profile": "r"}).image == "statcommons/lab-r:latest"


@pytest.mark.parametrize(
    "options, message",
    [
        ({"image": "evil/miner:latest"}, "spawn option 'image' is not allowed"),
        ({"profile": "python", "mem_limit": "64G"}, "spawn option 'mem_limit' is not allowed"),
        ({"profile": "julia"}, "profile 'julia' is not allowed: choose one of python, r"),
        ({"profile": ["python"]}, "is not allowed"),
    ],
)
def test_refused_options(settings, options, message):
    with pytest.raises(UserOptionsError, match=message):
        server_spec(settings, "ana", options)


def test_choose_profile_does_not_mutate_options():
    options = {"profile": "r"}
    assert choose_profile({"python": {}, "r": {}}, "python", options) == "r"
    assert options == {"profile": "r"}


def test_volume_names_are_distinct_and_safe():
    names = {safe_name(u) for u in ["ana", "Ana", "ana.b", "ana-b", "ana_b", "a@b.org"]}
    assert len(names) == 6
    for name in names:
        assert all(ch.isalnum() or ch in "-_" for ch in name)
    assert home_volume("statcommons", "ana") == "statcommons-home-ana"


@pytest.mark.parametrize(
    "text, size", [("512M", 512 * 1024**2), ("4G", 4 * 1024**3), ("1.5G", int(1.5 * 1024**3)), (None, None)]
)
def test_parse_size(text, size):
    assert parse_size(text) == size


def test_docker_options(settings):
    options = docker_options(server_spec(settings, "ana", {"profile": "r"}))
    assert options["image"] == "statcommons/lab-r:latest"
    assert options["volumes"] == {
        "statcommons-home-ana": {"bind": HOME, "mode": "rw"},
        str(ROOT / "shared-notebooks"): {"bind": "/mnt/shared-notebooks", "mode": "ro"},
        str(ROOT / "datasets"): {"bind": "/mnt/datasets", "mode": "ro"},
    }
    assert options["mem_limit"] == 4 * 1024**3
    assert options["environment"]["STATCOMMONS_PROFILE"] == "r"
    assert options["notebook_dir"] == HOME


def test_shared_folders_come_from_the_settings_and_stay_outside_the_home(tmp_path):
    settings = validate({"runner": {"shared_notebooks": str(tmp_path / "nb"), "datasets": "data"}})
    binds = [m for m in server_spec(settings, "ana").mounts if m.bind]
    assert [(m.volume, m.target, m.read_only) for m in binds] == [
        (str(tmp_path / "nb"), "/mnt/shared-notebooks", True),
        (str(ROOT / "data"), "/mnt/datasets", True),
    ]


def test_members_mount_each_of_their_projects_outside_the_home(settings):
    spec = server_spec(settings, "ana", projects=["survey", "census", "survey"])
    projects = [m for m in spec.mounts if m.target.startswith("/mnt/projects/")]
    assert projects == [
        Mount("statcommons-project-census", "/mnt/projects/census", owner=(1000, 100), size=20 * 1024**3),
        Mount("statcommons-project-survey", "/mnt/projects/survey", owner=(1000, 100), size=20 * 1024**3),
    ]
    assert all(not m.target.startswith(HOME + "/") for m in spec.mounts)
    assert spec.project is None and spec.workdir == HOME
    assert "STATCOMMONS_PROJECT" not in spec.environment


def test_no_projects_no_project_mounts(settings):
    assert not [m for m in server_spec(settings, "bob").mounts if "project" in m.volume]


def test_service_urls_in_a_namespace_of_its_own_go_through_the_proxy(settings):
    assert service_urls(settings) == {
        "STATCOMMONS_LIBRARY_URL": "http://100.64.7.2:8000/services/library/",
        "STATCOMMONS_RUNNER_URL": "http://100.64.7.2:8000/services/runner/",
        "STATCOMMONS_PROJECTS_URL": "http://100.64.7.2:8000/services/projects/",
    }


def test_service_urls_in_host_mode():
    settings = validate({"engine": {"network": "host"}})
    assert service_urls(settings) == {
        "STATCOMMONS_LIBRARY_URL": "http://127.0.0.2:8082/services/library/",
        "STATCOMMONS_RUNNER_URL": "http://127.0.0.2:8083/services/runner/",
        "STATCOMMONS_PROJECTS_URL": "http://127.0.0.2:8084/services/projects/",
    }
    assert (
        server_spec(settings, "ana").environment["STATCOMMONS_RUNNER_URL"]
        == service_urls(settings)["STATCOMMONS_RUNNER_URL"]
    )


def test_service_urls_in_bridge_mode_with_a_base_url_and_a_disabled_service():
    settings = validate(
        {
            "hub": {"base_url": "/stats/"},
            "engine": {"network": "bridge", "hub_connect_url": "http://statcommons-hub:8081"},
            "runner": {"enabled": False},
            "projects": {"port": 9100},
        }
    )
    assert service_urls(settings) == {
        "STATCOMMONS_LIBRARY_URL": "http://statcommons-hub:8082/stats/services/library/",
        "STATCOMMONS_PROJECTS_URL": "http://statcommons-hub:9100/stats/services/projects/",
    }


def test_project_server_gets_the_project_and_no_home(settings):
    spec = project_server_spec(settings, "survey")
    assert spec.project == "survey"
    assert spec.workdir == "/mnt/projects/survey"
    assert spec.mounts[0] == Mount(
        "statcommons-project-survey", "/mnt/projects/survey", owner=(1000, 100), size=20 * 1024**3
    )
    assert {m.target for m in spec.mounts} == {"/mnt/projects/survey", "/mnt/shared-notebooks", "/mnt/datasets"}
    assert all(m.read_only for m in spec.mounts[1:])
    assert not any(m.target.startswith(HOME) or "home" in m.volume for m in spec.mounts)
    assert spec.environment["STATCOMMONS_PROJECT"] == "survey"
    assert "STATCOMMONS_PROJECTS_URL" in spec.environment
    assert (spec.uid, spec.gid) == (1000, 100)
    options = docker_options(spec)
    assert options["notebook_dir"] == "/mnt/projects/survey"
    assert options["volumes"]["statcommons-project-survey"] == {"bind": "/mnt/projects/survey", "mode": "rw"}


def test_project_server_refuses_other_options(settings):
    with pytest.raises(UserOptionsError, match="spawn option 'image' is not allowed"):
        project_server_spec(settings, "survey", {"image": "evil"})


@pytest.mark.parametrize("name", ["survey", "a", "lfs-2026", "x" * 40, "0abc"])
def test_good_project_names(name):
    assert names.name_problem(name) is None


@pytest.mark.parametrize(
    "name, problem",
    [
        ("", "a project name is required"),
        (None, "a project name is required"),
        ("Survey", "'Survey' is not allowed: use lowercase letters"),
        ("-survey", "is not allowed"),
        ("survey-", "is not allowed"),
        ("sur_vey", "is not allowed"),
        ("sur vey", "is not allowed"),
        ("sürvey", "is not allowed"),
        ("x" * 41, "is 41 characters long: at most 40 are allowed"),
        ("../etc", "is not allowed"),
    ],
)
def test_bad_project_names(name, problem):
    assert problem in names.name_problem(name)


def test_member_groups_count_only_when_the_projects_service_made_them():
    assert names.project_of_group("project-survey", {names.GROUP_PROPERTY: "survey"}) == "survey"
    assert names.project_of_group("project-survey", {}) is None
    assert names.project_of_group("project-survey", {names.GROUP_PROPERTY: "census"}) is None
    assert names.project_of_group("project-Bad", {names.GROUP_PROPERTY: "Bad"}) is None


def test_servers_get_the_git_origins_of_the_settings():
    settings = validate({"servers": {"git_origins": ["https://github.com", "http://git.example.org:8080/"]}})
    environment = server_spec(settings, "ana").environment
    assert environment["STATCOMMONS_GIT_ORIGINS"] == "https://github.com http://git.example.org:8080"
    assert project_server_spec(settings, "census").environment["STATCOMMONS_GIT_ORIGINS"] == (
        environment["STATCOMMONS_GIT_ORIGINS"]
    )
    assert "STATCOMMONS_GIT_ORIGINS" not in server_spec(validate({}), "ana").environment


def test_a_server_gets_a_process_limit_in_memory_scratch_folders_and_capped_volumes():
    settings = validate({"servers": {"pids_limit": 500, "tmp_size": "256M", "home_size": "2G"}})
    spec = server_spec(settings, "ana")
    assert spec.pids_limit == 500
    assert spec.tmpfs == {"/tmp": 256 * 1024**2, "/var/tmp": 256 * 1024**2}
    assert spec.mounts[0].size == 2 * 1024**3
    # A project server has no home volume: its home is in memory too.
    assert project_server_spec(settings, "census").tmpfs[HOME] == 256 * 1024**2
    assert server_spec(validate({"servers": {"home_size": None}}), "ana").mounts[0].size is None
    host = host_config(spec)
    assert host["read_only"] is True and host["pids_limit"] == 500
    assert host["tmpfs"] == {"/tmp": f"size={256 * 1024**2},mode=1777", "/var/tmp": f"size={256 * 1024**2},mode=1777"}
    assert host_config(project_server_spec(settings, "census"))["tmpfs"][HOME].endswith(",U")
