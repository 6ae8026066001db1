"""Schemathesis against the runner's own OpenAPI document: no 5xx, no answer outside the document.

Requests are sent as an ordinary user with no home (see :mod:`tests.schemathesistools`): the runs
it asks for fail at once or are refused, and its schedules are made and deleted through the API.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from .. import schemathesistools

pytestmark = pytest.mark.containers


def test_no_server_error_and_no_response_outside_the_document(runner, artifacts):
    token = runner.user("fuzzy")
    report = Path(artifacts) / f"schemathesis-runner-{Path(runner.hub.workdir).name}.xml"
    done = schemathesistools.run(f"{runner.url}/openapi.json", token, report, max_examples=15, max_time=15, timeout=300)
    assert done.returncode == 0, done.stdout[-6000:] + done.stderr[-2000:]
