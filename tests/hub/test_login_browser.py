"""A login in a real browser: the hub's form, the spawn form, JupyterLab loading."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from ..chromium import log_in

pytestmark = [pytest.mark.browser, pytest.mark.containers]

LAB_TIMEOUT_MS = 90_000


def test_wrong_password_shows_the_error(make_hub, page):
    hub = make_hub()
    log_in(page, hub, hub.admin_password + "-wrong")
    expect(page.locator(".login_error")).to_contain_text("Invalid username or password.")
    expect(page).to_have_url(re.compile(r"/hub/login"))


def test_login_spawn_and_jupyterlab_loads(make_hub, page, artifacts):
    hub = make_hub()
    page.goto(hub.url)  # the hub sends a visitor without a session to its login form
    expect(page.locator("#login_submit")).to_be_visible()
    log_in(page, hub, hub.admin_password)

    # The spawn form: choose the Python environment and start.
    page.goto(f"{hub.url}/hub/spawn")
    page.locator('input[name="profile"][value="python"]').check()
    page.screenshot(path=str(artifacts / "browser-login.png"), full_page=True)
    page.locator('#spawn_form input[type="submit"], #spawn_form button[type="submit"]').first.click()

    # The progress page redirects into JupyterLab once the server is up.
    page.wait_for_url(re.compile(r"/user/admin/lab"), timeout=LAB_TIMEOUT_MS)
    expect(page.locator("#jp-main-dock-panel")).to_be_visible(timeout=LAB_TIMEOUT_MS)
    launcher = page.locator(".jp-Launcher")
    expect(launcher).to_be_visible(timeout=LAB_TIMEOUT_MS)
    expect(launcher.locator(".jp-LauncherCard", has_text="Python 3").first).to_be_visible()
    expect(page.locator(".lm-DockPanel-tabBar .lm-TabBar-tab", has_text="Launcher")).to_be_visible()
    expect(page.locator(".jp-FileBrowser")).to_be_visible()
    page.screenshot(path=str(artifacts / "browser-lab.png"))
