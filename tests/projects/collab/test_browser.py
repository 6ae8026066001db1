"""Two members in two real browsers on the project server: edits reach the other, names are shown, nothing is lost."""

from __future__ import annotations

import time

import pytest
from playwright.sync_api import expect

from .lab import cell_editor, cell_text, log_in, open_notebook, put_cursor_at_end, type_into

pytestmark = [pytest.mark.browser, pytest.mark.containers]

SYNC_TIMEOUT_MS = 10_000


@pytest.fixture(scope="module")
def members(project, browser):
    """ana and ben, each logged in in their own browser context."""
    pages = {}
    contexts = []
    for name in ("ana", "ben"):
        context = browser.new_context(viewport={"width": 1280, "height": 800})
        context.set_default_timeout(30_000)
        contexts.append(context)
        pages[name] = log_in(context, project.hub, name, project.people[name].password)
    yield pages
    for context in contexts:
        context.close()


def test_an_edit_reaches_the_other_member_with_the_authors_name(project, members, collab_artifacts):
    project.put_notebook("together.ipynb", ["# shared analysis", ""])
    ana, ben = members["ana"], members["ben"]
    for page in (ana, ben):
        open_notebook(page, project.hub, project.collab, "together.ipynb", first_cell="# shared analysis")

    put_cursor_at_end(ana, 1)
    ana.keyboard.type("rate = 4.2")
    expect(cell_editor(ben, 1)).to_contain_text("rate = 4.2", timeout=SYNC_TIMEOUT_MS)

    # ben sees ana among the collaborators, under her hub name.
    ben.locator('.jp-SideBar .lm-TabBar-tab[data-id="jp-collaboration-panel"]').click()
    collaborators = ben.locator(".jp-CollaboratorsList")
    expect(collaborators).to_contain_text("ana", timeout=SYNC_TIMEOUT_MS)
    expect(collaborators).not_to_contain_text("Anonymous")
    # JupyterLab names a visitor it cannot identify "Anonymous <moon>": nowhere here.
    expect(ben.locator("body")).not_to_contain_text("Anonymous")
    expect(ana.locator("body")).not_to_contain_text("Anonymous")
    ben.screenshot(path=str(collab_artifacts / "ben-sees-ana.png"))
    ana.screenshot(path=str(collab_artifacts / "ana-typed.png"))
    assert cell_text(ben, 1) == "rate = 4.2"


def test_concurrent_typing_loses_no_keystroke(project, members, collab_artifacts):
    """Both type at the same place at the same time; every character either typed is in the result, in order."""
    project.put_notebook("race.ipynb", ["total = 0\n"])
    ana, ben = members["ana"], members["ben"]
    for page in (ana, ben):
        open_notebook(page, project.hub, project.collab, "race.ipynb", first_cell="total = 0")
    for page in (ana, ben):
        put_cursor_at_end(page, 0)

    # Lowercase from ana, uppercase from ben, sent in alternating bursts without waiting for the
    # other side: each burst is typed while the other's last burst is still on its way.
    lower, upper = "abcdefghijklmnopqrstuvwxyz" * 2, "ABCDEFGHIJKLMNOPQRSTUVWXYZ" * 2
    try:
        for i in range(0, len(lower), 4):
            type_into(ana, 0, lower[i : i + 4])
            type_into(ben, 0, upper[i : i + 4])
    finally:
        ana.screenshot(path=str(collab_artifacts / "race-ana.png"))
        ben.screenshot(path=str(collab_artifacts / "race-ben.png"))

    # Each saw their own characters at once; both end with the same text, holding all of them.
    def settled():
        a, b = cell_text(ana, 0), cell_text(ben, 0)
        return a if a == b and len(a) == len("total = 0") + 1 + len(lower) + len(upper) else None

    final = None
    for _ in range(100):
        final = settled()
        if final:
            break
        ana.wait_for_timeout(100)
    assert final, (cell_text(ana, 0), cell_text(ben, 0))
    assert final.startswith("total = 0\n")
    typed = final.split("\n", 1)[1]
    assert "".join(c for c in typed if c.islower()) == lower
    assert "".join(c for c in typed if c.isupper()) == upper

    # The server saves the shared document: the file holds the same text.
    def saved():
        r = project.get("ana", "api/contents/race.ipynb")
        return r.json()["content"]["cells"][0]["source"] == final

    for _ in range(100):
        if saved():
            break
        ana.wait_for_timeout(100)
    assert saved()


def test_a_removed_member_edits_no_more(project, members, collab_artifacts):
    """After removal and revoke(), what the removed member types reaches nobody, and the rest goes on."""
    project.put_notebook("after.ipynb", ["notes = []\n"])
    ana, ben = members["ana"], members["ben"]
    for page in (ana, ben):
        open_notebook(page, project.hub, project.collab, "after.ipynb", first_cell="notes = []")
    put_cursor_at_end(ben, 0)
    type_into(ben, 0, "before")
    expect(cell_editor(ana, 0)).to_contain_text("before", timeout=SYNC_TIMEOUT_MS)

    project.remove_members("ben")
    try:
        project.run(project.servers.revoke(project.name, "ben"))
        type_into(ben, 0, "AFTER")
        put_cursor_at_end(ana, 0)
        type_into(ana, 0, "kept")
        # ana's own edit is saved; ben's never arrives, neither in her editor nor in the file.
        expect(cell_editor(ana, 0)).to_contain_text("beforekept")

        def saved() -> str:
            return project.get("ana", "api/contents/after.ipynb").json()["content"]["cells"][0]["source"]

        # The collaboration server saves a second after the last change; on a busy machine, later.
        deadline = time.monotonic() + 30
        while not saved().endswith("beforekept") and time.monotonic() < deadline:
            ana.wait_for_timeout(200)
        assert saved() == "notes = []\nbeforekept"
        expect(cell_editor(ana, 0)).not_to_contain_text("AFTER")
        expect(cell_editor(ben, 0)).not_to_contain_text("kept")
        ben.screenshot(path=str(collab_artifacts / "ben-removed.png"))
    finally:
        project.add_members("ben")
        project.run(project.servers.sync(project.name))
