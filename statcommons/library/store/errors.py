"""What the store refuses: an unknown item, a change finding the item otherwise than expected, a bad item or status."""

from __future__ import annotations

from ..schema import STATUSES, Problem


class NotFound(LookupError):
    """No item (or comment) has that id."""


class Conflict(Exception):
    """The item is not as the change expected: it changed since the revision named, or its status differs."""


class InvalidItem(ValueError):
    """An item the schema refuses; ``problems`` lists why."""

    def __init__(self, problems: list[Problem]):
        self.problems = problems
        super().__init__("; ".join(str(problem) for problem in problems))


def check_status(status: str) -> None:
    """Raise ``ValueError`` unless ``status`` is one of the item statuses."""
    if status not in STATUSES:
        raise ValueError(f"{status!r} is not a status: use one of {', '.join(STATUSES)}")
