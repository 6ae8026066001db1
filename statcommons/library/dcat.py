"""The library catalogue as DCAT-AP 3.0 RDF, for data portals and harvesters.

:func:`catalogue_graph` turns the published items into one ``dcat:Catalog`` (title,
description, publisher, homepage, modified, language, theme taxonomies);
:func:`to_turtle` and :func:`to_jsonld` serialise it. An item's URI is
``{base_url}items/{id}``, also its ``dcat:landingPage``, where ``base_url`` is the
library service's public address ending with ``/``.

Every item is a ``dcat:Dataset``. DCAT-AP 3 treats ``dcat:Resource`` as abstract and
exchanges only its subclasses (Dataset, Data Service, Dataset Series, Catalogue), and
DCAT's notion of a dataset is broad ("numbers, text, pixels, imagery, sound ..."), so
``dct:type`` says what an item is: a DCMI Type (:data:`DCMI_TYPES`, the vocabulary DCAT
names for this) and the StatCommons item type. ``dcat:DataService`` would need an API
endpoint, which no item has.

The tables below hold the rest of the mapping:

- :data:`DCMI_TYPES`: item type -> DCMI Type.
- :data:`DATA_THEMES`: the EU data themes (DCAT-AP's mandatory theme vocabulary) and their
  labels. Every item is ``GOVE`` (official statistics is a public-sector activity);
  :data:`THEMES_OF_TOPIC` adds themes for some topics. Topics and GSBPM codes (with
  their phase) are themes too, as concepts of two schemes under ``{base_url}vocabularies/``.
- :data:`FILE_TYPES`: format name or file extension -> EU file type and IANA media type.
- :data:`EU_LICENCES`: SPDX id -> EU licence, stated as ``skos:exactMatch`` of the
  ``https://spdx.org/licenses/<id>`` licence; licences not listed keep the SPDX URI alone.
- ISO 639-1 languages -> EU language codes (ISO 639-2/T, :data:`LANGUAGE_CODES`);
  ISO 3166-1 alpha-2 countries -> EU country codes (alpha-3, :data:`COUNTRY_CODES`).

Other fields: authors are ``dct:creator`` (``foaf:Person``); the first organisation is
``dct:publisher`` (DCAT-AP allows one), the others ``dct:contributor``; ``year`` is
``dct:issued`` as ``xsd:gYear``, ``updated`` is ``dct:modified``; the Markdown summary is
``dct:description`` as plain text; links are ``foaf:page``, a link's DOI an
``adms:identifier``. Titles, descriptions and keywords carry the item's language tag
when it has exactly one language. Data sets, videos, algorithms and notebooks get a
``dcat:Distribution`` for where they are (with format, size and SHA-256 checksum when
known); the licence is on the item and on each distribution. Referenced terms are typed
(``dct:LicenseDocument``, ``skos:Concept`` with a label...) so that the graph is
checked against the DCAT-AP SHACL shapes on its own.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable
from datetime import datetime
from urllib.parse import quote, urlparse

from markdown_it import MarkdownIt
from rdflib import BNode, Graph, Literal, Namespace, URIRef
from rdflib.namespace import DCAT, DCMITYPE, DCTERMS, FOAF, RDF, SKOS, XSD

from . import gsbpm
from .schema import topics

ADMS = Namespace("http://www.w3.org/ns/adms#")
SPDX = Namespace("http://spdx.org/rdf/terms#")
EU = "http://publications.europa.eu/resource/authority/"
DATA_THEME = Namespace(f"{EU}data-theme/")
IANA = "https://www.iana.org/assignments/media-types/"
DOI = "https://doi.org/"
FRICTIONLESS_DATA_PACKAGE = URIRef("https://specs.frictionlessdata.io/data-package/")

DCMI_TYPES = {
    "publication": "Text",
    "experience": "Text",
    "dataset": "Dataset",
    "video": "MovingImage",
    "algorithm": "Software",
    "notebook": "InteractiveResource",
}

DATA_THEMES = {
    "AGRI": "Agriculture, fisheries, forestry and food",
    "ECON": "Economy and finance",
    "EDUC": "Education, culture and sport",
    "ENER": "Energy",
    "ENVI": "Environment",
    "GOVE": "Government and public sector",
    "HEAL": "Health",
    "INTR": "International issues",
    "JUST": "Justice, legal system and public safety",
    "REGI": "Regions and cities",
    "SOCI": "Population and society",
    "TECH": "Science and technology",
    "TRAN": "Transport",
}
DEFAULT_THEMES = ("GOVE",)
THEMES_OF_TOPIC = {
    "big-data": ("TECH",),
    "capacity-building": ("EDUC",),
    "earth-observation": ("ENVI", "TECH"),
    "generative-ai": ("TECH",),
    "geospatial": ("REGI",),
    "machine-learning": ("TECH",),
    "mobile-network-data": ("TECH",),
    "natural-language-processing": ("TECH",),
    "price-statistics": ("ECON",),
    "privacy": ("TECH",),
    "reproducible-pipelines": ("TECH",),
    "small-area-estimation": ("REGI",),
    "synthetic-data": ("TECH",),
    "web-scraping": ("TECH",),
}

# name or extension -> (EU file type, IANA media type)
FILE_TYPES = {
    "csv": ("CSV", "text/csv"),
    "tsv": ("TSV", "text/tab-separated-values"),
    "json": ("JSON", "application/json"),
    "jsonld": ("JSON_LD", "application/ld+json"),
    "geojson": ("GEOJSON", "application/geo+json"),
    "xml": ("XML", "application/xml"),
    "rdf": ("RDF_XML", "application/rdf+xml"),
    "ttl": ("RDF_TURTLE", "text/turtle"),
    "parquet": ("PARQUET", "application/vnd.apache.parquet"),
    "xlsx": ("XLSX", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
    "xls": ("XLS", "application/vnd.ms-excel"),
    "ods": ("ODS", "application/vnd.oasis.opendocument.spreadsheet"),
    "pdf": ("PDF", "application/pdf"),
    "html": ("HTML", "text/html"),
    "txt": ("TXT", "text/plain"),
    "zip": ("ZIP", "application/zip"),
}
_FORMAT_ALIASES = {"json-ld": "jsonld", "turtle": "ttl", "excel": "xlsx", "htm": "html", "text": "txt"}

EU_LICENCES = {
    "CC-BY-4.0": "CC_BY_4_0",
    "CC-BY-SA-4.0": "CC_BYSA_4_0",
    "CC-BY-NC-4.0": "CC_BYNC_4_0",
    "CC-BY-ND-4.0": "CC_BYND_4_0",
    "CC-BY-NC-SA-4.0": "CC_BYNCSA_4_0",
    "CC-BY-NC-ND-4.0": "CC_BYNCND_4_0",
    "CC0-1.0": "CC0",
    "PDDL-1.0": "ODC_PDDL",
    "ODC-By-1.0": "ODC_BY",
    "OGL-UK-3.0": "OGL_3_0",
    "Apache-2.0": "APACHE_2_0",
    "EUPL-1.2": "EUPL_1_2",
}

# ISO 639-1 -> ISO 639-2/T and ISO 3166-1 alpha-2 -> alpha-3, from Debian's iso-codes 4.15.0.
LANGUAGE_CODES = dict(
    pair.split(":")
    for pair in (
        "aa:aar ab:abk ae:ave af:afr ak:aka am:amh an:arg ar:ara as:asm av:ava ay:aym az:aze ba:bak be:bel bg:bul "
        "bh:bih bi:bis bm:bam bn:ben bo:bod br:bre bs:bos ca:cat ce:che ch:cha co:cos cr:cre cs:ces cu:chu cv:chv "
        "cy:cym da:dan de:deu dv:div dz:dzo ee:ewe el:ell en:eng eo:epo es:spa et:est eu:eus fa:fas ff:ful fi:fin "
        "fj:fij fo:fao fr:fra fy:fry ga:gle gd:gla gl:glg gn:grn gu:guj gv:glv ha:hau he:heb hi:hin ho:hmo hr:hrv "
        "ht:hat hu:hun hy:hye hz:her ia:ina id:ind ie:ile ig:ibo ii:iii ik:ipk io:ido is:isl it:ita iu:iku ja:jpn "
        "jv:jav ka:kat kg:kon ki:kik kj:kua kk:kaz kl:kal km:khm kn:kan ko:kor kr:kau ks:kas ku:kur kv:kom kw:cor "
        "ky:kir la:lat lb:ltz lg:lug li:lim ln:lin lo:lao lt:lit lu:lub lv:lav mg:mlg mh:mah mi:mri mk:mkd ml:mal "
        "mn:mon mr:mar ms:msa mt:mlt my:mya na:nau nb:nob nd:nde ne:nep ng:ndo nl:nld nn:nno no:nor nr:nbl nv:nav "
        "ny:nya oc:oci oj:oji om:orm or:ori os:oss pa:pan pi:pli pl:pol ps:pus pt:por qu:que rm:roh rn:run ro:ron "
        "ru:rus rw:kin sa:san sc:srd sd:snd se:sme sg:sag si:sin sk:slk sl:slv sm:smo sn:sna so:som sq:sqi sr:srp "
        "ss:ssw st:sot su:sun sv:swe sw:swa ta:tam te:tel tg:tgk th:tha ti:tir tk:tuk tl:tgl tn:tsn to:ton tr:tur "
        "ts:tso tt:tat tw:twi ty:tah ug:uig uk:ukr ur:urd uz:uzb ve:ven vi:vie vo:vol wa:wln wo:wol xh:xho yi:yid "
        "yo:yor za:zha zh:zho zu:zul"
    ).split()
)
COUNTRY_CODES = dict(
    pair.split(":")
    for pair in (
        "AD:AND AE:ARE AF:AFG AG:ATG AI:AIA AL:ALB AM:ARM AO:AGO AQ:ATA AR:ARG AS:ASM AT:AUT AU:AUS AW:ABW AX:ALA "
        "AZ:AZE BA:BIH BB:BRB BD:BGD BE:BEL BF:BFA BG:BGR BH:BHR BI:BDI BJ:BEN BL:BLM BM:BMU BN:BRN BO:BOL BQ:BES "
        "BR:BRA BS:BHS BT:BTN BV:BVT BW:BWA BY:BLR BZ:BLZ CA:CAN CC:CCK CD:COD CF:CAF CG:COG CH:CHE CI:CIV CK:COK "
        "CL:CHL CM:CMR CN:CHN CO:COL CR:CRI CU:CUB CV:CPV CW:CUW CX:CXR CY:CYP CZ:CZE DE:DEU DJ:DJI DK:DNK DM:DMA "
        "DO:DOM DZ:DZA EC:ECU EE:EST EG:EGY EH:ESH ER:ERI ES:ESP ET:ETH FI:FIN FJ:FJI FK:FLK FM:FSM FO:FRO FR:FRA "
        "GA:GAB GB:GBR GD:GRD GE:GEO GF:GUF GG:GGY GH:GHA GI:GIB GL:GRL GM:GMB GN:GIN GP:GLP GQ:GNQ GR:GRC GS:SGS "
        "GT:GTM GU:GUM GW:GNB GY:GUY HK:HKG HM:HMD HN:HND HR:HRV HT:HTI HU:HUN ID:IDN IE:IRL IL:ISR IM:IMN IN:IND "
        "IO:IOT IQ:IRQ IR:IRN IS:ISL IT:ITA JE:JEY JM:JAM JO:JOR JP:JPN KE:KEN KG:KGZ KH:KHM KI:KIR KM:COM KN:KNA "
        "KP:PRK KR:KOR KW:KWT KY:CYM KZ:KAZ LA:LAO LB:LBN LC:LCA LI:LIE LK:LKA LR:LBR LS:LSO LT:LTU LU:LUX LV:LVA "
        "LY:LBY MA:MAR MC:MCO MD:MDA ME:MNE MF:MAF MG:MDG MH:MHL MK:MKD ML:MLI MM:MMR MN:MNG MO:MAC MP:MNP MQ:MTQ "
        "MR:MRT MS:MSR MT:MLT MU:MUS MV:MDV MW:MWI MX:MEX MY:MYS MZ:MOZ NA:NAM NC:NCL NE:NER NF:NFK NG:NGA NI:NIC "
        "NL:NLD NO:NOR NP:NPL NR:NRU NU:NIU NZ:NZL OM:OMN PA:PAN PE:PER PF:PYF PG:PNG PH:PHL PK:PAK PL:POL PM:SPM "
        "PN:PCN PR:PRI PS:PSE PT:PRT PW:PLW PY:PRY QA:QAT RE:REU RO:ROU RS:SRB RU:RUS RW:RWA SA:SAU SB:SLB SC:SYC "
        "SD:SDN SE:SWE SG:SGP SH:SHN SI:SVN SJ:SJM SK:SVK SL:SLE SM:SMR SN:SEN SO:SOM SR:SUR SS:SSD ST:STP SV:SLV "
        "SX:SXM SY:SYR SZ:SWZ TC:TCA TD:TCD TF:ATF TG:TGO TH:THA TJ:TJK TK:TKL TL:TLS TM:TKM TN:TUN TO:TON TR:TUR "
        "TT:TTO TV:TUV TW:TWN TZ:TZA UA:UKR UG:UGA UM:UMI US:USA UY:URY UZ:UZB VA:VAT VC:VCT VE:VEN VG:VGB VI:VIR "
        "VN:VNM VU:VUT WF:WLF WS:WSM YE:YEM YT:MYT ZA:ZAF ZM:ZMB ZW:ZWE"
    ).split()
)

CONTEXT = {
    "adms": str(ADMS),
    "dcat": str(DCAT),
    "dct": str(DCTERMS),
    "dcmitype": str(DCMITYPE),
    "foaf": str(FOAF),
    "rdf": str(RDF),
    "skos": str(SKOS),
    "spdx": str(SPDX),
    "xsd": str(XSD),
}

_MARKDOWN = MarkdownIt("commonmark")


def plain_text(markdown: str) -> str:
    """The text of a Markdown document without its markup: paragraphs apart, list items one a line."""
    parts: list[str] = []
    lists = 0
    item_start = in_list_before = False
    for token in _MARKDOWN.parse(markdown):
        if token.type in ("bullet_list_open", "ordered_list_open"):
            lists += 1
        elif token.type in ("bullet_list_close", "ordered_list_close"):
            lists -= 1
        elif token.type == "list_item_open":
            item_start = True
        elif token.type in ("inline", "fence", "code_block"):
            text = _inline_text(token.children or []) if token.type == "inline" else token.content.rstrip("\n")
            if item_start:
                text, item_start = f"- {text}", False
            if parts:
                parts.append("\n" if lists and in_list_before else "\n\n")
            parts.append(text)
            in_list_before = bool(lists)
    return "".join(parts).strip()


def _inline_text(children) -> str:
    words = []
    for child in children:
        if child.type in ("text", "code_inline", "image"):
            words.append(child.content)
        elif child.type == "softbreak":
            words.append(" ")
        elif child.type == "hardbreak":
            words.append("\n")
    return "".join(words)


def language_uri(code: str) -> URIRef:
    """The EU language URI of an ISO 639-1 code: ``en`` -> ``.../authority/language/ENG``."""
    return URIRef(f"{EU}language/{LANGUAGE_CODES[code].upper()}")


def country_uri(code: str) -> URIRef:
    """The EU country URI of an ISO 3166-1 alpha-2 code: ``FR`` -> ``.../authority/country/FRA``."""
    return URIRef(f"{EU}country/{COUNTRY_CODES[code]}")


def licence_uri(spdx_id: str) -> URIRef:
    """The SPDX URI of a licence: ``MIT`` -> ``https://spdx.org/licenses/MIT``."""
    return URIRef(f"https://spdx.org/licenses/{spdx_id}")


def item_uri(base_url: str, item_id: str) -> URIRef:
    return URIRef(f"{base_url}items/{item_id}")


def _iri(url: str) -> URIRef:
    # Item URLs are any non-blank text after http(s)://; characters an IRI cannot hold are percent-encoded.
    return URIRef(quote(url, safe="!#$%&'()*+,/:;=?@[]~"))


def _file_type(name: str) -> tuple[str, str] | None:
    name = name.lower()
    return FILE_TYPES.get(_FORMAT_ALIASES.get(name, name))


def _extension(url: str) -> str:
    path = urlparse(url).path
    return path.rsplit(".", 1)[-1].lower() if "." in path.rsplit("/", 1)[-1] else ""


def _temporal(value: str) -> Literal | None:
    """``2024-05-01`` as ``xsd:date``, a date-time as ``xsd:dateTime``; None when unreadable."""
    try:
        if len(value) == 10:
            return Literal(datetime.fromisoformat(value).date().isoformat(), datatype=XSD.date)
        moment = datetime.fromisoformat(value.replace("z", "Z").replace(" ", "T"))
    except ValueError:
        return None
    return Literal(moment.isoformat().replace("+00:00", "Z"), datatype=XSD.dateTime)


class _Builder:
    """Adds items to one catalogue graph, describing each referenced term once."""

    def __init__(self, base_url: str):
        self.base = base_url
        self.graph = Graph()
        for prefix, namespace in CONTEXT.items():
            self.graph.bind(prefix, namespace)
        self.vocabularies = URIRef(f"{base_url}vocabularies/")

    def add(self, *triples) -> None:
        for triple in triples:
            self.graph.add(triple)

    def typed(self, uri: URIRef, *classes: URIRef) -> URIRef:
        self.add(*((uri, RDF.type, cls) for cls in classes))
        return uri

    def agent(self, name: str, kind: URIRef) -> BNode:
        # A stable node per name: one agent however many items name it, and the same output each run.
        node = BNode(f"agent{hashlib.sha256(f'{kind}|{name}'.encode()).hexdigest()[:16]}")
        self.typed(node, FOAF.Agent, kind)
        self.add((node, FOAF.name, Literal(name)))
        return node

    def scheme(self, uri: URIRef, title: str) -> URIRef:
        self.typed(uri, SKOS.ConceptScheme)
        self.add((uri, DCTERMS.title, Literal(title, lang="en")))
        return uri

    def concept(self, uri: URIRef, label: str, scheme: URIRef, notation: str | None = None) -> URIRef:
        self.typed(uri, SKOS.Concept)
        self.add((uri, SKOS.prefLabel, Literal(label, lang="en")), (uri, SKOS.inScheme, scheme))
        if notation:
            self.add((uri, SKOS.notation, Literal(notation)))
        return uri

    def data_theme_scheme(self) -> URIRef:
        return self.scheme(URIRef(f"{EU}data-theme"), "Data theme")

    def data_theme(self, code: str) -> URIRef:
        return self.concept(DATA_THEME[code], DATA_THEMES[code], self.data_theme_scheme())

    def gsbpm_scheme(self) -> URIRef:
        return self.scheme(self.vocabularies + "gsbpm", f"Generic Statistical Business Process Model {gsbpm.VERSION}")

    def gsbpm_concept(self, code: str) -> URIRef:
        uri = self.concept(self.vocabularies + f"gsbpm/{code}", gsbpm.name(code), self.gsbpm_scheme(), code)
        phase = gsbpm.phase_of(code)
        if phase != code:
            self.add((uri, SKOS.broader, self.gsbpm_concept(phase)))
        else:
            self.add((self.gsbpm_scheme(), SKOS.hasTopConcept, uri))
        return uri

    def topics_scheme(self) -> URIRef:
        return self.scheme(self.vocabularies + "topics", "StatCommons library topics")

    def topic(self, slug: str) -> URIRef:
        return self.concept(self.vocabularies + f"topics/{slug}", topics()[slug], self.topics_scheme(), slug)

    def types(self, kind: str) -> list[URIRef]:
        dcmi = self.concept(
            DCMITYPE[DCMI_TYPES[kind]], DCMI_TYPES[kind], self.scheme(URIRef(str(DCMITYPE)), "DCMI Type Vocabulary")
        )
        own = self.concept(self.vocabularies + f"types/{kind}", kind.capitalize(), self.types_scheme(), kind)
        return [dcmi, own]

    def types_scheme(self) -> URIRef:
        return self.scheme(self.vocabularies + "types", "StatCommons library item types")

    def eu_term(self, uri: URIRef, cls: URIRef) -> URIRef:
        """A term of an EU authority table (language, country, file type, licence), typed and in its table."""
        self.typed(uri, cls)
        self.add((uri, SKOS.inScheme, URIRef(uri.rsplit("/", 1)[0])))
        return uri

    def licence(self, spdx_id: str) -> URIRef:
        uri = self.typed(licence_uri(spdx_id), DCTERMS.LicenseDocument)
        self.add((uri, DCTERMS.identifier, Literal(spdx_id)))
        if spdx_id in EU_LICENCES:
            eu = self.eu_term(URIRef(f"{EU}licence/{EU_LICENCES[spdx_id]}"), DCTERMS.LicenseDocument)
            self.add((uri, SKOS.exactMatch, eu))
        return uri

    def document(self, url: str, title: str | None = None) -> URIRef:
        uri = self.typed(_iri(url), FOAF.Document)
        if title:
            self.add((uri, DCTERMS.title, Literal(title)))
        return uri

    def item(self, item: dict) -> URIRef:
        uri = item_uri(self.base, item["id"])
        languages = item.get("languages", [])
        lang = languages[0] if len(languages) == 1 else None
        self.typed(uri, DCAT.Dataset)
        self.add(
            (uri, DCTERMS.identifier, Literal(str(uri))),
            (uri, DCTERMS.title, Literal(item["title"], lang=lang)),
            (uri, DCTERMS.description, Literal(plain_text(item["summary"]) or item["summary"], lang=lang)),
            (uri, DCAT.landingPage, self.document(str(uri))),
        )
        self.add(*((uri, DCTERMS.type, kind) for kind in self.types(item["type"])))
        self.add(*((uri, DCAT.keyword, Literal(keyword, lang=lang)) for keyword in item.get("keywords", [])))
        self.add(*((uri, DCAT.theme, theme) for theme in self.themes(item)))
        for code in languages:
            self.add((uri, DCTERMS.language, self.eu_term(language_uri(code), DCTERMS.LinguisticSystem)))
        for code in item.get("countries", []):
            self.add((uri, DCTERMS.spatial, self.eu_term(country_uri(code), DCTERMS.Location)))
        for name in item.get("authors", []):
            self.add((uri, DCTERMS.creator, self.agent(name, FOAF.Person)))
        for n, name in enumerate(item.get("organisations", [])):
            role = DCTERMS.publisher if n == 0 else DCTERMS.contributor
            self.add((uri, role, self.agent(name, FOAF.Organization)))
        if "year" in item:
            self.add((uri, DCTERMS.issued, Literal(str(item["year"]), datatype=XSD.gYear)))
        modified = _temporal(str(item.get("updated", "")))
        if modified is not None:
            self.add((uri, DCTERMS.modified, modified))
        if item.get("licence"):
            self.add((uri, DCTERMS.license, self.licence(item["licence"])))
        for link in item.get("links", []):
            self.add((uri, FOAF.page, self.document(link["url"], link.get("title"))))
            if link.get("doi"):
                identifier = BNode(f"doi{hashlib.sha256(link['doi'].encode()).hexdigest()[:16]}")
                self.typed(identifier, ADMS.Identifier)
                self.add(
                    (identifier, SKOS.notation, Literal(f"{DOI}{link['doi']}", datatype=XSD.anyURI)),
                    (uri, ADMS.identifier, identifier),
                )
        for n, distribution in enumerate(self.distributions(item), start=1):
            self.distribution(uri, n, item, distribution)
        return uri

    def themes(self, item: dict) -> list[URIRef]:
        codes = list(DEFAULT_THEMES)
        for slug in item.get("topics", []):
            codes += [code for code in THEMES_OF_TOPIC.get(slug, ()) if code not in codes]
        themes = [self.data_theme(code) for code in codes]
        themes += [self.topic(slug) for slug in item.get("topics", [])]
        gsbpm_codes: list[str] = []
        for code in item.get("gsbpm", []):
            gsbpm_codes += [c for c in (gsbpm.phase_of(code), code) if c not in gsbpm_codes]
        return themes + [self.gsbpm_concept(code) for code in gsbpm_codes]

    def distributions(self, item: dict) -> list[dict]:
        """Where the item is, as dicts of title, access/download URL, format, size and checksum."""
        page = str(item_uri(self.base, item["id"]))
        kind, block = item["type"], item.get(item["type"]) or {}
        found: list[dict] = []
        if kind == "dataset":
            formats = block.get("formats", [])
            if block.get("url"):
                found.append({"title": "Download", "url": block["url"], "download": True, "formats": formats})
            package = block.get("datapackage")
            if package and re.match(r"^https?://", package):
                found.append({"title": "Frictionless data package", "url": package, "download": True, "package": True})
            elif package:
                title = f"Frictionless data package {package} in the StatCommons workspace"
                found.append({"title": title, "url": page, "package": True, "local_format": _extension(package)})
            if found:
                found[0].update(size=block.get("size_bytes"), checksum=block.get("checksum"))
        elif kind == "video":
            title = f"Video on {block['provider']}" if block.get("provider") else "Video"
            if block.get("url"):
                found.append({"title": title, "url": block["url"]})
            if block.get("file"):
                video_file = f"{self.base}api/items/{item['id']}/video"
                found.append({"title": f"Video file {block['file']}", "url": video_file, "download": True})
        elif kind == "algorithm":
            found.append({"title": f"Source repository ({block['language']})", "url": block["repository"]})
        elif kind == "notebook" and "repository" in block:
            title = f"Notebook {block['path']} on branch {block['branch']}"
            found.append({"title": title, "url": block["repository"]})
        elif kind == "notebook" and "shared_path" in block:
            found.append({"title": f"Notebook {block['shared_path']} in the StatCommons workspace", "url": page})
        elif kind == "notebook" and "attached" in block:
            found.append({"title": f"Notebook {block['attached']}, kept by the library", "url": page})
        return found

    def distribution(self, dataset: URIRef, n: int, item: dict, found: dict) -> None:
        uri = self.typed(URIRef(f"{dataset}#distribution-{n}"), DCAT.Distribution)
        self.add(
            (dataset, DCAT.distribution, uri),
            (uri, DCTERMS.title, Literal(found["title"])),
            (uri, DCAT.accessURL, _iri(found["url"])),
        )
        if found.get("download"):
            self.add((uri, DCAT.downloadURL, _iri(found["url"])))
        if item.get("licence"):
            self.add((uri, DCTERMS.license, self.licence(item["licence"])))
        file_type = _file_type(found.get("local_format") or _extension(found["url"]))
        formats = [f for f in found.get("formats", []) if _file_type(f)]
        if file_type is None and len(formats) == 1:
            file_type = _file_type(formats[0])
        if len(found.get("formats", [])) > 1:
            self.add((uri, DCTERMS.description, Literal(f"Formats: {', '.join(found['formats'])}")))
        if file_type:
            self.add(
                (uri, DCTERMS.format, self.eu_term(URIRef(f"{EU}file-type/{file_type[0]}"), DCTERMS.MediaTypeOrExtent)),
                (uri, DCAT.mediaType, self.typed(URIRef(IANA + file_type[1]), DCTERMS.MediaType)),
            )
        if found.get("package"):
            self.add((uri, DCTERMS.conformsTo, self.typed(FRICTIONLESS_DATA_PACKAGE, DCTERMS.Standard)))
        if found.get("size") is not None:
            self.add((uri, DCAT.byteSize, Literal(found["size"], datatype=XSD.nonNegativeInteger)))
        if found.get("checksum"):
            checksum = self.typed(BNode(f"checksum{found['checksum'][7:23]}"), SPDX.Checksum)
            algorithm = self.typed(SPDX.checksumAlgorithm_sha256, SPDX.ChecksumAlgorithm)
            self.add(
                (uri, SPDX.checksum, checksum),
                (checksum, SPDX.algorithm, algorithm),
                (checksum, SPDX.checksumValue, Literal(found["checksum"][7:], datatype=XSD.hexBinary)),
            )


def catalogue_graph(
    items: Iterable[dict],
    base_url: str,
    title: str = "StatCommons library",
    description: str = "Publications, experiences, data sets, videos, algorithms and notebooks "
    "for statisticians of official statistics, shared in the StatCommons workspace.",
    publisher: str = "StatCommons",
    language: str = "en",
) -> Graph:
    """The DCAT-AP 3.0 catalogue of the published items, as an RDF graph.

    ``base_url`` is the library service's public address, ending with ``/``, such as
    ``https://hub.example.org/services/library/``; the catalogue is ``{base_url}catalogue``
    and its homepage ``base_url``. Items that are not published are left out.
    """
    if not re.match(r"^https?://[^\s/]+\S*/$", base_url):
        raise ValueError(f"{base_url!r} is not an http(s) URL ending with /")
    builder = _Builder(base_url)
    catalogue = builder.typed(URIRef(f"{base_url}catalogue"), DCAT.Catalog)
    builder.add(
        (catalogue, DCTERMS.title, Literal(title, lang=language)),
        (catalogue, DCTERMS.description, Literal(description, lang=language)),
        (catalogue, DCTERMS.publisher, builder.agent(publisher, FOAF.Organization)),
        (catalogue, FOAF.homepage, builder.document(base_url)),
        (catalogue, DCTERMS.language, builder.eu_term(language_uri(language), DCTERMS.LinguisticSystem)),
    )
    published = [item for item in items if item.get("status", "published") == "published"]
    for item in sorted(published, key=lambda item: item["id"]):
        builder.add((catalogue, DCAT.dataset, builder.item(item)))
    builder.add((catalogue, DCAT.themeTaxonomy, builder.data_theme_scheme()))
    for scheme in (builder.vocabularies + "topics", builder.vocabularies + "gsbpm"):
        if (None, SKOS.inScheme, scheme) in builder.graph:
            builder.add((catalogue, DCAT.themeTaxonomy, scheme))
    dates = [_temporal(str(item.get(key, ""))) for item in published for key in ("updated", "created")]
    dates = [date for date in dates if date is not None]
    if dates:
        builder.add((catalogue, DCTERMS.modified, max(dates, key=lambda date: str(date))))
    return builder.graph


def to_turtle(graph: Graph) -> str:
    """The graph as Turtle."""
    return graph.serialize(format="turtle")


def to_jsonld(graph: Graph) -> str:
    """The graph as JSON-LD, compacted with the prefixes of :data:`CONTEXT`, the same text for the same graph."""
    data = json.loads(graph.serialize(format="json-ld", context=CONTEXT, auto_compact=True))
    if "@graph" in data:
        data["@graph"] = sorted((_sorted_values(node) for node in data["@graph"]), key=lambda node: node["@id"])
    return json.dumps(_sorted_values(data), indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def _sorted_values(node: dict) -> dict:
    # rdflib writes nodes and repeated values in no fixed order; in RDF they are sets, so sorting keeps the meaning.
    return {
        key: sorted(value, key=lambda v: json.dumps(v, sort_keys=True))
        if isinstance(value, list) and key != "@graph"
        else value
        for key, value in node.items()
    }
