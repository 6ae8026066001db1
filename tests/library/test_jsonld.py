"""schema.org JSON-LD of library items: the type per item type, the fields, and text safe inside <script>."""

import json
import re
from pathlib import Path

import pytest

from statcommons.library import files
from statcommons.library.service.jsonld import TYPES, duration, item_jsonld, script_text

EXAMPLES = Path(__file__).parent / "examples" / "good"
URL = "https://hub.example.org/services/library/items/x"


@pytest.fixture(scope="module")
def examples() -> dict[str, dict]:
    items, problems = files.load_folder(EXAMPLES)
    assert problems == []
    return {item["id"]: item for item in items}


def test_every_example_maps_to_its_schema_org_type(examples):
    assert {item["type"] for item in examples.values()} == set(TYPES)
    for item in examples.values():
        data = item_jsonld(item, URL)
        assert data["@context"] == "https://schema.org"
        assert data["@type"] == TYPES[item["type"]]
        assert data["name"] == item["title"]
        assert data["description"] == item["summary"]
        assert data["url"] == URL
        assert json.loads(script_text(data)) == data


def test_dataset_fields():
    item = {
        "id": "lfs",
        "type": "dataset",
        "title": "Labour force survey sample",
        "summary": "A sample.",
        "authors": ["Ana Example"],
        "organisations": ["Statistics Testland"],
        "countries": ["FR", "BE"],
        "languages": ["fr"],
        "keywords": ["employment", "survey"],
        "licence": "CC-BY-4.0",
        "gsbpm": ["4", "5.1"],
        "year": 2024,
        "created": "2024-05-01",
        "links": [{"url": "https://example.org/lfs", "doi": "10.1234/lfs"}],
        "dataset": {"url": "https://example.org/lfs.csv", "formats": ["csv", "parquet"], "size_bytes": 1200},
    }
    data = item_jsonld(item, URL)
    assert data["@type"] == "Dataset"
    assert [d["encodingFormat"] for d in data["distribution"]] == ["text/csv", "application/vnd.apache.parquet"]
    assert data["distribution"][0] == {
        "@type": "DataDownload",
        "contentUrl": "https://example.org/lfs.csv",
        "encodingFormat": "text/csv",
        "contentSize": "1200 B",
    }
    assert data["creator"] == [
        {"@type": "Person", "name": "Ana Example"},
        {"@type": "Organization", "name": "Statistics Testland"},
    ]
    assert data["license"] == "https://spdx.org/licenses/CC-BY-4.0.html"
    assert data["isAccessibleForFree"] is True
    assert data["keywords"] == ["employment", "survey"]
    assert data["inLanguage"] == "fr"
    assert [p["address"]["addressCountry"] for p in data["spatialCoverage"]] == ["FR", "BE"]
    assert data["identifier"]["propertyID"] == "DOI"
    assert data["identifier"]["url"] == "https://doi.org/10.1234/lfs"
    assert data["datePublished"] == "2024"
    assert data["dateCreated"] == "2024-05-01"
    assert [(t["termCode"], t["name"]) for t in data["about"]] == [("4", "Collect"), ("5.1", "Integrate data")]


def test_video_software_and_notebook_fields(examples):
    video = {"id": "v", "type": "video", "title": "T", "summary": "S"}
    video["video"] = {"url": "https://example.org/v", "duration_seconds": 3725, "provider": "UNECE"}
    data = item_jsonld(video, URL)
    assert (data["@type"], data["contentUrl"], data["duration"]) == ("VideoObject", "https://example.org/v", "PT1H2M5S")
    assert data["provider"] == {"@type": "Organization", "name": "UNECE"}

    software = {"id": "a", "type": "algorithm", "title": "T", "summary": "S"}
    software["algorithm"] = {"repository": "https://github.com/o/r", "language": "R"}
    data = item_jsonld(software, URL)
    assert (data["codeRepository"], data["programmingLanguage"]) == ("https://github.com/o/r", "R")

    notebook = examples["shared-record-linkage-notebook"]
    assert item_jsonld(notebook, URL)["encodingFormat"] == "application/x-ipynb+json"


def test_rating_and_free_access_are_only_claimed_when_known():
    item = {"id": "p", "type": "publication", "title": "T", "summary": "S"}
    data = item_jsonld({**item, "rating": {"average": None, "count": 0}}, URL)
    assert "aggregateRating" not in data
    assert "isAccessibleForFree" not in data and "license" not in data
    data = item_jsonld({**item, "rating": {"average": 4.5, "count": 2}}, URL)
    assert data["aggregateRating"] == {
        "@type": "AggregateRating",
        "ratingValue": 4.5,
        "ratingCount": 2,
        "bestRating": 5,
        "worstRating": 1,
    }


def test_script_text_cannot_close_the_script_element():
    title = "A </script><script>alert(1)</script> <!-- & \u2028 title"
    text = script_text({"name": title, "keywords": ["</SCRIPT>"]})
    assert not re.search(r"[<>&\u2028\u2029]", text)
    assert "\\u003c/script\\u003e" in text
    assert json.loads(text) == {"name": title, "keywords": ["</SCRIPT>"]}


def test_duration():
    assert [duration(s) for s in (1, 60, 3600, 3725)] == ["PT1S", "PT1M", "PT1H", "PT1H2M5S"]
