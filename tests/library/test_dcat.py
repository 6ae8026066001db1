"""The catalogue as DCAT-AP 3.0: the curated items and the sample items, their mapping, and the serialisations.

The DCAT-AP constraints are checked here explicitly (:data:`CONSTRAINTS`, from the mandatory
properties, cardinalities and ranges of the DCAT-AP 3.0 SHACL shapes). When pyshacl is
installed and ``DCAT_AP_SHAPES`` names the official shapes files (``dcat-ap-SHACL.ttl`` of
SEMICeu/DCAT-AP ``releases/3.0.0`` or ``3.0.1``, separated by ``:``), the graph is validated
against them too.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
import rdflib
from rdflib import Literal, URIRef
from rdflib.compare import isomorphic
from rdflib.namespace import DCMITYPE, DCTERMS, FOAF, RDF, SKOS

from statcommons.library import dcat, files
from statcommons.settings import ROOT

# Open namespaces: pytest's collection probes module attributes, and rdflib's closed ones warn about that.
DCAT = rdflib.Namespace("http://www.w3.org/ns/dcat#")
XSD = rdflib.Namespace("http://www.w3.org/2001/XMLSchema#")
BASE = "https://hub.example.org/services/library/"
EU = "http://publications.europa.eu/resource/authority/"
SPDX = rdflib.Namespace("http://spdx.org/rdf/terms#")
ADMS = rdflib.Namespace("http://www.w3.org/ns/adms#")

# (class, property, min, max, class every value must have): DCAT-AP 3.0's mandatory
# properties, the cardinalities it restricts and the ranges of the properties this export uses.
CONSTRAINTS = [
    (DCAT.Catalog, DCTERMS.title, 1, None, None),
    (DCAT.Catalog, DCTERMS.description, 1, None, None),
    (DCAT.Catalog, DCTERMS.publisher, 1, 1, FOAF.Agent),
    (DCAT.Catalog, FOAF.homepage, 0, 1, FOAF.Document),
    (DCAT.Catalog, DCTERMS.modified, 0, 1, None),
    (DCAT.Catalog, DCTERMS.language, 0, None, DCTERMS.LinguisticSystem),
    (DCAT.Catalog, DCAT.dataset, 0, None, DCAT.Dataset),
    (DCAT.Catalog, DCAT.themeTaxonomy, 0, None, SKOS.ConceptScheme),
    (DCAT.Dataset, DCTERMS.title, 1, None, None),
    (DCAT.Dataset, DCTERMS.description, 1, None, None),
    (DCAT.Dataset, DCTERMS.publisher, 0, 1, FOAF.Agent),
    (DCAT.Dataset, DCTERMS.creator, 0, None, FOAF.Agent),
    (DCAT.Dataset, DCTERMS.issued, 0, 1, None),
    (DCAT.Dataset, DCTERMS.modified, 0, 1, None),
    (DCAT.Dataset, DCTERMS.language, 0, None, DCTERMS.LinguisticSystem),
    (DCAT.Dataset, DCTERMS.spatial, 0, None, DCTERMS.Location),
    (DCAT.Dataset, DCTERMS.type, 0, None, SKOS.Concept),
    (DCAT.Dataset, DCAT.theme, 1, None, SKOS.Concept),
    (DCAT.Dataset, DCAT.distribution, 0, None, DCAT.Distribution),
    (DCAT.Dataset, DCAT.landingPage, 0, None, FOAF.Document),
    (DCAT.Dataset, FOAF.page, 0, None, FOAF.Document),
    (DCAT.Dataset, ADMS.identifier, 0, None, ADMS.Identifier),
    (DCAT.Distribution, DCAT.accessURL, 1, None, None),
    (DCAT.Distribution, DCTERMS.format, 0, 1, DCTERMS.MediaTypeOrExtent),
    (DCAT.Distribution, DCAT.mediaType, 0, 1, DCTERMS.MediaType),
    (DCAT.Distribution, DCTERMS.license, 0, 1, DCTERMS.LicenseDocument),
    (DCAT.Distribution, DCAT.byteSize, 0, 1, None),
    (DCAT.Distribution, SPDX.checksum, 0, 1, SPDX.Checksum),
    (DCAT.Distribution, DCTERMS.conformsTo, 0, None, DCTERMS.Standard),
    (SPDX.Checksum, SPDX.algorithm, 1, 1, SPDX.ChecksumAlgorithm),
    (SPDX.Checksum, SPDX.checksumValue, 1, 1, None),
    (FOAF.Agent, FOAF.name, 1, None, None),
    (SKOS.Concept, SKOS.prefLabel, 1, None, None),
    (SKOS.ConceptScheme, DCTERMS.title, 1, None, None),
    (ADMS.Identifier, SKOS.notation, 1, 1, None),
]
LITERAL_PROPERTIES = {DCTERMS.title, DCTERMS.description, FOAF.name, SKOS.prefLabel, DCAT.keyword, SPDX.checksumValue}


def constraint_problems(graph: rdflib.Graph) -> list[str]:
    problems = []
    for cls, path, least, most, value_class in CONSTRAINTS:
        for node in graph.subjects(RDF.type, cls):
            values = list(graph.objects(node, path))
            if len(values) < least or (most is not None and len(values) > most):
                problems.append(f"{node} has {len(values)} {path}")
            for value in values:
                if value_class is not None and (value, RDF.type, value_class) not in graph:
                    problems.append(f"{node} {path} {value} is not a {value_class}")
                if path in LITERAL_PROPERTIES and not isinstance(value, Literal):
                    problems.append(f"{node} {path} {value} is not a literal")
    return problems


@pytest.fixture(scope="module")
def curated() -> list[dict]:
    items, problems = files.load_folder(ROOT / "library")
    assert problems == [] and len(items) > 50
    return items


@pytest.fixture(scope="module")
def curated_graph(curated) -> rdflib.Graph:
    return dcat.catalogue_graph(curated, BASE)


def item(**fields) -> dict:
    return {
        "id": "an-item",
        "type": "publication",
        "status": "published",
        "title": "An item",
        "summary": "Its summary.",
        **fields,
    }


def one(graph: rdflib.Graph, subject, predicate):
    values = list(graph.objects(subject, predicate))
    assert len(values) == 1, (subject, predicate, values)
    return values[0]


def test_every_published_curated_item_is_a_dataset_of_the_catalogue_with_its_title(curated, curated_graph):
    catalogue = URIRef(f"{BASE}catalogue")
    assert (catalogue, RDF.type, DCAT.Catalog) in curated_graph
    datasets = set(curated_graph.objects(catalogue, DCAT.dataset))
    published = [entry for entry in curated if entry["status"] == "published"]
    assert datasets == {URIRef(f"{BASE}items/{entry['id']}") for entry in published}
    for entry in published:
        uri = URIRef(f"{BASE}items/{entry['id']}")
        assert (uri, RDF.type, DCAT.Dataset) in curated_graph
        assert str(one(curated_graph, uri, DCTERMS.title)) == entry["title"]
        assert (uri, DCAT.landingPage, uri) in curated_graph
        assert str(one(curated_graph, uri, DCTERMS.identifier)) == str(uri)


def test_the_curated_catalogue_meets_the_dcat_ap_constraints(curated_graph):
    assert constraint_problems(curated_graph) == []


def test_the_sample_items_meet_the_dcat_ap_constraints(items):
    items[-1] = {**items[-1], "updated": "2025-01-02T03:04:05Z"}
    assert constraint_problems(dcat.catalogue_graph(items, BASE)) == []


def test_items_that_are_not_published_are_left_out(items):
    statuses = ["draft", "submitted", "rejected", "retired"]
    for entry, status in zip(items, statuses, strict=False):
        entry["status"] = status
    graph = dcat.catalogue_graph(items, BASE)
    datasets = set(graph.subjects(RDF.type, DCAT.Dataset))
    assert datasets == {URIRef(f"{BASE}items/{entry['id']}") for entry in items[len(statuses) :]}


def test_the_catalogue_has_its_mandatory_and_recommended_properties(items):
    items[0]["updated"] = "2025-03-01"
    items[1]["created"] = "2025-06-01T10:00:00Z"
    graph = dcat.catalogue_graph(items, BASE, title="Our library", publisher="Our office")
    catalogue = URIRef(f"{BASE}catalogue")
    assert one(graph, catalogue, DCTERMS.title) == Literal("Our library", lang="en")
    assert str(one(graph, catalogue, DCTERMS.description))
    assert str(one(graph, one(graph, catalogue, DCTERMS.publisher), FOAF.name)) == "Our office"
    assert one(graph, catalogue, FOAF.homepage) == URIRef(BASE)
    assert one(graph, catalogue, DCTERMS.modified) == Literal("2025-06-01T10:00:00Z", datatype=XSD.dateTime)
    assert one(graph, catalogue, DCTERMS.language) == URIRef(f"{EU}language/ENG")
    assert URIRef(f"{EU}data-theme") in set(graph.objects(catalogue, DCAT.themeTaxonomy))


def test_languages_countries_and_licences_map_to_eu_and_spdx_uris():
    entry = item(languages=["fr", "el", "no", "zh"], countries=["IT", "GB", "GR"], licence="CC-BY-4.0")
    graph = dcat.catalogue_graph([entry, item(id="other", licence="MIT")], BASE)
    uri = URIRef(f"{BASE}items/an-item")
    assert set(graph.objects(uri, DCTERMS.language)) == {
        URIRef(f"{EU}language/{code}") for code in ("FRA", "ELL", "NOR", "ZHO")
    }
    assert set(graph.objects(uri, DCTERMS.spatial)) == {URIRef(f"{EU}country/{code}") for code in ("ITA", "GBR", "GRC")}
    licence = one(graph, uri, DCTERMS.license)
    assert licence == URIRef("https://spdx.org/licenses/CC-BY-4.0")
    assert (licence, SKOS.exactMatch, URIRef(f"{EU}licence/CC_BY_4_0")) in graph
    mit = one(graph, URIRef(f"{BASE}items/other"), DCTERMS.license)
    assert mit == URIRef("https://spdx.org/licenses/MIT") and list(graph.objects(mit, SKOS.exactMatch)) == []
    assert (URIRef(f"{EU}language/FRA"), SKOS.inScheme, URIRef(f"{EU}language")) in graph


def test_every_iso_code_the_schema_accepts_has_an_eu_code():
    from statcommons.library.schema import COUNTRIES, LANGUAGES

    assert set(dcat.LANGUAGE_CODES) == LANGUAGES and set(dcat.COUNTRY_CODES) == COUNTRIES
    assert all(len(code) == 3 for code in [*dcat.LANGUAGE_CODES.values(), *dcat.COUNTRY_CODES.values()])


def test_texts_carry_the_language_of_a_one_language_item():
    graph = dcat.catalogue_graph(
        [
            item(id="french", title="Le calage", languages=["fr"], keywords=["calage", "poids"]),
            item(id="bilingual", languages=["fr", "en"], keywords=["calibration"]),
        ],
        BASE,
    )
    french, bilingual = URIRef(f"{BASE}items/french"), URIRef(f"{BASE}items/bilingual")
    assert one(graph, french, DCTERMS.title) == Literal("Le calage", lang="fr")
    assert set(graph.objects(french, DCAT.keyword)) == {Literal("calage", lang="fr"), Literal("poids", lang="fr")}
    assert one(graph, bilingual, DCAT.keyword) == Literal("calibration")


def test_people_organisations_dates_and_identifiers():
    entry = item(
        authors=["Ada Lovelace", "Jan de Vries"],
        organisations=["Statistics Netherlands", "Eurostat"],
        year=2021,
        updated="2024-05-01T09:30Z",
        links=[{"url": "https://doi.org/10.1000/xyz123", "title": "Article", "doi": "10.1000/xyz123"}],
    )
    graph = dcat.catalogue_graph([entry, item(id="other", organisations=["Eurostat"])], BASE)
    uri = URIRef(f"{BASE}items/an-item")
    creators = {str(one(graph, agent, FOAF.name)) for agent in graph.objects(uri, DCTERMS.creator)}
    assert creators == {"Ada Lovelace", "Jan de Vries"}
    assert all((agent, RDF.type, FOAF.Person) in graph for agent in graph.objects(uri, DCTERMS.creator))
    publisher = one(graph, uri, DCTERMS.publisher)
    assert str(one(graph, publisher, FOAF.name)) == "Statistics Netherlands"
    contributor = one(graph, uri, DCTERMS.contributor)
    assert str(one(graph, contributor, FOAF.name)) == "Eurostat"
    assert one(graph, URIRef(f"{BASE}items/other"), DCTERMS.publisher) == contributor  # one agent per name
    assert one(graph, uri, DCTERMS.issued) == Literal("2021", datatype=XSD.gYear)
    assert one(graph, uri, DCTERMS.modified) == Literal("2024-05-01T09:30:00Z", datatype=XSD.dateTime)
    assert one(graph, uri, FOAF.page) == URIRef("https://doi.org/10.1000/xyz123")
    identifier = one(graph, uri, ADMS.identifier)
    assert one(graph, identifier, SKOS.notation) == Literal("https://doi.org/10.1000/xyz123", datatype=XSD.anyURI)


def test_themes_come_from_the_eu_data_themes_the_topics_and_gsbpm():
    graph = dcat.catalogue_graph([item(topics=["machine-learning", "record-linkage"], gsbpm=["5.1", "6"])], BASE)
    uri = URIRef(f"{BASE}items/an-item")
    themes = set(graph.objects(uri, DCAT.theme))
    assert {URIRef(f"{EU}data-theme/GOVE"), URIRef(f"{EU}data-theme/TECH")} < themes
    assert one(graph, URIRef(f"{EU}data-theme/GOVE"), SKOS.prefLabel) == Literal(
        "Government and public sector", lang="en"
    )
    sub_process, phase = URIRef(f"{BASE}vocabularies/gsbpm/5.1"), URIRef(f"{BASE}vocabularies/gsbpm/5")
    assert {sub_process, phase, URIRef(f"{BASE}vocabularies/gsbpm/6")} < themes
    assert one(graph, sub_process, SKOS.prefLabel) == Literal("Integrate data", lang="en")
    assert one(graph, sub_process, SKOS.broader) == phase
    assert one(graph, phase, SKOS.prefLabel) == Literal("Process", lang="en")
    topic = URIRef(f"{BASE}vocabularies/topics/record-linkage")
    assert topic in themes and one(graph, topic, SKOS.prefLabel) == Literal("Record linkage", lang="en")
    assert set(dcat.DATA_THEMES) >= {code for codes in dcat.THEMES_OF_TOPIC.values() for code in codes}


@pytest.mark.parametrize(
    "kind, dcmi",
    [
        ("publication", DCMITYPE.Text),
        ("experience", DCMITYPE.Text),
        ("video", DCMITYPE.MovingImage),
        ("algorithm", DCMITYPE.Software),
    ],
)
def test_the_type_of_an_item_is_a_dcmi_type_and_its_own(kind, dcmi):
    blocks = {
        "video": {"video": {"url": "https://example.org/v"}},
        "algorithm": {"algorithm": {"repository": "https://github.com/o/r", "language": "R"}},
    }
    graph = dcat.catalogue_graph([item(type=kind, **blocks.get(kind, {}))], BASE)
    uri = URIRef(f"{BASE}items/an-item")
    assert set(graph.objects(uri, DCTERMS.type)) == {dcmi, URIRef(f"{BASE}vocabularies/types/{kind}")}
    assert (dcmi, RDF.type, SKOS.Concept) in graph


def test_a_data_set_has_a_distribution_with_format_size_checksum_and_licence():
    digest = "0123456789abcdef" * 4
    entry = item(
        type="dataset",
        licence="CC0-1.0",
        dataset={
            "url": "https://example.org/lfs.csv",
            "formats": ["csv"],
            "size_bytes": 1234,
            "checksum": f"sha256:{digest}",
        },
    )
    graph = dcat.catalogue_graph([entry], BASE)
    uri = URIRef(f"{BASE}items/an-item")
    assert DCMITYPE.Dataset in set(graph.objects(uri, DCTERMS.type))
    distribution = one(graph, uri, DCAT.distribution)
    assert one(graph, distribution, DCAT.accessURL) == URIRef("https://example.org/lfs.csv")
    assert one(graph, distribution, DCAT.downloadURL) == URIRef("https://example.org/lfs.csv")
    assert one(graph, distribution, DCTERMS.format) == URIRef(f"{EU}file-type/CSV")
    assert one(graph, distribution, DCAT.mediaType) == URIRef("https://www.iana.org/assignments/media-types/text/csv")
    assert one(graph, distribution, DCAT.byteSize) == Literal(1234, datatype=XSD.nonNegativeInteger)
    assert one(graph, distribution, DCTERMS.license) == URIRef("https://spdx.org/licenses/CC0-1.0")
    checksum = one(graph, distribution, SPDX.checksum)
    assert one(graph, checksum, SPDX.algorithm) == SPDX.checksumAlgorithm_sha256
    assert one(graph, checksum, SPDX.checksumValue) == Literal(digest, datatype=XSD.hexBinary)


def test_a_zipped_data_set_and_a_data_package_in_the_workspace():
    zipped = item(
        id="zipped", type="dataset", dataset={"url": "https://example.org/d.zip", "formats": ["csv", "parquet"]}
    )
    package = item(id="package", type="dataset", dataset={"datapackage": "datasets/prices/datapackage.json"})
    graph = dcat.catalogue_graph([zipped, package], BASE)
    distribution = one(graph, URIRef(f"{BASE}items/zipped"), DCAT.distribution)
    assert one(graph, distribution, DCTERMS.format) == URIRef(f"{EU}file-type/ZIP")
    assert "csv, parquet" in str(one(graph, distribution, DCTERMS.description))
    in_workspace = one(graph, URIRef(f"{BASE}items/package"), DCAT.distribution)
    assert one(graph, in_workspace, DCAT.accessURL) == URIRef(f"{BASE}items/package")
    assert list(graph.objects(in_workspace, DCAT.downloadURL)) == []
    assert one(graph, in_workspace, DCTERMS.format) == URIRef(f"{EU}file-type/JSON")
    assert one(graph, in_workspace, DCTERMS.conformsTo) == dcat.FRICTIONLESS_DATA_PACKAGE


def test_notebooks_and_algorithms_point_to_where_they_are():
    graph = dcat.catalogue_graph(
        [
            item(
                id="in-git",
                type="notebook",
                notebook={"repository": "https://github.com/o/r", "branch": "main", "path": "a.ipynb"},
            ),
            item(id="shared", type="notebook", notebook={"shared_path": "shared-notebooks/x/a.ipynb"}),
            item(id="tool", type="algorithm", algorithm={"repository": "https://github.com/o/tool", "language": "R"}),
        ],
        BASE,
    )
    access = {
        name: one(graph, one(graph, URIRef(f"{BASE}items/{name}"), DCAT.distribution), DCAT.accessURL)
        for name in ("in-git", "shared", "tool")
    }
    assert access == {
        "in-git": URIRef("https://github.com/o/r"),
        "shared": URIRef(f"{BASE}items/shared"),
        "tool": URIRef("https://github.com/o/tool"),
    }
    assert (URIRef(f"{BASE}items/in-git"), DCTERMS.type, DCMITYPE.InteractiveResource) in graph


def test_the_markdown_summary_becomes_plain_text():
    summary = "A **bold** [link](https://example.org) and `code`.\n\n- first\n- second <b>x</b>\n\nAfter\nthe list."
    assert dcat.plain_text(summary) == "A bold link and code.\n\n- first\n- second x\n\nAfter the list."
    graph = dcat.catalogue_graph([item(summary=summary)], BASE)
    assert "**" not in str(one(graph, URIRef(f"{BASE}items/an-item"), DCTERMS.description))


def test_turtle_and_json_ld_parse_back_to_the_same_graph(curated_graph):
    turtle = dcat.to_turtle(curated_graph)
    from_turtle = rdflib.Graph().parse(data=turtle, format="turtle")
    assert len(from_turtle) == len(curated_graph)
    assert isomorphic(from_turtle, curated_graph)
    jsonld = dcat.to_jsonld(curated_graph)
    assert json.loads(jsonld)["@context"]["dcat"] == str(DCAT)
    from_jsonld = rdflib.Graph().parse(data=jsonld, format="json-ld")
    assert len(from_jsonld) == len(curated_graph)
    assert isomorphic(from_jsonld, curated_graph)


def test_the_same_items_give_the_same_text(curated):
    first, second = dcat.catalogue_graph(curated, BASE), dcat.catalogue_graph(list(reversed(curated)), BASE)
    assert dcat.to_turtle(first) == dcat.to_turtle(second)
    assert dcat.to_jsonld(first) == dcat.to_jsonld(second)


@pytest.mark.parametrize("base_url", ["https://hub.example.org/services/library", "ftp://x/", "/library/", ""])
def test_the_base_url_is_an_http_url_ending_with_a_slash(base_url):
    with pytest.raises(ValueError, match="ending with /"):
        dcat.catalogue_graph([item()], base_url)


def test_an_empty_catalogue_is_still_a_catalogue():
    graph = dcat.catalogue_graph([], BASE)
    assert constraint_problems(graph) == []
    assert list(graph.subjects(RDF.type, DCAT.Dataset)) == []


def _shapes_files() -> list[Path]:
    return [Path(path) for path in os.environ.get("DCAT_AP_SHAPES", "").split(os.pathsep) if path]


@pytest.mark.skipif(not _shapes_files(), reason="DCAT_AP_SHAPES names no DCAT-AP SHACL shapes file")
@pytest.mark.parametrize("shapes_file", _shapes_files(), ids=str)
def test_the_catalogue_conforms_to_the_official_dcat_ap_shapes(shapes_file, curated, items):
    """`make test` names the shapes of shared/data/dcat-ap/ in DCAT_AP_SHAPES; a file named there must exist."""
    import pyshacl  # a test dependency (pyproject's test extra)

    if not shapes_file.is_file():
        pytest.fail(f"DCAT_AP_SHAPES names {shapes_file}, which is not a file: fix the path or unset DCAT_AP_SHAPES")
    ids = {entry["id"] for entry in curated}
    graph = dcat.catalogue_graph([*curated, *(entry for entry in items if entry["id"] not in ids)], BASE)
    shapes = rdflib.Graph().parse(shapes_file)
    # RDFS inference types every IRI as rdfs:Resource, the range the 3.0.0 shapes give dcat:accessURL.
    _, report, _ = pyshacl.validate(graph, shacl_graph=shapes, inference="rdfs")
    sh = rdflib.Namespace("http://www.w3.org/ns/shacl#")
    violations = [
        f"{report.value(result, sh.focusNode)} {report.value(result, sh.resultPath)}: "
        f"{report.value(result, sh.resultMessage)}"
        for result in report.objects(None, sh.result)
        if report.value(result, sh.resultSeverity) == sh.Violation
    ]
    assert violations == []


def test_no_text_is_empty(curated_graph):
    empty = [(s, p) for s, p, value in curated_graph if isinstance(value, Literal) and not str(value).strip()]
    assert empty == []


def test_the_constraint_check_finds_what_is_missing():
    graph = dcat.catalogue_graph([item()], BASE)
    uri = URIRef(f"{BASE}items/an-item")
    graph.remove((uri, DCTERMS.title, None))
    graph.add((uri, DCTERMS.language, URIRef(f"{EU}language/XXX")))
    assert constraint_problems(graph) == [
        f"{uri} has 0 {DCTERMS.title}",
        f"{uri} {DCTERMS.language} {EU}language/XXX is not a {DCTERMS.LinguisticSystem}",
    ]


def test_urls_with_characters_an_iri_cannot_hold_still_give_valid_turtle():
    graph = dcat.catalogue_graph([item(links=[{"url": 'https://example.org/find?q=a|b&x="y"'}])], BASE)
    assert isomorphic(rdflib.Graph().parse(data=dcat.to_turtle(graph), format="turtle"), graph)
    page = one(graph, URIRef(f"{BASE}items/an-item"), FOAF.page)
    assert page == URIRef("https://example.org/find?q=a%7Cb&x=%22y%22")
