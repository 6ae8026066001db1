"""What every StatCommons hub service is built from.

- ``web``: hub authentication, JSON errors, streamed bodies, the application's serving.
- ``migrations``: a service database's schema, created or upgraded with Alembic.
"""
