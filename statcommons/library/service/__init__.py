"""The library catalogue as a hub-managed JupyterHub service, at ``/services/library/``.

- :mod:`.access`: who is calling and what their scopes let them do;
- :mod:`.attachments`: notebook files sent with submissions, and notebooks' last runs;
- :mod:`.models`: what the API's requests may hold and its answers hold (and the item schema's parts);
- :mod:`.api`: the REST API under ``/services/library/api/``, each endpoint declared once (its OpenAPI document too);
- :mod:`.pages`: the web pages (search with facets, item pages) and :mod:`.jsonld`, their schema.org data;
- :mod:`.render`: Markdown rendered to sanitised HTML;
- :mod:`.app`: the tornado application and its start (``python -m statcommons.library.service``).
"""
