"""The installed server extension inside the real lab image: its proxy against a stand-in library.

Runs ``proxy_in_image.py`` with the image's own pytest, in a container without a network
(everything it needs is on the container's loopback).
"""

from __future__ import annotations

from pathlib import Path

import docker
import pytest

pytestmark = [pytest.mark.containers]

IMAGE = "statcommons/lab:latest"


def test_proxy_in_the_lab_image(engine):
    client = docker.DockerClient(base_url=engine.docker_host, timeout=300)
    here = Path(__file__).resolve().parent
    container = client.containers.run(
        IMAGE,
        ["python", "-m", "pytest", "-q", "--noconftest", "-p", "no:cacheprovider", "/checks/proxy_in_image.py"],
        volumes={str(here): {"bind": "/checks", "mode": "ro"}},
        network_mode="none",
        detach=True,
    )
    try:
        status = container.wait(timeout=240)["StatusCode"]
        output = container.logs().decode(errors="replace")
    finally:
        container.remove(force=True)
    assert status == 0, output
    assert "7 passed" in output, output
