"""The library catalogue: curated items about data science in official statistics.

An item is a publication, experience, data set, video, algorithm or notebook,
kept as one YAML file in the repository's ``library/`` folder.

- :mod:`~statcommons.library.schema`: the item model (a JSON Schema) and
  :func:`~statcommons.library.schema.validate_item`, which adds the checks a
  schema cannot express (GSBPM codes, topics, country, language and licence
  codes, dates), plus the nbgitpuller link of a notebook;
- :mod:`~statcommons.library.gsbpm`: the phases and sub-processes of GSBPM 5.1;
- ``topics.yaml``: the controlled vocabulary of topics;
- :mod:`~statcommons.library.files`: reading the curated folder and writing items back;
- :mod:`~statcommons.library.store`: the catalogue database (items and their revisions,
  reviews, ratings, comments, faceted full-text search) on SQLite (FTS5) or PostgreSQL;
- :mod:`~statcommons.library.migrations`: the history of its tables, as Alembic revisions;
- :mod:`~statcommons.library.index`: the in-memory search index the store answers from by default;
- :mod:`~statcommons.library.search`: safe query words and highlighted snippets;
- :mod:`~statcommons.library.dcat`: the catalogue as DCAT-AP 3.0;
- :mod:`~statcommons.library.service`: the hub service (API, web pages).
"""
