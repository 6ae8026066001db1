"""schema.org JSON-LD of a library item, for search engines and harvesters reading its web page.

:func:`item_jsonld` maps an item (as :meth:`BaseHandler.item_json` gives it) to one schema.org
object: ``ScholarlyArticle`` for publications, ``Article`` for experience reports, ``Dataset``,
``VideoObject``, and ``SoftwareSourceCode`` for algorithms and notebooks. :func:`script_text`
serialises it for a ``<script type="application/ld+json">`` element.
"""

from __future__ import annotations

import json
from typing import Any

from .. import gsbpm, schema

TYPES = {
    "publication": "ScholarlyArticle",
    "experience": "Article",
    "dataset": "Dataset",
    "video": "VideoObject",
    "algorithm": "SoftwareSourceCode",
    "notebook": "SoftwareSourceCode",
}
FORMATS = {
    "csv": "text/csv",
    "json": "application/json",
    "parquet": "application/vnd.apache.parquet",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "xml": "application/xml",
    "zip": "application/zip",
    "sdmx": "application/vnd.sdmx.genericdata+xml",
}

# Inside <script> the HTML parser only looks for "</script" and "<!--"; escaping every <, > and &
# (and the line separators JavaScript once refused) leaves nothing for it to find.
_ESCAPES = {"<": "\\u003c", ">": "\\u003e", "&": "\\u0026", "\u2028": "\\u2028", "\u2029": "\\u2029"}


def script_text(data: Any) -> str:
    """``data`` as JSON that is safe between ``<script type="application/ld+json">`` and ``</script>``."""
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    return "".join(_ESCAPES.get(char, char) for char in text)


def _one_or_many(values: list) -> Any:
    return values[0] if len(values) == 1 else values


def duration(seconds: int) -> str:
    """An ISO 8601 duration: ``3725`` -> ``PT1H2M5S``."""
    hours, rest = divmod(int(seconds), 3600)
    minutes, secs = divmod(rest, 60)
    parts = [f"{hours}H" if hours else "", f"{minutes}M" if minutes else "", f"{secs}S" if secs else ""]
    return "PT" + ("".join(parts) or "0S")


def licence_url(licence: str) -> str:
    return f"https://spdx.org/licenses/{licence}.html"


def _about(item: dict) -> list[dict]:
    terms = []
    for code in item.get("gsbpm", []):
        name = gsbpm.PHASES.get(code) or gsbpm.SUBPROCESSES.get(code) or code
        terms.append(
            {"@type": "DefinedTerm", "termCode": code, "name": name, "inDefinedTermSet": f"GSBPM {gsbpm.VERSION}"}
        )
    labels = schema.topics()
    for topic in item.get("topics", []):
        terms.append({"@type": "DefinedTerm", "termCode": topic, "name": labels.get(topic, topic)})
    return terms


def _type_fields(item: dict, data: dict) -> None:
    kind = item["type"]
    if kind == "dataset":
        block = item.get("dataset") or {}
        url = block.get("url") or (block["datapackage"] if block.get("datapackage", "").startswith("http") else None)
        formats = block.get("formats") or [None]
        distribution = []
        for name in formats:
            download: dict[str, Any] = {"@type": "DataDownload"}
            if url:
                download["contentUrl"] = url
            if name:
                download["encodingFormat"] = FORMATS.get(name, name)
            if block.get("size_bytes") is not None:
                download["contentSize"] = f"{block['size_bytes']} B"
            if len(download) > 1:
                distribution.append(download)
        if distribution:
            data["distribution"] = distribution
        creators = [{"@type": "Person", "name": n} for n in item.get("authors", [])]
        creators += [{"@type": "Organization", "name": n} for n in item.get("organisations", [])]
        if creators:
            data["creator"] = _one_or_many(creators)
    elif kind == "video":
        block = item.get("video") or {}
        if block.get("url"):
            data["contentUrl"] = block["url"]
        if block.get("duration_seconds"):
            data["duration"] = duration(block["duration_seconds"])
        if block.get("provider"):
            data["provider"] = {"@type": "Organization", "name": block["provider"]}
        if block.get("captions"):
            data["subtitleLanguage"] = _one_or_many(block["captions"])
    elif kind == "algorithm":
        block = item.get("algorithm") or {}
        data["codeRepository"] = block["repository"]
        data["programmingLanguage"] = block["language"]
    elif kind == "notebook":
        block = item.get("notebook") or {}
        data["encodingFormat"] = "application/x-ipynb+json"
        if block.get("repository"):
            data["codeRepository"] = block["repository"]


def item_jsonld(item: dict, url: str) -> dict:
    """The schema.org description of ``item``, whose page is at ``url``."""
    data: dict[str, Any] = {
        "@context": "https://schema.org",
        "@type": TYPES[item["type"]],
        "@id": url,
        "url": url,
        "name": item["title"],
        "description": item["summary"],
    }
    if item.get("authors"):
        data["author"] = [{"@type": "Person", "name": name} for name in item["authors"]]
    if item.get("organisations"):
        data["sourceOrganization"] = [{"@type": "Organization", "name": name} for name in item["organisations"]]
    if item.get("year"):
        data["datePublished"] = str(item["year"])
    if item.get("created"):
        data["dateCreated"] = item["created"]
    if item.get("updated"):
        data["dateModified"] = item["updated"]
    dois = [link["doi"] for link in item.get("links", []) if link.get("doi")]
    if dois:
        data["identifier"] = _one_or_many(
            [
                {"@type": "PropertyValue", "propertyID": "DOI", "value": doi, "url": f"https://doi.org/{doi}"}
                for doi in dois
            ]
        )
    if item.get("keywords"):
        data["keywords"] = item["keywords"]
    if item.get("languages"):
        data["inLanguage"] = _one_or_many(item["languages"])
    if item.get("countries"):
        data["spatialCoverage"] = [
            {"@type": "Place", "address": {"@type": "PostalAddress", "addressCountry": code}}
            for code in item["countries"]
        ]
    about = _about(item)
    if about:
        data["about"] = about
    if item.get("licence"):
        data["license"] = licence_url(item["licence"])
        # Every licence the schema accepts is an open one; without a licence nothing is claimed.
        data["isAccessibleForFree"] = True
    others = [link["url"] for link in item.get("links", [])]
    if others:
        data["sameAs"] = _one_or_many(others)
    _type_fields(item, data)
    rating = item.get("rating") or {}
    if rating.get("count"):
        data["aggregateRating"] = {
            "@type": "AggregateRating",
            "ratingValue": rating["average"],
            "ratingCount": rating["count"],
            "bestRating": 5,
            "worstRating": 1,
        }
    return data
