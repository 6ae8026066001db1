"""The notebook runner: a hub-managed service that executes notebooks in fresh containers.

``python -m statcommons.runner`` (the hub starts it, see :func:`statcommons.hub.config.update_services`)
runs library notebooks and users' own notebooks with papermill in containers of the image of
the profile offering the notebook's kernel, now (``POST /api/runs``) or on cron schedules, one
at a time per slot up to a concurrency limit, each with a time limit and a memory limit, and
records every run.

Modules: :mod:`.access` (scopes, who calls), :mod:`.store` (runs and schedules in SQLAlchemy),
:mod:`.sources` (the library API: items, attached notebooks, ``last_run``),
:mod:`.kernels` (which profile's image runs a notebook, by its kernel),
:mod:`.executor` (containers and papermill), :mod:`.incontainer` (the driver run inside the
container), :mod:`.runs` (queue, workers, recovery after a crash, cancelling),
:mod:`.scheduler` (cron), :mod:`.models` (what requests and answers hold), :mod:`.api` (the
endpoints, declared once: routes, validation and the OpenAPI document) and :mod:`.app` (the HTTP
service), :mod:`.registration` (what the hub registers, and the options).
"""
