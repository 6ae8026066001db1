"""JupyterLab on a project server in a real chromium, as a member uses it: log in, open a notebook, type."""

from __future__ import annotations

import re

from playwright.sync_api import expect

LAB_TIMEOUT_MS = 90_000
LINES_JS = "e => Array.from(e.querySelectorAll('.cm-line')).map(l => l.textContent).join('\\n')"


def log_in(context, hub, name: str, password: str):
    """A page of ``context`` logged in to the hub as ``name``."""
    page = context.new_page()
    page.goto(f"{hub.url}/hub/login")
    page.fill("#username_input", name)
    page.fill("#password_input", password)
    page.click("#login_submit")
    page.wait_for_load_state()
    return page


def open_notebook(page, hub, collab: str, path: str, first_cell: str | None = None) -> None:
    """Open ``path`` alone on the collab server, authorising the server on the hub's page the first time.

    ``first_cell``: the text its first cell holds, waited for (the shared document has arrived).
    """
    page.goto(f"{hub.url}/user/{collab}/lab/tree/{path}?reset")  # reset: not the notebooks open before
    page.wait_for_url(re.compile(rf"/user/{collab}/lab|/hub/api/oauth2/authorize"), timeout=LAB_TIMEOUT_MS)
    if "/oauth2/authorize" in page.url:
        # JupyterHub asks a visitor once before a server of another account may identify them.
        page.locator('form input[type="submit"], form button[type="submit"]').first.click()
        page.wait_for_url(re.compile(rf"/user/{collab}/lab"), timeout=LAB_TIMEOUT_MS)
    expect(cell_editor(page, 0)).to_be_visible(timeout=LAB_TIMEOUT_MS)
    if first_cell is not None:
        expect(cell_editor(page, 0)).to_have_text(first_cell, timeout=LAB_TIMEOUT_MS)
    # Settled: the kernel is up and the shared document synchronised (its cells are re-made then,
    # and an editor focused before that loses the focus).
    expect(page.locator("#jp-main-statusbar")).to_contain_text("Idle", timeout=LAB_TIMEOUT_MS)


def notebook(page):
    return page.locator(".jp-NotebookPanel:not(.lm-mod-hidden) .jp-Notebook").first


def cell_editor(page, index: int):
    return notebook(page).locator(".jp-Cell").nth(index).locator(".cm-content")


def cell_text(page, index: int) -> str:
    """The text of a cell's editor, lines joined with newlines (CodeMirror renders one .cm-line each)."""
    return cell_editor(page, index).evaluate(LINES_JS)


def put_cursor_at_end(page, index: int) -> None:
    editor = cell_editor(page, index)
    editor.click()
    expect(editor).to_be_focused()
    page.keyboard.press("Control+End")


def type_into(page, index: int, text: str) -> None:
    """Type at the end of a cell's editor, and nowhere else (keys in command mode are commands)."""
    editor = cell_editor(page, index)
    if not editor.evaluate("e => e === document.activeElement"):
        put_cursor_at_end(page, index)
    page.keyboard.type(text)
