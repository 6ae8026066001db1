"""The curated library folder: one YAML file per item, named after its id.

:func:`load_folder` reads every ``*.yaml`` file of a folder (``library/`` in the
repository), checks each item with :func:`~statcommons.library.schema.validate_item`,
that its file is called ``<id>.yaml`` and that no two files share an id, and reports
each problem in one line: ``library/<file>: <field path>: <problem>``.
:func:`dump_item` writes an item back as YAML with a stable key order.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import yaml

from ..settings import ROOT
from .schema import ITEM_PROPERTIES, apply_defaults, validate_item


class _Loader(yaml.SafeLoader):
    """Safe YAML that keeps dates as the text written and refuses duplicate keys."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict:
        seen: set[str] = set()
        for key_node, _ in node.value:
            if isinstance(key_node, yaml.ScalarNode):
                if key_node.value in seen:
                    raise yaml.constructor.ConstructorError(
                        None, None, f"duplicate key {key_node.value!r}", key_node.start_mark
                    )
                seen.add(key_node.value)
        return super().construct_mapping(node, deep)


_Loader.add_constructor("tag:yaml.org,2002:timestamp", yaml.SafeLoader.construct_scalar)


class _Dumper(yaml.SafeDumper):
    """YAML output with multi-line text (Markdown summaries) as literal blocks."""


def _represent_str(dumper: yaml.SafeDumper, text: str) -> yaml.ScalarNode:
    style = "|" if "\n" in text else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", text, style=style)


_Dumper.add_representer(str, _represent_str)


def _shown(folder: Path) -> str:
    try:
        return folder.resolve().relative_to(ROOT).as_posix()
    except ValueError:
        return str(folder)


def _yaml_problem(error: yaml.YAMLError) -> str:
    mark, context_mark = getattr(error, "problem_mark", None), getattr(error, "context_mark", None)
    where = f"line {mark.line + 1}" if mark else "top level"
    problem = f"{where}: not valid YAML: {getattr(error, 'problem', None) or error}"
    context = getattr(error, "context", None)
    if context and context_mark and context_mark.line != getattr(mark, "line", None):
        problem += f" ({context} on line {context_mark.line + 1})"
    return problem


def _read(file: Path) -> tuple[Any, list[str]]:
    """The parsed content of one file, or the problems that prevent reading it."""
    try:
        data = yaml.load(file.read_text(encoding="utf-8"), Loader=_Loader)
    except UnicodeDecodeError:
        return None, ["top level: not UTF-8 text"]
    except yaml.YAMLError as e:
        return None, [_yaml_problem(e)]
    if data is None:
        return None, ["top level: empty file: expected one item"]
    return data, []


def _check(file: Path, data: Any) -> list[str]:
    problems = [str(problem) for problem in validate_item(data)]
    item_id = data.get("id") if isinstance(data, dict) else None
    if isinstance(item_id, str) and item_id != file.stem:
        problems.append(f"id: {item_id!r} does not match the file name: name the file {item_id}.yaml")
    return problems


def load_folder(path: str | os.PathLike) -> tuple[list[dict], list[str]]:
    """Read and check every item of a folder.

    Returns the valid items (defaults applied, sorted by id) and one line per problem,
    sorted. An item with any problem, a duplicate id included, is left out of the items.
    """
    folder = Path(path)
    shown = _shown(folder)
    if not folder.is_dir():
        return [], [f"{shown}: folder not found"]
    lines = [
        f"{shown}/{file.name}: top level: not read: items are *.yaml files, name it {file.stem}.yaml"
        for file in sorted(folder.glob("*.yml"))
    ]
    loaded: dict[str, dict] = {}
    files_of: dict[str, list[str]] = {}
    for file in sorted(folder.glob("*.yaml")):
        data, problems = _read(file)
        if data is not None:
            problems = _check(file, data)
            item_id = data.get("id") if isinstance(data, dict) else None
            if isinstance(item_id, str):
                files_of.setdefault(item_id, []).append(file.name)
        lines += [f"{shown}/{file.name}: {problem}" for problem in problems]
        if data is not None and not problems:
            loaded[file.name] = data
    for item_id, names in files_of.items():
        if len(names) < 2:
            continue
        for name in names:
            others = ", ".join(f"{shown}/{other}" for other in names if other != name)
            lines.append(f"{shown}/{name}: id: {item_id!r} is also the id of {others}")
            loaded.pop(name, None)
    items = sorted((apply_defaults(data) for data in loaded.values()), key=lambda item: item["id"])
    return items, sorted(lines)


def _ordered(value: Any, schema: dict) -> Any:
    """``value`` with mapping keys in schema order, unknown keys last and sorted."""
    if isinstance(value, dict):
        properties = schema.get("properties", {})
        keys = [k for k in properties if k in value] + sorted((k for k in value if k not in properties), key=str)
        return {k: _ordered(value[k], properties.get(k, {})) for k in keys}
    if isinstance(value, list):
        return [_ordered(entry, schema.get("items", {})) for entry in value]
    return value


def dump_item(item: dict) -> str:
    """The YAML text of one item, keys in the order of the schema, ready for ``library/<id>.yaml``."""
    ordered = _ordered(item, {"properties": ITEM_PROPERTIES})
    return yaml.dump(ordered, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=100)
