"""Who calls a service: the hub user or service a token or cookie belongs to, and its scopes.

Each service's ``access`` module subclasses :class:`Caller` with what its own scopes allow; the
hub's answer about a token (``hub_user``) becomes one with :meth:`Caller.from_model`.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Caller:
    """A hub user or service, with the scopes the hub granted the token or cookie it came with."""

    name: str
    kind: str = "user"
    scopes: frozenset[str] = frozenset()

    @classmethod
    def from_model(cls, model: dict):
        """The caller the hub describes in ``model`` (JupyterHub's user or service model)."""
        return cls(name=model["name"], kind=model.get("kind", "user"), scopes=frozenset(model.get("scopes", ())))
