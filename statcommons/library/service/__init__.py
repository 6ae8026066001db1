"""The library catalogue as a hub-managed JupyterHub service, at ``/services/library/``.

- :mod:`.access`: who is calling and what their scopes let them do;
- :mod:`.attachments`: notebook files sent with submissions, and notebooks' last runs;
- :mod:`.api`: the REST API under ``/services/library/api/``;
- :mod:`.openapi`: the OpenAPI document of that API;
- :mod:`.pages`: the web pages (search with facets, item pages) and :mod:`.jsonld`, their schema.org data;
- :mod:`.render`: Markdown rendered to sanitised HTML;
- :mod:`.app`: the tornado application and its start (``python -m statcommons.library.service``).
"""
