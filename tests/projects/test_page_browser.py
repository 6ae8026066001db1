"""The projects page in a real browser: create a project, manage its members, open its server, delete it."""

from __future__ import annotations

import re

import pytest

from ..hubtools import Person

pytestmark = [pytest.mark.browser, pytest.mark.containers]


@pytest.fixture(scope="module")
def erin(workspace) -> Person:
    """A person who signed up and was approved, as people arrive at the hub."""
    person = Person(workspace.hub, "erin")
    person.sign_up()
    admin = Person(workspace.hub, "admin", workspace.hub.admin_password)
    admin.log_in()
    admin.approve("erin")
    workspace.user("bob")
    return person


def test_a_person_runs_a_project_from_the_page(workspace, erin, page, artifacts):  # noqa: F811
    from playwright.sync_api import expect

    hub = workspace.hub
    page.goto(f"{hub.url}/hub/login")
    page.fill("#username_input", erin.name)
    page.fill("#password_input", erin.password)
    page.click("#login_submit")
    page.wait_for_load_state()
    page.get_by_role("link", name="Projects").click()
    expect(page).to_have_url(re.compile(r"/services/projects/$"))
    expect(page.locator("#no-projects")).to_be_visible()
    expect(page.get_by_text("A member added gets the project's folder in their own server")).to_be_visible()

    page.fill("#project-name", "budget")
    page.fill("#project-title", "Budget <2027>")
    page.get_by_role("button", name="Create").click()
    card = page.locator('article[data-project="budget"]')
    expect(card.locator("h3")).to_contain_text("Budget <2027>")
    expect(card).to_contain_text("You are an owner")

    card.get_by_label("Username").fill("bob")
    card.get_by_role("button", name="Add or change").click()
    expect(page.locator('article[data-project="budget"] li[data-user="bob"]')).to_contain_text("member")

    page.locator('article[data-project="budget"]').get_by_label("Username").fill("nobody-here")
    page.locator('article[data-project="budget"]').get_by_role("button", name="Add or change").click()
    expect(page.locator("#message")).to_have_text("there is no hub user 'nobody-here'")
    expect(page.locator('article[data-project="budget"]').get_by_label("Username")).to_have_value("nobody-here")

    page.on("dialog", lambda dialog: dialog.accept())
    page.locator('li[data-user="bob"]').get_by_role("button", name="Remove").click()
    expect(page.locator('li[data-user="bob"]')).to_have_count(0)
    page.screenshot(path=str(artifacts / "projects-page.png"), full_page=True)

    page.locator('article[data-project="budget"]').get_by_role("button", name="Open the project server").click()
    page.wait_for_url(re.compile(r"/user/budget-collab/|/hub/api/oauth2/authorize"), timeout=120_000)
    if "/oauth2/authorize" in page.url:
        # The hub asks once before a server of another account may identify the visitor.
        page.locator('form input[type="submit"], form button[type="submit"]').first.click()
    expect(page).to_have_url(re.compile(r"/user/budget-collab/"), timeout=120_000)

    page.goto(f"{hub.url}/services/projects/")
    page.locator('article[data-project="budget"]').get_by_role("button", name="Delete the project").click()
    expect(page.locator("#no-projects")).to_be_visible(timeout=60_000)
    assert workspace.call("GET", "/projects/budget", "erin").status_code == 404
