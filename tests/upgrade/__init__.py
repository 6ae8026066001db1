"""Upgrades: a state folder made by the previous release, opened by the current hub.

``make_previous_release`` made the fixture ``previous-release/`` with release 232be57's own
hub; ``test_previous_release`` starts the current hub on a copy of it.
"""
