"""Project spaces: shared project volumes, membership as hub groups, and each project's collaboration server."""
