"""Which image runs a notebook: the image of the profile offering the kernel the notebook names.

Each profile of the settings says which kernels its image has (``profiles.<name>.kernels``).
A notebook's ``metadata.kernelspec.name`` picks the profile: the default profile when it offers
that kernel, else the first profile (in the settings' order) that does. A notebook naming no
kernel runs in the default profile's image, with that profile's first kernel. A kernel no
profile offers is refused (:class:`KernelError`, naming it and the kernels offered). The image
always comes from the settings, never from the caller. Pure: unit-tested without an engine.
"""

from __future__ import annotations

import json
from dataclasses import dataclass


class KernelError(ValueError):
    """A notebook whose kernel no profile offers; ``str()`` names it and the kernels offered."""


@dataclass(frozen=True)
class Choice:
    """Where a notebook runs: the profile, its image, and the kernels that image has."""

    profile: str
    image: str
    kernels: tuple[str, ...]


@dataclass(frozen=True)
class Kernels:
    """The profiles as runs see them: name to (image, kernels), and the default profile."""

    profiles: dict[str, Choice]
    default: str

    @classmethod
    def from_settings(cls, settings: dict) -> Kernels:
        """From the validated settings; ``runner.image``, when set, replaces the default profile's image in runs."""
        default = settings["default_profile"]
        profiles = {
            name: Choice(name, profile["image"], tuple(profile["kernels"]))
            for name, profile in settings["profiles"].items()
        }
        image = settings["runner"]["image"]
        if image:
            chosen = profiles[default]
            profiles[default] = Choice(default, image, chosen.kernels)
        return cls(profiles, default)

    def offered(self) -> list[str]:
        """Every kernel some profile offers, sorted."""
        return sorted({k for choice in self.profiles.values() for k in choice.kernels})

    def choose(self, kernel: str | None) -> Choice:
        """The profile that runs a notebook of ``kernel`` (None: the notebook names none). Raises KernelError."""
        default = self.profiles[self.default]
        if kernel is None or kernel in default.kernels:
            return default
        for choice in self.profiles.values():
            if kernel in choice.kernels:
                return choice
        raise KernelError(
            f"the notebook's kernel {kernel!r} is not offered here: the kernels offered are {', '.join(self.offered())}"
        )

    def default_image(self) -> str:
        return self.profiles[self.default].image

    def for_image(self, image: str) -> Choice | None:
        """The profile whose image a recorded run uses (the default profile first); None if no profile has it now."""
        ordered = [self.profiles[self.default], *self.profiles.values()]
        return next((choice for choice in ordered if choice.image == image), None)


def notebook_kernel(notebook: object) -> str | None:
    """The kernel a notebook names (``metadata.kernelspec.name``); None when it names none or is no notebook.

    A file that is not a notebook runs in the default profile's image, where papermill says what is wrong with it.
    """
    metadata = notebook.get("metadata") if isinstance(notebook, dict) else None
    spec = metadata.get("kernelspec") if isinstance(metadata, dict) else None
    name = spec.get("name") if isinstance(spec, dict) else None
    return name if isinstance(name, str) and name.strip() else None


def read_kernel(data: bytes | None) -> str | None:
    """:func:`notebook_kernel` of a notebook file's bytes (None: no file)."""
    try:
        return notebook_kernel(json.loads(data)) if data else None
    except ValueError:
        return None
