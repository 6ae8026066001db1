"""Fixtures of the library store tests: a real PostgreSQL server, stores on both backends, sample items.

The PostgreSQL server is started once per session from Debian's binaries (``PG_BIN``,
``/usr/lib/postgresql/15/bin`` unless set), listening on a Unix socket only; each store
gets its own schema, dropped afterwards. SQLite stores are files in a temporary folder.
"""

from __future__ import annotations

import copy
import itertools
import os
import random
import shutil
import subprocess
import tempfile
from pathlib import Path

import psycopg
import pytest

from statcommons.library.store import Store

BACKENDS = ["sqlite", "postgresql"]
PG_BIN = Path(os.environ.get("PG_BIN", "/usr/lib/postgresql/15/bin"))
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


def _run(command: list[str], what: str) -> None:
    done = subprocess.run(command, capture_output=True, text=True)
    if done.returncode:
        pytest.fail(f"{what} failed ({done.returncode}): {done.stdout[-2000:]}{done.stderr[-2000:]}")


@pytest.fixture(scope="session")
def postgres_server():
    """A PostgreSQL server of our own on a Unix socket, with an empty database; stopped at the end."""
    missing = [tool for tool in ("initdb", "pg_ctl", "postgres") if not (PG_BIN / tool).exists()]
    if missing:
        pytest.fail(
            f"the PostgreSQL server is not installed: {PG_BIN}/{missing[0]} is missing; "
            "`make postgres-deps` (run by `make test`) installs it, or set PG_BIN"
        )
    root = Path(tempfile.mkdtemp(prefix="statcommons-pg-"))
    as_postgres = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
    if as_postgres:
        shutil.chown(root, "postgres")
    data, log = root / "data", root / "server.log"
    port = random.randint(20000, 60000)
    options = f"-p {port} -k {root} -c listen_addresses='' -c fsync=off -c synchronous_commit=off"
    _run([*as_postgres, str(PG_BIN / "initdb"), "-D", str(data), "-A", "trust", "-U", "postgres", "-E", "UTF8",
          "--locale=C", "--no-sync"], "initdb")  # fmt: skip
    _run([*as_postgres, str(PG_BIN / "pg_ctl"), "-D", str(data), "-o", options, "-l", str(log), "-w", "start"],
         f"pg_ctl start (log: {log})")  # fmt: skip
    try:
        with psycopg.connect(host=str(root), port=port, user="postgres", dbname="postgres", autocommit=True) as conn:
            conn.execute(f"CREATE DATABASE {PG_DATABASE}")
        yield {"host": str(root), "port": port, "dbname": PG_DATABASE}
    finally:
        _run([*as_postgres, str(PG_BIN / "pg_ctl"), "-D", str(data), "-m", "fast", "-w", "stop"], "pg_ctl stop")
        shutil.rmtree(root, ignore_errors=True)


def _make_store(backend: str, request, folder: Path):
    """A new empty store and a function that removes it."""
    if backend == "sqlite":
        store = Store(f"sqlite:///{folder / 'library.db'}")
        return store, store.close
    server = request.getfixturevalue("postgres_server")
    schema = f"test_{next(_schemas)}"
    connect = {"host": server["host"], "port": server["port"], "user": "postgres", "dbname": server["dbname"]}
    with psycopg.connect(**connect, autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {schema}")
    url = (
        f"postgresql+psycopg://postgres@/{server['dbname']}?host={server['host']}&port={server['port']}"
        f"&options=-csearch_path%3D{schema}"
    )
    store = Store(url)

    def drop() -> None:
        store.close()
        with psycopg.connect(**connect, autocommit=True) as conn:
            conn.execute(f"DROP SCHEMA {schema} CASCADE")

    return store, drop


@pytest.fixture(params=BACKENDS)
def store(request, tmp_path):
    """An empty store on each backend."""
    made, remove = _make_store(request.param, request, tmp_path)
    yield made
    remove()


@pytest.fixture(scope="module", params=BACKENDS)
def catalogue(request, tmp_path_factory):
    """A store on each backend holding the published sample items; tests must not change it."""
    made, remove = _make_store(request.param, request, tmp_path_factory.mktemp("catalogue"))
    for item in ITEMS:
        made.add(item, submitter="curator", status="published")
    yield made
    remove()


@pytest.fixture
def items() -> list[dict]:
    """A fresh copy of the sample items."""
    return copy.deepcopy(ITEMS)
