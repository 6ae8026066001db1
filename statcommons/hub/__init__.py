"""The hub's side: its configuration, authenticators, login forms, spawner and server specs, and pages.

- ``config``: the hub's configuration from the settings (set-only functions).
- ``serverspec``: what a server gets, as plain data; ``spawner``: DockerSpawner driven by it.
- ``auth``, ``approval``, ``logins``, ``throttle``, ``oauth``: who logs in, and how.
- ``templates``: the hub's pages with StatCommons' entries; ``proxy``: a fix loaded into the proxy.
"""
