"""What every StatCommons hub service is built from.

- ``registration``: what a service gives the hub (its entry, roles, scopes, database).
- ``caller``: who calls a service, with the scopes the hub granted.
- ``web``: hub authentication, JSON errors, streamed bodies, the application's serving.
- ``endpoints``: each endpoint declared once, on its handler method (route, models, description).
- ``validation``: requests checked against the declared pydantic models, refused with a 422 naming each field.
- ``openapi``: the OpenAPI 3.1 document made from the declarations.
- ``client``: one HTTP client for the hub's API and sibling services.
- ``database``: the SQLAlchemy engine of a service's database.
- ``migrations``: a service database's schema, created or upgraded with Alembic.
"""
