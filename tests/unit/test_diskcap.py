"""Capped volumes' images: a sparse ext4 file system of the cap's size, owned by uid 1000, nothing of root's in it."""

from __future__ import annotations

import subprocess

import pytest

from statcommons.platform import diskcap


def test_an_image_is_sparse_owned_by_the_user_and_empty(tmp_path):
    options = diskcap.driver_options(tmp_path, "statcommons-home-ana", 64 * 1024**2, (1000, 100))
    image = tmp_path / "statcommons-home-ana.img"
    assert options == {"type": "ext4", "device": str(image), "o": "loop"}
    assert image.stat().st_size == 64 * 1024**2
    assert image.stat().st_blocks * 512 < 16 * 1024**2  # only what mkfs wrote takes room
    listing = subprocess.run(["debugfs", "-R", "ls -l /", str(image)], capture_output=True, text=True).stdout
    rows = [line.split() for line in listing.splitlines() if line.strip()]
    assert {row[-1] for row in rows} == {".", ".."}  # no lost+found, which would be root's
    assert all(row[3:5] == ["1000", "100"] for row in rows)  # inode, mode, (links), uid, gid...
    # Made once: a second call keeps the image (and the files in it).
    before = image.stat().st_mtime_ns
    diskcap.driver_options(tmp_path, "statcommons-home-ana", 64 * 1024**2, (1000, 100))
    assert image.stat().st_mtime_ns == before


@pytest.mark.parametrize("volume", ["../x", "a/b", ".hidden", ""])
def test_a_volume_name_cannot_name_a_file_elsewhere(tmp_path, volume):
    with pytest.raises(diskcap.CapError):
        diskcap.image_path(tmp_path, volume)
