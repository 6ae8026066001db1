"""``python -m statcommons.library.service``: run the library service (the hub starts it)."""

from .app import main

main()
