"""Schemathesis against a service's own OpenAPI document, the same way for every service.

It generates requests from the document (valid and invalid ones) for every operation and
checks each answer: never a server error, always a documented status code, content type and
body. The run is seeded and capped in examples and time, so that it is repeatable and short.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

CHECKS = (
    "not_a_server_error",
    "status_code_conformance",
    "content_type_conformance",
    "response_schema_conformance",
)


def run(
    document_url: str, token: str, report: Path, *, max_examples: int, max_time: int, timeout: float, extra=()
) -> subprocess.CompletedProcess:
    """Run schemathesis on ``document_url`` with a hub token; a JUnit report goes to ``report``."""
    return subprocess.run(
        [
            str(Path(sys.executable).with_name("schemathesis")),
            "run",
            document_url,
            "--header",
            f"Authorization: token {token}",
            "--checks",
            ",".join(CHECKS),
            "--phases",
            "examples,coverage,fuzzing",
            *extra,
            "--max-examples",
            str(max_examples),
            "--max-time",
            str(max_time),
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
        timeout=timeout,
    )
