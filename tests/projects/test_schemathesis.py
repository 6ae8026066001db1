"""Schemathesis against the projects API's own OpenAPI document: no 5xx, no answer outside the document.

Requests generated from the document (valid and invalid ones), sent as an ordinary user; each
answer must be documented (status, content type, body) and never a server error.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.containers

CHECKS = (
    "not_a_server_error",
    "status_code_conformance",
    "content_type_conformance",
    "response_schema_conformance",
)


def test_no_server_error_and_no_response_outside_the_document(workspace, artifacts):
    token = workspace.user("fuzzy")
    report = Path(artifacts) / f"schemathesis-projects-{Path(workspace.hub.workdir).name}.xml"
    done = subprocess.run(
        [
            str(Path(sys.executable).with_name("schemathesis")),
            "run",
            f"{workspace.api_url}/openapi.json",
            "--header",
            f"Authorization: token {token}",
            "--checks",
            ",".join(CHECKS),
            "--phases",
            "examples,coverage,fuzzing",
            "--max-examples",
            "15",
            "--max-time",
            "15",
            "--seed",
            "20261125",
            "--workers",
            "1",  # see tests/library/service/test_schemathesis.py
            "--report",
            "junit",
            "--report-junit-path",
            str(report),
            "--generation-database",
            "none",
            "--no-color",
            "--output-sanitize",
            "true",
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout[-6000:] + done.stderr[-2000:]
