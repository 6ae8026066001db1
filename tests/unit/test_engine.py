"""Engine discovery without a daemon: clear errors, our own containers.conf."""

import pytest

from statcommons.platform import engine
from statcommons.settings import validate


def test_containers_conf_sets_runtime_cgroups_and_ulimits():
    conf = engine.containers_conf({"nofile": 20000, "nproc": 4096})
    assert 'runtime = "runc"' in conf
    assert 'cgroup_manager = "cgroupfs"' in conf
    assert 'default_ulimits = ["nofile=20000:20000", "nproc=4096:4096"]' in conf
    assert 'netns = "none"' in conf


def test_unanswered_socket_is_a_clear_error(tmp_path):
    settings = validate({"engine": {"docker_host": f"unix://{tmp_path}/missing.sock"}})
    with pytest.raises(engine.EngineError, match="does not answer: is it running"):
        engine.find_engine(settings, tmp_path, env={})


def test_no_engine_at_all(tmp_path, monkeypatch):
    monkeypatch.setattr(engine.shutil, "which", lambda name: None)
    monkeypatch.setattr(engine, "ping", lambda *a, **k: False)
    with pytest.raises(engine.EngineError, match="install podman and runc"):
        engine.find_engine(validate({}), tmp_path, env={})


def test_no_engine_is_asked_for_none(tmp_path):
    settings = validate({"engine": {"kind": "none"}, "runner": {"enabled": False}, "projects": {"enabled": False}})
    with pytest.raises(engine.EngineError, match="engine.kind is 'none'"):
        engine.find_engine(settings, tmp_path, env={"DOCKER_HOST": f"unix://{tmp_path}/any.sock"})


def test_slirp4netns_needs_podman():
    docker_engine = engine.Engine("docker", "unix:///var/run/docker.sock", {})
    with pytest.raises(engine.EngineError, match="needs Podman.*set engine.network to 'bridge'"):
        engine.check_network(validate({}), docker_engine)
    engine.check_network(validate({"engine": {"network": "host"}}), docker_engine)


def test_slirp4netns_needs_its_program(monkeypatch):
    monkeypatch.setattr(engine.shutil, "which", lambda name: None)
    podman = engine.Engine("podman", "unix:///tmp/podman.sock", {})
    with pytest.raises(engine.EngineError, match="apt-get install slirp4netns"):
        engine.check_network(validate({}), podman)
