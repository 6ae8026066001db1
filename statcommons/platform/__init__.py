"""The base of StatCommons: what the hub and every service stand on, importing nothing above it.

- ``paths``: where the repository is.
- ``units``: sizes and ulimits as the settings write them.
- ``names``: names of users' volumes, projects' groups, accounts and volumes.
- ``containers``: the uid/gid model, the folders, the hardening of every container.
- ``network``: the network modes and what each gives a container.
- ``engine``: the container engine (a Docker daemon, or our Podman service).
- ``images``: building the user images.
- ``volumes``: volumes on the engine, made owned by uid 1000 (capped by ``diskcap``), archived, restored.
- ``diskcap``: volumes with a size cap.
- ``clientaddress``: a request's client address, as our proxy saw it.
- ``logs``: no secret in a log line.
"""
