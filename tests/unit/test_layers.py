"""The package's layers, read from its imports: each layer imports only those below it, and nothing goes round.

    platform             the base: imports nothing of StatCommons above it
    settings             the settings file (schematext beside it)
    kit                  what every service is built from
    library, runner, projects
                         the services: none imports another
    hub                  the hub's side: of the services, only their registration
    __main__             the command
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "statcommons"
SERVICES = ("library", "runner", "projects")
#: What each part may import of the package (besides itself).
ALLOWED = {
    "platform": set(),
    "schematext": set(),
    "settings": {"platform", "schematext"},
    "kit": {"platform", "settings", "schematext"},
    **{service: {"platform", "settings", "schematext", "kit"} for service in SERVICES},
    "hub": {"platform", "settings", "schematext", "kit"},
    "__main__": {"platform", "settings", "schematext", "kit", "hub", *SERVICES},
    "__init__": set(),
}


def _module(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _imports(path: Path) -> set[str]:
    module = _module(path)
    package = module if path.name == "__init__.py" else module.rsplit(".", 1)[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                parts = package.split(".")
                base = ".".join(parts[: len(parts) - node.level + 1] + ([node.module] if node.module else []))
            else:
                base = node.module or ""
            # ``from package import module`` imports the module (and runs the package's __init__,
            # which is the package's own business); ``from module import name`` imports the module.
            named = {f"{base}.{alias.name}" for alias in node.names}
            found |= (named & MODULES.keys()) or {base}
    return {name for name in found if name == "statcommons" or name.startswith("statcommons.")}


MODULES = {_module(path): path for path in PACKAGE.rglob("*.py")}
GRAPH = {name: {i for i in _imports(path) if i in MODULES and i != name} for name, path in MODULES.items()}


def _part(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def test_each_layer_imports_only_the_layers_below_it():
    wrong = []
    for module, imported in GRAPH.items():
        part = _part(module)
        for target in imported:
            other = _part(target)
            if other == part or other == "__init__":
                continue
            registration = other in SERVICES and target == f"statcommons.{other}.registration" and part == "hub"
            if other not in ALLOWED[part] and not registration:
                wrong.append(f"{module} -> {target}")
    assert wrong == []


def test_no_import_goes_round():
    """No circle between modules (a module importing a package's other modules through it aside)."""
    circles = []
    for module, imported in GRAPH.items():
        for target in imported:
            if module.startswith(target + ".") or target.startswith(module + "."):
                continue
            if _reaches(target, module, {module}):
                circles.append(f"{module} -> {target}")
    assert circles == []


def _reaches(start: str, goal: str, seen: set[str]) -> bool:
    stack = [start]
    while stack:
        current = stack.pop()
        if current == goal:
            return True
        if current in seen:
            continue
        seen.add(current)
        stack += [t for t in GRAPH.get(current, ()) if not (current.startswith(t + ".") or t.startswith(current + "."))]
    return False


@pytest.mark.parametrize("service", SERVICES)
def test_a_service_is_registered_by_one_module(service):
    assert (PACKAGE / service / "registration.py").is_file()
