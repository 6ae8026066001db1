"""The library catalogue as a hub-managed JupyterHub service, at ``/services/library/``.

- :mod:`.access`: who is calling and what their scopes let them do;
- :mod:`.notebooks`: the notebooks that submissions carry, kept beside the catalogue;
- :mod:`.api`: the REST API under ``/services/library/api/``;
- :mod:`.openapi`: the OpenAPI document of that API;
- :mod:`.render`: Markdown rendered to sanitised HTML;
- :mod:`.app`: the tornado application and its start (``python -m statcommons.library.service``).
"""
