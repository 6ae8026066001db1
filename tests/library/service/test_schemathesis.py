"""Schemathesis against the library API's own OpenAPI document: no 5xx, no response that breaks it.

It generates requests from the document (valid and invalid ones) for every operation and
checks each answer: never a server error, always a documented status code, content type
and body. It calls as a curator, who may use every operation but the runner's.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.hub

CHECKS = (
    "not_a_server_error",
    "status_code_conformance",
    "content_type_conformance",
    "response_schema_conformance",
)


def test_no_server_error_and_no_response_outside_the_document(library, artifacts):
    token = library.user("fuzzy-curator", curator=True)
    report = Path(artifacts) / f"schemathesis-{Path(library.hub.workdir).name}.xml"
    done = subprocess.run(
        [
            str(Path(sys.executable).with_name("schemathesis")),
            "run",
            f"{library.url}/api/openapi.json",
            "--header",
            f"Authorization: token {token}",
            "--checks",
            ",".join(CHECKS),
            "--phases",
            "examples,coverage,fuzzing",
            # A raw video body has no generator here; test_api covers the upload and its refusals.
            "--exclude-operation-id",
            "putVideo",
            "--max-examples",
            "40",
            "--max-time",
            "20",
            "--seed",
            "20261125",
            # One worker: with several threads, Python 3.11.7's ast.parse (which Hypothesis calls to
            # describe its filters) can fail with "AST constructor recursion depth mismatch".
            "--workers",
            "1",
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
        timeout=400,
    )
    assert done.returncode == 0, done.stdout[-6000:] + done.stderr[-2000:]
