"""The library item model: a JSON Schema and the checks a schema cannot express.

:data:`SCHEMA` (JSON Schema Draft 2020-12) describes one catalogue item: the fields
every item has, and one block of fields for the types that need more (``notebook``,
``dataset``, ``video``, ``algorithm``), allowed only on items of that type.
:func:`validate_item` checks an item against it and adds what JSON Schema cannot
check: GSBPM codes, topics from ``topics.yaml``, ISO 3166-1 country and ISO 639-1
language codes, SPDX licence ids and real dates. Each :class:`Problem` names the
field path and what is wrong, in one line.
"""

from __future__ import annotations

import copy
import difflib
import functools
import re
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import jsonschema
import yaml

from ..schematext import allowed
from . import gsbpm

SCHEMA_VERSION = "1.0.0"
SCHEMA_ID = f"https://statcommons.org/schemas/library-item/{SCHEMA_VERSION}"
TOPICS_PATH = Path(__file__).with_name("topics.yaml")
_TOPICS_FILE = "statcommons/library/topics.yaml"

TYPES = ("publication", "experience", "dataset", "video", "algorithm", "notebook")
BLOCKS = ("notebook", "dataset", "video", "algorithm")
STATUSES = ("draft", "submitted", "published", "rejected", "retired")

SLUG_PATTERN = r"^[a-z0-9]+(-[a-z0-9]+)*$"
GSBPM_PATTERN = r"^[1-8](\.[1-9])?$"
COUNTRY_PATTERN = r"^[A-Z]{2}$"
LANGUAGE_PATTERN = r"^[a-z]{2}$"
LICENCE_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9.+-]*$"
TIMESTAMP_PATTERN = r"^\d{4}-\d{2}-\d{2}([Tt ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?([Zz]|[+-]\d{2}:\d{2})?)?$"
_SEGMENT = r"[^/\\.\x00-\x1f][^/\\\x00-\x1f]*"
_RELATIVE_PATH = rf"({_SEGMENT}/)*{_SEGMENT}"

# ISO 3166-1 alpha-2 and ISO 639-1, from Debian's iso-codes 4.15.0 (pycountry is not a dependency).
COUNTRIES = frozenset(
    (
        "AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ BR BS BT BV BW BY "
        "BZ CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ DE DJ DK DM DO DZ EC EE EG EH ER ES ET FI FJ FK "
        "FM FO FR GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS GT GU GW GY HK HM HN HR HT HU ID IE IL IM IN IO IQ IR "
        "IS IT JE JM JO JP KE KG KH KI KM KN KP KR KW KY KZ LA LB LC LI LK LR LS LT LU LV LY MA MC MD ME MF MG MH MK "
        "ML MM MN MO MP MQ MR MS MT MU MV MW MX MY MZ NA NC NE NF NG NI NL NO NP NR NU NZ OM PA PE PF PG PH PK PL PM "
        "PN PR PS PT PW PY QA RE RO RS RU RW SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS ST SV SX SY SZ TC TD TF "
        "TG TH TJ TK TL TM TN TO TR TT TV TW TZ UA UG UM US UY UZ VA VC VE VG VI VN VU WF WS YE YT ZA ZM ZW"
    ).split()
)
LANGUAGES = frozenset(
    (
        "aa ab ae af ak am an ar as av ay az ba be bg bh bi bm bn bo br bs ca ce ch co cr cs cu cv cy da de dv dz ee "
        "el en eo es et eu fa ff fi fj fo fr fy ga gd gl gn gu gv ha he hi ho hr ht hu hy hz ia id ie ig ii ik io is "
        "it iu ja jv ka kg ki kj kk kl km kn ko kr ks ku kv kw ky la lb lg li ln lo lt lu lv mg mh mi mk ml mn mr ms "
        "mt my na nb nd ne ng nl nn no nr nv ny oc oj om or os pa pi pl ps pt qu rm rn ro ru rw sa sc sd se sg si sk "
        "sl sm sn so sq sr ss st su sv sw ta te tg th ti tk tl tn to tr ts tt tw ty ug uk ur uz ve vi vo wa wo xh yi "
        "yo za zh zu"
    ).split()
)
LICENCES = frozenset(
    (
        "CC-BY-4.0 CC-BY-SA-4.0 CC-BY-NC-4.0 CC-BY-NC-SA-4.0 CC-BY-ND-4.0 CC-BY-NC-ND-4.0 CC-BY-3.0 CC-BY-SA-3.0 "
        "CC0-1.0 PDDL-1.0 ODbL-1.0 ODC-By-1.0 OGL-UK-3.0 OGL-Canada-2.0 DL-DE-BY-2.0 DL-DE-ZERO-2.0 etalab-2.0 "
        "MIT Apache-2.0 BSD-2-Clause BSD-3-Clause ISC BSL-1.0 Zlib Unlicense Artistic-2.0 CECILL-2.1 MPL-2.0 "
        "EUPL-1.1 EUPL-1.2 GPL-2.0-only GPL-2.0-or-later GPL-3.0-only GPL-3.0-or-later LGPL-2.1-only "
        "LGPL-2.1-or-later LGPL-3.0-only LGPL-3.0-or-later AGPL-3.0-only AGPL-3.0-or-later"
    ).split()
)
_NOT_ISO_COUNTRIES = {"EL": "GR", "UK": "GB"}


@dataclass(frozen=True, order=True)
class Problem:
    """One thing wrong with an item: the field path (``links[0].url``) and what is wrong."""

    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.path or 'top level'}: {self.message}"


def _string(pattern: str, description: str) -> dict:
    return {"type": "string", "pattern": pattern, "description": description}


def _list(items: dict, description: str) -> dict:
    return {"type": "array", "items": items, "uniqueItems": True, "description": description}


def _obj(properties: dict, required: tuple = (), description: str = "", rules: dict | None = None) -> dict:
    schema = {"type": "object", "additionalProperties": False, "properties": properties, "required": list(required)}
    if description:
        schema["description"] = description
    return {**schema, **(rules or {})}


def _forbidden(reason: str) -> dict:
    return {"not": {}, "description": reason}


_TEXT = _string(r"\S", "a non-empty text")
_URL = _string(r"^https?://[^\s/]+\S*$", "an http(s) URL such as https://example.org/page")
_GIT_URL = _string(r"^https?://[^\s/]+/\S+$", "the http(s) address of a git repository, such as https://github.com/o/r")
_SLUG = _string(SLUG_PATTERN, "a slug: lowercase letters, digits and single hyphens")
_LANGUAGE = _string(LANGUAGE_PATTERN, "an ISO 639-1 language code such as en or fr")
_TIMESTAMP = _string(TIMESTAMP_PATTERN, "a date such as 2024-05-01 or a date-time such as 2024-05-01T09:30:00Z")

_LINK = _obj(
    {
        "url": _URL,
        "title": _TEXT,
        "doi": _string(r"^10\.\d{4,9}/\S+$", "a DOI such as 10.1000/xyz123, without https://doi.org/"),
    },
    required=("url",),
    description="a link: url, and optionally title and doi",
)

_PROVENANCE = _obj(
    {
        "source": {"enum": ["local", "harvested"], "description": "local or harvested"},
        "harvested_from": _URL,
    },
    required=("source",),
    description="where the item comes from: source (local or harvested) and harvested_from",
    rules={
        "if": {"properties": {"source": {"const": "harvested"}}, "required": ["source"]},
        "then": {"required": ["harvested_from"], "x-requirement": "required when source is 'harvested'"},
        "else": {"properties": {"harvested_from": _forbidden("only harvested items have it")}},
    },
)

_IN_REPOSITORY = ("repository", "branch", "path")

NOTEBOOK_SCHEMA = _obj(
    {
        "repository": _GIT_URL,
        "branch": _string(r"^[A-Za-z0-9_][A-Za-z0-9._/-]*$", "a git branch name such as main"),
        "path": _string(rf"^{_RELATIVE_PATH}$", "a path inside the repository such as notebooks/intro.ipynb"),
        "shared_path": _string(
            rf"^shared-notebooks/{_RELATIVE_PATH}$",
            "a path under shared-notebooks/ such as shared-notebooks/record-linkage/intro.ipynb",
        ),
        "attached": _string(
            r"^[^/\\\x00-\x1f]+\.ipynb$",
            "the file name of a notebook sent with the submission and kept by the library, such as analysis.ipynb",
        ),
    },
    description="where the notebook is: repository, branch and path; or shared_path; or attached",
    rules={
        "if": {"required": ["shared_path"]},
        "then": {
            "properties": {
                **{k: _forbidden("not together with shared_path") for k in _IN_REPOSITORY},
                "attached": _forbidden("not together with shared_path"),
            }
        },
        "else": {
            "if": {"required": ["attached"]},
            "then": {"properties": {k: _forbidden("not together with attached") for k in _IN_REPOSITORY}},
            "else": {
                "required": list(_IN_REPOSITORY),
                "x-requirement": "required unless shared_path or attached is given",
            },
        },
    },
)

LAST_RUN_SCHEMA = _obj(
    {
        "status": {"enum": ["succeeded", "failed", "timeout", "interrupted", "cancelled"]},
        "finished": _TIMESTAMP,
        "run": _string(r"\S", "the id of the run"),
        "error": {"type": "string", "description": "what failed, for a run that did not succeed"},
        "cell": {"type": "integer", "minimum": 0, "description": "the cell that failed (0 is the first)"},
        "missing_package": _string(r"\S", "the package the error says the image lacks"),
    },
    required=("status", "finished"),
    description="the latest run of a notebook, written by the runner: status, finished, run, error, cell, "
    "missing_package",
)

DATASET_SCHEMA = _obj(
    {
        "datapackage": _string(
            rf"^(https?://\S+|datasets/({_SEGMENT}/)*datapackage\.(json|yaml))$",
            "a Frictionless data package: a path such as datasets/lfs/datapackage.json or an http(s) URL",
        ),
        "url": _URL,
        "formats": _list(_string(r"^[a-z0-9][a-z0-9.+-]*$", "a lowercase format name such as csv"), "file formats"),
        "size_bytes": {"type": "integer", "minimum": 0, "description": "a size in bytes, 0 or more"},
        "checksum": _string(r"^sha256:[0-9a-f]{64}$", "sha256: followed by 64 lowercase hexadecimal digits"),
    },
    description="the data set: datapackage or url, formats, size_bytes, checksum",
    rules={
        "if": {"not": {"required": ["url"]}},
        "then": {"required": ["datapackage"], "x-requirement": "required unless url is given"},
    },
)

VIDEO_FILE_TYPES = {".mp4": "video/mp4", ".m4v": "video/mp4", ".webm": "video/webm", ".ogv": "video/ogg"}

VIDEO_SCHEMA = _obj(
    {
        "url": _URL,
        "file": _string(
            r"^[A-Za-z0-9][A-Za-z0-9._-]{0,120}\.(mp4|m4v|webm|ogv)$",
            "the file name of a video the library stores and plays, such as talk.webm (mp4, m4v, webm or ogv)",
        ),
        "duration_seconds": {"type": "integer", "minimum": 1, "description": "a whole number of seconds, at least 1"},
        "provider": _TEXT,
        "captions": _list(_LANGUAGE, "the languages of the captions, as ISO 639-1 codes"),
    },
    description="the video: url or file, duration_seconds, provider, captions",
    rules={
        "if": {"not": {"required": ["file"]}},
        "then": {"required": ["url"], "x-requirement": "required unless file is given"},
    },
)

ALGORITHM_SCHEMA = _obj(
    {
        "repository": _GIT_URL,
        "language": _string(r"\S", "the programming language, such as Python or R"),
        "install": _string(r"\S", "how to install it, such as pip install recordlinkage"),
        "entry_point": _string(r"\S", "where to start, such as a module, function or command"),
    },
    required=("repository", "language"),
    description="the implementation: repository, language, install, entry_point",
)

ITEM_PROPERTIES: dict[str, dict] = {
    "id": {**_SLUG, "minLength": 3, "maxLength": 80, "description": "a slug of 3 to 80 lowercase letters, digits, -"},
    "type": {"enum": list(TYPES)},
    "status": {"enum": list(STATUSES), "default": "published"},
    "title": _TEXT,
    "summary": {**_TEXT, "description": "a non-empty Markdown text"},
    "authors": _list(_TEXT, "a list of names"),
    "organisations": _list(_TEXT, "a list of organisation names"),
    "year": {"type": "integer", "minimum": 1900, "maximum": 2100, "description": "a year from 1900 to 2100"},
    "countries": _list(_string(COUNTRY_PATTERN, "an ISO 3166-1 alpha-2 code such as FR"), "a list of country codes"),
    "languages": _list(_LANGUAGE, "a list of ISO 639-1 language codes"),
    "topics": _list(_SLUG, "a list of topics from statcommons/library/topics.yaml"),
    "gsbpm": _list(_string(GSBPM_PATTERN, "a GSBPM code such as 5 or 5.1"), "a list of GSBPM 5.1 codes"),
    "keywords": _list(_TEXT, "a list of keywords"),
    "licence": _string(LICENCE_PATTERN, "an SPDX licence id such as CC-BY-4.0"),
    "links": _list(_LINK, "a list of links"),
    "notebook": NOTEBOOK_SCHEMA,
    "dataset": DATASET_SCHEMA,
    "video": VIDEO_SCHEMA,
    "algorithm": ALGORITHM_SCHEMA,
    "provenance": {**_PROVENANCE, "default": {"source": "local"}},
    "created": _TIMESTAMP,
    "updated": _TIMESTAMP,
    "last_run": LAST_RUN_SCHEMA,
}


def _type_rule(kind: str) -> dict:
    then: dict = {"properties": {b: _forbidden(f"only items of type {b!r} have it") for b in BLOCKS if b != kind}}
    if kind in BLOCKS:
        then.update({"required": [kind], "x-requirement": f"required when type is {kind!r}"})
    return {"if": {"properties": {"type": {"const": kind}}, "required": ["type"]}, "then": then}


SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "$id": SCHEMA_ID,
    "version": SCHEMA_VERSION,
    "title": "StatCommons library item",
    **_obj(ITEM_PROPERTIES, required=("id", "type", "title", "summary")),
    "allOf": [_type_rule(kind) for kind in TYPES],
}


@functools.cache
def topics() -> dict[str, str]:
    """The topic vocabulary: slug -> label, from ``topics.yaml``."""
    return dict(yaml.safe_load(TOPICS_PATH.read_text(encoding="utf-8")))


@functools.cache
def _validator() -> jsonschema.Draft202012Validator:
    return jsonschema.Draft202012Validator(SCHEMA)


def _join(path: str, key: object) -> str:
    return f"{path}.{key}" if path else str(key)


def _path(parts) -> str:
    path = ""
    for part in parts:
        path = f"{path}[{part}]" if isinstance(part, int) else _join(path, part)
    return path


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _describe(error: jsonschema.ValidationError) -> list[Problem]:
    """The problems of one schema error, worded from the schema's descriptions.

    A schema with ``required`` may carry ``x-requirement`` (a StatCommons annotation) saying
    when the fields are required; ``{"not": {}}`` forbids a field, its description saying why.
    """
    path = _path(error.absolute_path)
    schema = error.schema if isinstance(error.schema, dict) else {}
    if error.validator == "additionalProperties":
        known = sorted(schema.get("properties", {}))
        unknown = sorted(str(k) for k in error.instance if k not in known)
        message = f"unknown field: allowed fields here are {', '.join(known)}"
        return [Problem(_join(path, key), message) for key in unknown]
    if error.validator == "required":
        requirement = schema.get("x-requirement", "required")
        missing = [key for key in error.validator_value if key not in error.instance]
        return [Problem(_join(path, key), f"missing: {requirement}") for key in missing]
    if error.validator == "not" and error.validator_value == {}:
        return [Problem(path, f"not allowed: {schema.get('description', 'not allowed here')}")]
    if error.validator == "type" and schema.get("type") == "string" and _is_number(error.instance):
        return [Problem(path, f"{error.instance!r} is a number, not text: put it in quotes, as in '{error.instance}'")]
    if error.validator == "uniqueItems":
        return [Problem(path, "contains duplicates: give each value once")]
    return [Problem(path, f"{_short(error.instance)} is not allowed: expected {allowed(schema)}")]


def _strings(item: dict, *keys: str):
    """(path, value) for each string of the list at ``item[keys[0]][keys[1]]...``."""
    value: Any = item
    for key in keys:
        value = value.get(key) if isinstance(value, dict) else None
    if isinstance(value, list):
        for i, entry in enumerate(value):
            if isinstance(entry, str):
                yield f"{'.'.join(keys)}[{i}]", entry


def _gsbpm_problems(item: dict) -> list[Problem]:
    problems = []
    for path, code in _strings(item, "gsbpm"):
        if re.match(GSBPM_PATTERN, code) and not gsbpm.is_valid(code):
            phase = code.split(".")[0]
            subs = gsbpm.subprocesses_of(phase)
            problems.append(
                Problem(
                    path,
                    f"{code!r} is not a GSBPM {gsbpm.VERSION} sub-process: phase {phase} "
                    f"({gsbpm.PHASES[phase]}) has {subs[0]} to {subs[-1]}",
                )
            )
    return problems


def _topic_problems(item: dict) -> list[Problem]:
    vocabulary = topics()
    problems = []
    for path, slug in _strings(item, "topics"):
        if re.match(SLUG_PATTERN, slug) and slug not in vocabulary:
            close = difflib.get_close_matches(slug, vocabulary, n=1)
            hint = f": did you mean {close[0]!r}?" if close else ""
            problems.append(Problem(path, f"{slug!r} is not in the topic vocabulary ({_TOPICS_FILE}){hint}"))
    return problems


def _code_problems(item: dict) -> list[Problem]:
    problems = []
    for path, code in _strings(item, "countries"):
        if re.match(COUNTRY_PATTERN, code) and code not in COUNTRIES:
            hint = f": use {_NOT_ISO_COUNTRIES[code]!r}" if code in _NOT_ISO_COUNTRIES else ""
            problems.append(Problem(path, f"{code!r} is not an ISO 3166-1 alpha-2 country code{hint}"))
    for path, code in [*_strings(item, "languages"), *_strings(item, "video", "captions")]:
        if re.match(LANGUAGE_PATTERN, code) and code not in LANGUAGES:
            problems.append(Problem(path, f"{code!r} is not an ISO 639-1 language code"))
    return problems


def _licence_problems(item: dict) -> list[Problem]:
    licence = item.get("licence")
    if not isinstance(licence, str) or not re.match(LICENCE_PATTERN, licence) or licence in LICENCES:
        return []
    spelled = [known for known in LICENCES if known.lower() == licence.lower()]
    hint = f"write it {spelled[0]!r}" if spelled else "use one such as CC-BY-4.0, CC0-1.0, MIT or Apache-2.0"
    return [Problem("licence", f"{licence!r} is not an SPDX licence id StatCommons accepts: {hint}")]


def _timestamp(value: Any) -> datetime | None:
    if not isinstance(value, str) or not re.match(TIMESTAMP_PATTERN, value):
        return None
    try:
        return datetime.fromisoformat(value.replace("z", "Z"))
    except ValueError:
        return None


def _date_problems(item: dict) -> list[Problem]:
    problems = []
    for key in ("created", "updated"):
        value = item.get(key)
        if isinstance(value, str) and re.match(TIMESTAMP_PATTERN, value) and _timestamp(value) is None:
            problems.append(Problem(key, f"{value!r} is not a valid date or date-time"))
    created, updated = _timestamp(item.get("created")), _timestamp(item.get("updated"))
    if created and updated and updated.date() < created.date():
        problems.append(Problem("updated", f"{item['updated']} is before created ({item['created']})"))
    return problems


def validate_item(data: Any) -> list[Problem]:
    """Every problem of one item (parsed YAML or JSON), sorted by field path; empty when it is valid."""
    if not isinstance(data, dict):
        return [Problem("", f"expected a mapping of fields, found {type(data).__name__}")]
    problems = {problem for error in _validator().iter_errors(data) for problem in _describe(error)}
    for check in (_gsbpm_problems, _topic_problems, _code_problems, _licence_problems, _date_problems):
        problems.update(check(data))
    return sorted(problems)


def apply_defaults(item: dict) -> dict:
    """A copy of ``item`` with the defaults of curated files (status published, local provenance)."""
    filled = copy.deepcopy(item)
    for key, schema in ITEM_PROPERTIES.items():
        if key not in filled and "default" in schema:
            filled[key] = copy.deepcopy(schema["default"])
    return filled


def nbgitpuller_link(item: dict, hub_url: str) -> str:
    """The nbgitpuller link that clones a repository notebook and opens it in JupyterLab.

    The form is nbgitpuller's: ``{hub_url}/hub/user-redirect/git-pull?repo=...&branch=...&urlpath=...``,
    each value encoded as its link generator does (``application/x-www-form-urlencoded``). The
    notebook opens at ``lab/tree/<clone folder>/<path>``, where the clone folder is the last part
    of the repository URL, the name nbgitpuller gives it.
    """
    notebook = item.get("notebook") or {}
    if "repository" not in notebook:
        raise ValueError(f"{item.get('id')}: only notebooks with a repository have an nbgitpuller link")
    if not re.match(r"^https?://[^\s/]+", hub_url):
        raise ValueError(f"{hub_url!r} is not an http(s) URL of a hub")
    repository = notebook["repository"]
    folder = repository.rstrip("/").split("/")[-1]
    query = urlencode(
        {"repo": repository, "branch": notebook["branch"], "urlpath": f"lab/tree/{folder}/{notebook['path']}"}
    )
    return f"{hub_url.rstrip('/')}/hub/user-redirect/git-pull?{query}"
