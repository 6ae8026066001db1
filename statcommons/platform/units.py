"""Sizes and resource limits as the settings write them and the engines take them."""

from __future__ import annotations

import re

_UNITS = {"": 1, "K": 1024, "M": 1024**2, "G": 1024**3, "T": 1024**4}


def parse_size(size: str | None) -> int | None:
    """'4G' -> bytes (binary units, as Docker and Kubernetes read them)."""
    if size is None:
        return None
    match = re.fullmatch(r"([0-9]+(?:\.[0-9]+)?)([KMGT]?)", size)
    if not match:
        raise ValueError(f"not a size: {size!r}")
    return int(float(match.group(1)) * _UNITS[match.group(2)])


def size_text(size: int) -> str:
    """bytes -> '2G', '512M', '64K' when exact, else 'N bytes'."""
    for unit, factor in (("G", 1024**3), ("M", 1024**2), ("K", 1024)):
        if size >= factor and size % factor == 0:
            return f"{size // factor}{unit}"
    return f"{size} bytes"


def ulimits_text(ulimits: dict[str, int]) -> str:
    """{'nofile': 20000, 'nproc': 4096} -> 'nofile=20000,nproc=4096'."""
    return ",".join(f"{name}={value}" for name, value in sorted(ulimits.items()))


def parse_ulimits(text: str) -> dict[str, int]:
    """The inverse of :func:`ulimits_text`."""
    pairs = (part.split("=", 1) for part in text.split(",") if part)
    return {name: int(value) for name, value in pairs}
