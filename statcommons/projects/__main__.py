"""``python -m statcommons.projects``: run the projects service (the hub starts it)."""

from .app import main

main()
