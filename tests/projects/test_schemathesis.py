"""Schemathesis against the projects API's own OpenAPI document: no 5xx, no answer outside the document.

Requests are sent as an ordinary user (see :mod:`tests.schemathesistools`).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from .. import schemathesistools

pytestmark = pytest.mark.containers


def test_no_server_error_and_no_response_outside_the_document(workspace, artifacts):
    token = workspace.user("fuzzy")
    report = Path(artifacts) / f"schemathesis-projects-{Path(workspace.hub.workdir).name}.xml"
    done = schemathesistools.run(
        f"{workspace.api_url}/openapi.json", token, report, max_examples=15, max_time=15, timeout=300
    )
    assert done.returncode == 0, done.stdout[-6000:] + done.stderr[-2000:]
