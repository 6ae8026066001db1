"""Fixtures of the library store tests: a real PostgreSQL server, stores on both backends and in both search modes.

The PostgreSQL server (:mod:`tests.pgserver`) is started once per session, listening on a
Unix socket only; each store gets its own schema, dropped afterwards. SQLite stores are files
in a temporary folder. Stores search with the in-memory index (``memory``) or with SQL
(``database``): the ``store`` and ``catalogue`` fixtures run each test in the four combinations.
"""

from __future__ import annotations

import copy
import itertools
from pathlib import Path

import pytest

from statcommons.library.store import Store
from tests import pgserver

BACKENDS = ["sqlite", "postgresql"]
MODES = ["memory", "database"]
SETUPS = [(backend, mode) for backend in BACKENDS for mode in MODES]
PG_DATABASE = "statcommons_test"
_schemas = itertools.count(1)

ITEMS = [
    {
        "id": "probabilistic-record-linkage-guide",
        "type": "publication",
        "title": "Probabilistic record linkage: a practical guide",
        "summary": "How to link administrative registers with survey microdata using the Fellegi-Sunter model.",
        "authors": ["Ana Souza", "Jan de Vries"],
        "organisations": ["Statistics Netherlands"],
        "year": 2021,
        "languages": ["en"],
        "topics": ["record-linkage", "data-integration"],
        "gsbpm": ["5.1"],
        "keywords": ["Fellegi-Sunter", "blocking"],
        "licence": "CC-BY-4.0",
        "links": [{"url": "https://example.org/linkage-guide.pdf", "title": "PDF"}],
    },
    {
        "id": "splink",
        "type": "algorithm",
        "title": "Splink",
        "summary": "Fast probabilistic deduplication and linkage of large datasets, running on Spark or DuckDB.",
        "authors": ["Robin Linacre"],
        "organisations": ["Ministry of Justice"],
        "year": 2023,
        "languages": ["en"],
        "topics": ["record-linkage"],
        "gsbpm": ["5.1", "3.2"],
        "licence": "MIT",
        "algorithm": {"repository": "https://github.com/moj-analytical-services/splink", "language": "Python"},
    },
    {
        "id": "nowcasting-gdp-notebook",
        "type": "notebook",
        "title": "Nowcasting quarterly GDP with gradient boosting",
        "summary": "A notebook that **nowcasts** GDP growth from monthly indicators with machine learning.",
        "authors": ["Claire Martin"],
        "organisations": ["INSEE"],
        "year": 2024,
        "languages": ["fr", "en"],
        "topics": ["nowcasting", "machine-learning", "time-series"],
        "gsbpm": ["6.1"],
        "keywords": ["GDP", "xgboost"],
        "licence": "CC-BY-4.0",
        "notebook": {"shared_path": "shared-notebooks/nowcasting/gdp.ipynb"},
    },
    {
        "id": "seasonal-adjustment-jdemetra",
        "type": "video",
        "title": "Seasonal adjustment with JDemetra+",
        "summary": "A recorded webinar on deseasonalising monthly series and checking residual seasonality.",
        "authors": ["Dario Buono"],
        "organisations": ["Eurostat"],
        "year": 2020,
        "languages": ["en"],
        "topics": ["seasonal-adjustment", "time-series"],
        "gsbpm": ["6"],
        "licence": "CC-BY-4.0",
        "video": {"url": "https://example.org/videos/jdemetra", "duration_seconds": 3600, "captions": ["en"]},
    },
    {
        "id": "synthetic-labour-force-survey",
        "type": "dataset",
        "title": "Synthetic Labour Force Survey microdata",
        "summary": "Fully synthetic records generated with differential privacy guarantees, for teaching.",
        "authors": ["Marie Tremblay"],
        "organisations": ["Statistics Canada"],
        "year": 2022,
        "languages": ["en", "fr"],
        "topics": ["synthetic-data", "privacy"],
        "gsbpm": ["4", "7.2"],
        "licence": "OGL-Canada-2.0",
        "dataset": {"url": "https://example.org/lfs-synthetic.zip", "formats": ["csv", "parquet"]},
    },
    {
        "id": "occupation-coding-machine-learning",
        "type": "experience",
        "title": "Coding occupations with machine learning",
        "summary": "Lessons from classifying free-text job descriptions into ISCO codes with transformers.",
        "authors": ["Ola Nordmann"],
        "organisations": ["Statistics Norway"],
        "year": 2022,
        "languages": ["en", "no"],
        "topics": ["classification-coding", "machine-learning", "natural-language-processing"],
        "gsbpm": ["5.2"],
        "keywords": ["ISCO", "BERT"],
        "licence": "CC-BY-4.0",
    },
    {
        "id": "editing-imputation-handbook",
        "type": "publication",
        "title": "Handbook on statistical data editing and imputation",
        "summary": "Selective editing, outlier detection and donor imputation methods for business surveys.",
        "authors": ["Ton de Waal"],
        "organisations": ["UNECE"],
        "year": 2019,
        "languages": ["en"],
        "topics": ["editing-imputation", "data-quality"],
        "gsbpm": ["5.3", "5.4"],
        "licence": "CC-BY-3.0",
    },
    {
        "id": "sdcmicro-tutorial",
        "type": "notebook",
        "title": "Anonymising microdata with sdcMicro",
        "summary": "Step by step disclosure risk assessment and perturbation of a household survey in R.",
        "authors": ["Thijs Benschop"],
        "organisations": ["World Bank"],
        "year": 2021,
        "languages": ["en", "es"],
        "topics": ["statistical-disclosure-control", "privacy"],
        "gsbpm": ["6.4"],
        "licence": "GPL-2.0-or-later",
        "notebook": {
            "repository": "https://github.com/example/sdc-tutorial",
            "branch": "main",
            "path": "notebooks/sdcmicro.ipynb",
        },
    },
    {
        "id": "crop-yield-satellite-imagery",
        "type": "experience",
        "title": "Estimating crop yields from satellite imagery",
        "summary": "Combining Sentinel-2 observations with farm surveys to predict wheat yields by region.",
        "authors": ["Giulia Rossi"],
        "organisations": ["ISTAT"],
        "year": 2023,
        "countries": ["IT"],
        "languages": ["it", "en"],
        "topics": ["earth-observation", "geospatial", "machine-learning"],
        "gsbpm": ["2.1", "4.3"],
        "licence": "CC-BY-4.0",
    },
    {
        "id": "web-scraped-consumer-prices",
        "type": "dataset",
        "title": "Web-scraped consumer prices",
        "summary": "Daily prices scraped from online retailers, used to experiment with price indices.",
        "authors": ["Jan de Vries"],
        "organisations": ["Statistics Netherlands", "Eurostat"],
        "year": 2024,
        "languages": ["nl", "en"],
        "topics": ["web-scraping", "big-data"],
        "gsbpm": ["4.3"],
        "licence": "CC0-1.0",
        "dataset": {"datapackage": "datasets/prices/datapackage.json", "formats": ["csv"]},
    },
    {
        "id": "small-area-estimation-course",
        "type": "video",
        "title": "Estimación en áreas pequeñas",
        "summary": "Curso sobre estimadores de Fay-Herriot para municipios, con ejemplos en R.",
        "authors": ["Isabel Molina"],
        "organisations": ["Eurostat"],
        "year": 2018,
        "languages": ["es"],
        "topics": ["small-area-estimation", "capacity-building"],
        "gsbpm": ["6.1"],
        "licence": "CC-BY-SA-4.0",
        "video": {"url": "https://example.org/videos/sae", "provider": "YouTube"},
    },
    {
        "id": "calibration-weights-calmar",
        "type": "algorithm",
        "title": "Calmar: calibration of survey weights",
        "summary": "Raking ratio and linear calibration of sampling weights to known margins.",
        "authors": ["Olivier Sautory"],
        "organisations": ["INSEE"],
        "year": 2017,
        "languages": ["fr"],
        "topics": ["survey-weighting"],
        "gsbpm": ["5.6"],
        "licence": "CECILL-2.1",
        "algorithm": {"repository": "https://github.com/example/calmar", "language": "SAS"},
    },
]

NASTY = [
    "",
    " ",
    "\t\n ",
    '"',
    "'",
    '""',
    "'; DROP TABLE library_items; --",
    "*",
    "link*",
    "*link",
    "NEAR(",
    "NEAR(a b",
    "NEAR(link survey, 2)",
    "a NEAR b",
    "AND",
    "OR OR",
    "NOT",
    "link AND",
    "-",
    "-link",
    "--",
    "(",
    ")",
    "((link)",
    ":",
    "title:link",
    "title : link",
    "{title summary}: link",
    "^link",
    "&",
    "link & survey",
    "|",
    "!",
    "!link",
    "link:*",
    "'link':*",
    "<->",
    "a <2> b",
    "\\",
    "\\'",
    "\\\\x00",
    "\x00",
    "link\x00age",
    "\ud800",
    "surv\udfffey",
    "über naïve façade",
    "データ 統計",
    "Статистика",
    "😀 link",
    "ﬁle",
    "%",
    "_",
    "link%",
    "?",
    "+link",
    "~",
    "link" * 200,
    " ".join(["link"] * 200),
    "$1",
    "%(q)s",
    ":q",
]


def _make_store(setup: tuple[str, str], request, folder: Path):
    """A new empty store and a function that removes it."""
    backend, mode = setup
    if backend == "sqlite":
        store = Store(f"sqlite:///{folder / 'library.db'}", search=mode)
        return store, store.close
    server = request.getfixturevalue("postgres_server")
    schema = f"test_{next(_schemas)}"
    with pgserver.connect(server, autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {schema}")
    store = Store(pgserver.url(server, schema), search=mode)

    def drop() -> None:
        store.close()
        with pgserver.connect(server, autocommit=True) as conn:
            conn.execute(f"DROP SCHEMA {schema} CASCADE")

    return store, drop


def _setup_id(setup: tuple[str, str]) -> str:
    return "-".join(setup)


@pytest.fixture(params=SETUPS, ids=_setup_id)
def store(request, tmp_path):
    """An empty store on each backend, in each search mode."""
    made, remove = _make_store(request.param, request, tmp_path)
    yield made
    remove()


@pytest.fixture(scope="module", params=SETUPS, ids=_setup_id)
def catalogue(request, tmp_path_factory):
    """A store on each backend and in each search mode holding the published sample items; tests must not change it."""
    made, remove = _make_store(request.param, request, tmp_path_factory.mktemp("catalogue"))
    for item in ITEMS:
        made.add(item, submitter="curator", status="published")
    yield made
    remove()


@pytest.fixture
def items() -> list[dict]:
    """A fresh copy of the sample items."""
    return copy.deepcopy(ITEMS)
