"""What the service checks of a file sent with an item: a notebook's shape.

A user submitting a notebook from their own home sends its ``.ipynb`` JSON with the item
(``notebook_content``). Only its shape is checked (nbformat 4, a list of cells): it is stored
as sent (:class:`~statcommons.library.store.attachments.Attachments`) and never executed by
the service.
"""

from __future__ import annotations


def notebook_problem(content: object) -> str | None:
    """Why ``content`` is not a Jupyter notebook (nbformat 4), or None when it is one."""
    if not isinstance(content, dict):
        return f"expected the notebook's JSON object, found {type(content).__name__}"
    if content.get("nbformat") != 4:
        return "expected a notebook in nbformat 4 (the field nbformat is not 4)"
    if not isinstance(content.get("cells"), list):
        return "expected a notebook with a list of cells"
    if not isinstance(content.get("metadata", {}), dict):
        return "expected the notebook's metadata to be an object"
    return None
