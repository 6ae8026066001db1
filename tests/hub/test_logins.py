"""The login and sign-up forms under attack, at the default limits, from several addresses.

Each attacker and victim connects from an address of its own on the loopback (127.0.0.2 and up),
as different machines would: the hub counts by the address its proxy saw, whatever headers say.
"""

from __future__ import annotations

import statistics
import threading
import time

import pytest
import requests
from requests.adapters import HTTPAdapter

from ..hubtools import Person

pytestmark = pytest.mark.hub

DEFAULTS = {"signups_per_address_per_hour": 5, "signups_per_hour": 100}  # the settings' own defaults


class From(HTTPAdapter):
    """Connections from one source address."""

    def __init__(self, address: str):
        self.address = address
        super().__init__()

    def init_poolmanager(self, *args, **kwargs):
        kwargs["source_address"] = (self.address, 0)
        return super().init_poolmanager(*args, **kwargs)


def person(hub, name: str, address: str, password: str | None = None) -> Person:
    someone = Person(hub, name, password)
    someone.http.mount("http://", From(address))
    return someone


def attempt(someone: Person, password: str, **headers) -> requests.Response:
    xsrf = someone._xsrf("/hub/login")
    data = {"username": someone.name, "password": password, "_xsrf": xsrf}
    return someone.http.post(f"{someone.hub.url}/hub/login", data=data, headers=headers, timeout=60)


@pytest.fixture(scope="module")
def hub(tmp_path_factory):
    from ..hubtools import RunningHub

    settings = {
        "auth": {"local": DEFAULTS},
        "library": {"enabled": False},
        "runner": {"enabled": False},
        "projects": {"enabled": False},
    }
    running = RunningHub(tmp_path_factory.mktemp("loginhub"), None, extra_settings=settings)
    running.start()
    admin = Person(running, "admin", running.admin_password)
    admin.log_in()
    for name, address in (("ana", "127.0.0.2"), ("bob", "127.0.0.3"), ("cai", "127.0.0.4")):
        someone = person(running, name, address, password=f"{name}-correct-horse")
        assert someone.sign_up().status_code == 200
        admin.approve(name)
    pending = person(running, "dora", "127.0.0.4", password="dora-correct-horse")
    assert pending.sign_up().status_code == 200
    yield running
    running.stop()
    print(f"--- hub log ---\n{running.log()[-8000:]}")


def test_unknown_pending_and_known_accounts_take_the_same_time(hub):
    """Timing no longer tells which accounts exist (0.65 s against 0.007 s before)."""

    def timed(name: str, address: str) -> float:
        took = []
        for _ in range(3):
            someone = person(hub, name, address)
            someone._xsrf("/hub/login")
            started = time.monotonic()
            r = attempt(someone, "wrong-password-123")
            took.append(time.monotonic() - started)
            assert r.status_code == 403 and "Invalid username or password" in r.text
        return statistics.median(took)

    known, pending, unknown = timed("bob", "127.0.0.6"), timed("dora", "127.0.0.6"), timed("nobody", "127.0.0.6")
    assert unknown > 0.1, "an unknown account must cost a password check too"
    for other in (known, pending):
        assert 0.5 < unknown / other < 2.0, (known, pending, unknown)


def test_failed_logins_wait_on_the_attacker_not_on_the_victim(hub):
    mallory = person(hub, "ana", "127.0.0.3")
    answers = [attempt(mallory, f"guess-{i}") for i in range(5)]
    assert [r.status_code for r in answers] == [403] * 5
    # Sixth guess: refused before any check, with how long to wait, whatever address the headers claim.
    for forged in ({}, {"X-Forwarded-For": "198.51.100.1"}, {"X-Real-Ip": "198.51.100.2"}):
        refused = attempt(mallory, "guess-6", **forged)
        assert refused.status_code == 429, refused.text
        assert 1 <= int(refused.headers["Retry-After"]) <= 60
        assert "Too many failed logins from your address" in refused.text
    # Even the right password waits: the delay is on this address for this account.
    assert attempt(mallory, "ana-correct-horse").status_code == 429
    # Ana, from her own address, logs in at once: the attacker cannot lock her out.
    ana = person(hub, "ana", "127.0.0.2", password="ana-correct-horse")
    ana.log_in()
    assert ana.logged_in


def test_an_address_guessing_many_accounts_waits(hub):
    sprayer = [person(hub, name, "127.0.0.5") for name in ("bob", "cai", "dora", "nobody", "zed")]
    statuses = []
    for i in range(31):
        statuses.append(attempt(sprayer[i % 5], f"spray-{i}").status_code)
    assert statuses[:30] == [403] * 30 and statuses[30] == 429, statuses
    bob = person(hub, "bob", "127.0.0.3", password="bob-correct-horse")
    bob.log_in()
    assert bob.logged_in


def test_sign_ups_are_limited_per_address(hub):
    for i in range(5):
        someone = person(hub, f"new{i}", "127.0.0.7", password="a-long-enough-password")
        assert someone.sign_up().status_code == 200
    sixth = person(hub, "new5", "127.0.0.7", password="a-long-enough-password")
    refused = sixth.sign_up()
    assert refused.status_code == 429 and int(refused.headers["Retry-After"]) > 0
    assert "Too many sign-ups" in refused.text
    elsewhere = person(hub, "new5", "127.0.0.2", password="a-long-enough-password")
    assert elsewhere.sign_up().status_code == 200


@pytest.mark.parametrize(
    ("name", "password", "expected"),
    [
        ("x" * 1_000_000, "a-long-enough-password", "the user name is 1000000 characters long: at most 64"),
        ("x" * 65, "a-long-enough-password", "the user name is 65 characters long: at most 64"),
        ("longpass", "é" * 40, "the password is 80 bytes long: at most 72"),
    ],
)
def test_names_and_passwords_past_the_limits_are_refused_with_a_400(hub, name, password, expected):
    someone = person(hub, name, "127.0.0.2", password=password)
    signup = someone.sign_up()
    assert signup.status_code == 400 and expected in signup.text
    login = attempt(someone, password)
    assert login.status_code == 400 and expected in login.text
    assert hub.api("GET", "/users?limit=200").ok
    assert name not in {u["name"] for u in hub.api("GET", "/users?limit=200").json()}


def test_logins_do_not_stall_the_hub(hub):
    """Ten people logging in at once: the hub still answers its health check quickly."""
    names = ["ana", "bob", "cai"] * 3
    people = [person(hub, name, f"127.0.0.{8 + i}", password=f"{name}-correct-horse") for i, name in enumerate(names)]
    for someone in people:
        someone._xsrf("/hub/login")
    probes: list[float] = []
    done = threading.Event()

    def probe():
        while not done.is_set():
            started = time.monotonic()
            requests.get(f"{hub.url}/hub/health", timeout=30)
            probes.append(time.monotonic() - started)
            time.sleep(0.02)

    prober = threading.Thread(target=probe)
    prober.start()
    threads = [threading.Thread(target=lambda p=p: attempt(p, p.password)) for p in people]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    done.set()
    prober.join()
    assert all(p.logged_in for p in people)
    probes.sort()
    p95 = probes[int(len(probes) * 0.95)]
    assert p95 < 0.5, f"/hub/health p95 {p95 * 1000:.0f} ms during logins ({len(probes)} probes)"
