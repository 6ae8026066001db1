"""``python -m statcommons.runner``: run the notebook runner service (the hub starts it)."""

from .app import main

main()
