"""Where StatCommons' own files are: the repository it runs from."""

from __future__ import annotations

from pathlib import Path

#: The repository: settings, images, the curated library, shared notebooks and data sets.
ROOT = Path(__file__).resolve().parent.parent.parent
