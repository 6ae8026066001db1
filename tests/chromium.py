"""Debian's chromium for the browser tests: where it is, how it is started, and the hub's login form.

The ``page`` fixture (``tests/conftest.py``) uses these; the tiers that start their own
browser contexts (collaboration, the extension) do too.
"""

from __future__ import annotations

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",  # the tests run as root
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def log_in(page, hub, password: str, name: str = "admin") -> None:
    """Log in through the hub's form."""
    page.goto(f"{hub.url}/hub/login")
    page.fill("#username_input", name)
    page.fill("#password_input", password)
    page.click("#login_submit")
    page.wait_for_load_state()
