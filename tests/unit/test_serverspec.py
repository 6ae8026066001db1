"""What a user's server gets, as plain data: profiles, image, home volume, limits."""

import pytest

from statcommons.serverspec import (
    HOME,
    Mount,
    UserOptionsError,
    choose_profile,
    home_volume,
    parse_size,
    safe_name,
    server_spec,
)
from statcommons.settings import validate
from statcommons.spawner import docker_options


@pytest.fixture
def settings():
    return validate({})


def test_default_profile(settings):
    spec = server_spec(settings, "ana")
    assert spec.profile == "python"
    assert spec.image == "statcommons/lab:latest"
    assert spec.mounts == (Mount("statcommons-home-ana", HOME, owner=(1000, 100)),)
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
    assert options["volumes"] == {"statcommons-home-ana": {"bind": HOME, "mode": "rw"}}
    assert options["mem_limit"] == 4 * 1024**3
    assert options["environment"] == {"STATCOMMONS_PROFILE": "r"}
