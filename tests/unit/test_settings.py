"""The settings file: good examples load, each bad one fails naming its error."""

import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from statcommons import settings

EXAMPLES = Path(__file__).parent.parent / "settings"
GOOD = sorted((EXAMPLES / "good").glob("*.yaml"))
BAD = sorted((EXAMPLES / "bad").glob("*.yaml"))


@pytest.mark.parametrize("path", GOOD, ids=lambda p: p.stem)
def test_good_examples_load(path):
    loaded = settings.load(path)
    assert loaded["default_profile"] in loaded["profiles"]


@pytest.mark.parametrize("path", BAD, ids=lambda p: p.stem)
def test_bad_examples_name_their_error(path):
    expected = path.read_text().splitlines()[0].removeprefix("# error: ")
    with pytest.raises(settings.SettingsError) as info:
        settings.load(path)
    message = str(info.value)
    assert expected in message
    assert str(path) in message
    assert "\n" not in message


def test_defaults_are_complete():
    loaded = settings.validate({})
    assert loaded["hub"] == {
        "ip": "127.0.0.1",
        "port": 8000,
        "api_port": 8081,
        "base_url": "/",
        "public_url": None,
        "ssl_cert": None,
        "ssl_key": None,
        "internal_ip": "127.0.0.2",
        "trusted_proxies": [],
    }
    assert loaded["engine"]["network"] == "slirp4netns"
    assert loaded["engine"]["slirp4netns_cidr"] == "100.64.7.0/24"
    assert set(loaded["profiles"]) == {"python", "r"}
    assert loaded["culler"]["enabled"] is True


def test_user_profiles_replace_the_defaults():
    loaded = settings.validate({"profiles": {"big": {"display_name": "Big", "image": "x:1"}}, "default_profile": "big"})
    assert list(loaded["profiles"]) == ["big"]


def test_missing_named_file_is_an_error(tmp_path):
    with pytest.raises(settings.SettingsError, match="settings file not found"):
        settings.load(tmp_path / "nope.yaml")


def test_cli_exits_2_with_one_line(tmp_path):
    bad = tmp_path / "statcommons.yaml"
    bad.write_text("hub:\n  port: not-a-port\n")
    result = subprocess.run(
        [sys.executable, "-m", "statcommons", "check-settings"],
        env={"STATCOMMONS_SETTINGS": str(bad), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
    )
    assert result.returncode == 2
    assert result.stderr.strip().count("\n") == 0
    assert "hub.port: 'not-a-port' is not allowed: expected a port from 1 to 65535" in result.stderr


def _keys(schema, prefix=""):
    for key, sub in schema.get("properties", {}).items():
        yield prefix + key
        yield from _keys(sub, prefix + key + ".")


def test_readme_documents_every_setting():
    readme = (settings.ROOT / "README.md").read_text()
    missing = [k for k in _keys(settings.SCHEMA) if f"`{k}`" not in readme]
    assert not missing, f"settings not documented in README.md: {missing}"


def test_example_file_shows_the_defaults():
    example = yaml.safe_load((settings.ROOT / "statcommons.example.yaml").read_text())
    assert settings.validate(example) == settings.validate({})
