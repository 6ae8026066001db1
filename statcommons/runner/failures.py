"""What a failed run's error says about its cause: a package the image lacks.

Python says ``ModuleNotFoundError: No module named 'seaborn'`` (or ``'mpl_toolkits.basemap'``),
R says ``there is no package called 'VIM'`` (with typographic quotes in a UTF-8 locale).
"""

from __future__ import annotations

import re

_PYTHON = re.compile(r"ModuleNotFoundError: No module named '([A-Za-z0-9_.]+)'")
_R = re.compile(r"there is no package called [‘'\"]([A-Za-z0-9._]+)[’'\"]")


def missing_package(error: str | None) -> str | None:
    """The package a run's ``error`` says is missing (the top-level module for Python), or None."""
    if not error:
        return None
    if found := _PYTHON.search(error):
        return found.group(1).split(".")[0]
    if found := _R.search(error):
        return found.group(1)
    return None
