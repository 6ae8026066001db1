"""A seeded catalogue of generated items, and the queries readers would type, for benchmarks and big-catalogue tests.

:class:`Corpus` makes ``items`` items (the same for the same seed) whose titles (6 to 10 words),
summaries (45 to 75) and keywords (0 to 3) are drawn from a vocabulary of 5,000 pronounceable
pseudo-words with Zipf frequencies (the word of rank r has weight 1/r), with authors from a pool
of 3,000 pseudo-names and type, GSBPM codes, topics, organisations, languages and licence drawn
from the real vocabularies of :mod:`statcommons.library.schema`, :mod:`~statcommons.library.gsbpm`
and ``topics.yaml``. :func:`make_queries` draws queries of 1 to 3 words by how often the corpus
uses them, so common words are frequent in them, as they are in what readers type.

Used by ``benchmarks/search.py`` and ``benchmarks/library_panel.py``, and by the test of a hub
whose library holds 100,000 items (``tests/library/service/test_big_catalogue.py``). About 20 s
for 100,000 items on one core; ``Store.add_many(batch, validate=False)`` loads them.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

import numpy as np

from statcommons.library import gsbpm, schema

VOCABULARY = 5_000
ZIPF_EXPONENT = 1.0
BATCH = 10_000  # items generated and loaded at a time
ORGANISATIONS = (
    "Eurostat", "INSEE", "ISTAT", "Destatis", "Statistics Netherlands", "Statistics Canada", "Statistics Norway",
    "Statistics Sweden", "Statistics Denmark", "Statistics Finland", "Statistics Austria", "Statistics Poland",
    "Statistics Estonia", "Statistics Lithuania", "Statistics Portugal", "Statistics Iceland", "INE Spain",
    "Central Statistics Office Ireland", "Office for National Statistics", "US Census Bureau",
    "Bureau of Labor Statistics", "Australian Bureau of Statistics", "Stats NZ", "IBGE", "INEGI", "DANE",
    "Statistics South Africa", "Statistics Korea", "Statistics Bureau of Japan", "UNECE", "OECD", "World Bank",
    "IMF", "FAO", "ILO", "UN Statistics Division", "European Central Bank", "Swiss Federal Statistical Office",
    "Statistics Belgium", "Czech Statistical Office",
)  # fmt: skip
LANGUAGES = ("en", "fr", "de", "es", "it", "nl", "pt", "pl", "sv", "fi", "da", "no", "et", "lt", "cs", "ja", "ko")
SYLLABLES = [c + v for c in "bcdfghjklmnprstvz" for v in "aeiou"] + [c + v + "n" for c in "bdgklmst" for v in "aeio"]


def pseudo_words(count: int, rng: np.random.Generator, syllables: tuple[int, int] = (2, 4)) -> list[str]:
    """``count`` distinct pronounceable words of 2 to 4 syllables."""
    words: dict[str, None] = {}
    while len(words) < count:
        parts = rng.integers(0, len(SYLLABLES), rng.integers(syllables[0], syllables[1] + 1))
        words.setdefault("".join(SYLLABLES[p] for p in parts))
    return list(words)


@dataclass
class Corpus:
    """A seeded catalogue generator; ``counts`` holds how often each vocabulary word was used so far."""

    items: int
    seed: int
    vocabulary: list[str] = field(init=False)
    probabilities: np.ndarray = field(init=False)
    counts: np.ndarray = field(init=False)

    def __post_init__(self):
        rng = np.random.default_rng(self.seed)
        self.vocabulary = pseudo_words(VOCABULARY, rng)
        weights = 1.0 / np.arange(1, VOCABULARY + 1) ** ZIPF_EXPONENT
        self.probabilities = weights / weights.sum()
        self.counts = np.zeros(VOCABULARY, np.int64)
        first = [w.capitalize() for w in pseudo_words(400, rng, (2, 3))]
        last = [w.capitalize() for w in pseudo_words(2_000, rng, (2, 4))]
        self.authors = [f"{first[i % len(first)]} {last[i % len(last)]}" for i in rng.permutation(3_000)]
        self.codes = sorted(gsbpm.PHASES) + sorted(gsbpm.SUBPROCESSES)
        self.topics = sorted(schema.topics())
        self.licences = sorted(schema.LICENCES)

    def batches(self, size: int = BATCH) -> Iterator[list[dict]]:
        """The items, ``size`` at a time, the same for the same seed."""
        rng = np.random.default_rng(self.seed + 1)
        words = np.array(self.vocabulary, dtype=object)
        for start in range(0, self.items, size):
            count = min(size, self.items - start)
            title_lengths = rng.integers(6, 11, count)
            summary_lengths = rng.integers(45, 76, count)
            keyword_counts = rng.integers(0, 4, count)
            length = int(title_lengths.sum() + summary_lengths.sum() + keyword_counts.sum())
            drawn = rng.choice(VOCABULARY, length, p=self.probabilities)
            self.counts += np.bincount(drawn, minlength=VOCABULARY)
            text = words[drawn].tolist()
            at = 0
            batch = []
            for i in range(count):
                title = text[at : at + title_lengths[i]]
                at += title_lengths[i]
                summary = text[at : at + summary_lengths[i]]
                at += summary_lengths[i]
                keywords = list(dict.fromkeys(text[at : at + keyword_counts[i]]))
                at += keyword_counts[i]
                batch.append(self._item(start + i, title, summary, keywords, rng))
            yield batch

    def _item(self, n: int, title: list[str], summary: list[str], keywords: list[str], rng) -> dict:
        kind = schema.TYPES[rng.integers(len(schema.TYPES))]
        year = int(rng.integers(1995, 2026))
        month, day, hour, minute = rng.integers(1, 13), rng.integers(1, 29), rng.integers(0, 24), rng.integers(0, 60)
        languages = ["en"] if rng.random() < 0.6 else []
        languages += [LANGUAGES[i] for i in rng.choice(len(LANGUAGES), rng.integers(1, 3), replace=False)]
        licence = "CC-BY-4.0" if rng.random() < 0.4 else self.licences[rng.integers(len(self.licences))]
        item = {
            "id": f"bench-{n:07d}",
            "type": kind,
            "title": " ".join(title).capitalize(),
            "summary": " ".join(summary).capitalize() + ".",
            "authors": list(dict.fromkeys(self.authors[i] for i in rng.integers(0, len(self.authors), 1 + n % 3))),
            "organisations": [ORGANISATIONS[i] for i in rng.choice(len(ORGANISATIONS), 1 + n % 2, replace=False)],
            "year": year,
            "languages": list(dict.fromkeys(languages)),
            "topics": [self.topics[i] for i in rng.choice(len(self.topics), rng.integers(1, 4), replace=False)],
            "gsbpm": [self.codes[i] for i in rng.choice(len(self.codes), rng.integers(1, 3), replace=False)],
            "licence": licence,
            "created": f"{year}-{month:02d}-{day:02d}T{hour:02d}:{minute:02d}:00Z",
        }
        if keywords:
            item["keywords"] = keywords
        if kind == "notebook":
            item["notebook"] = {"shared_path": f"shared-notebooks/bench/{n}.ipynb"}
        elif kind == "dataset":
            item["dataset"] = {"url": f"https://example.org/data/{n}.csv", "formats": ["csv"]}
        elif kind == "video":
            item["video"] = {"url": f"https://example.org/videos/{n}"}
        elif kind == "algorithm":
            item["algorithm"] = {"repository": f"https://github.com/example/tool-{n}", "language": "Python"}
        return item


@dataclass(frozen=True)
class Query:
    """What a reader types, and the filter of the ``filtered`` variant."""

    q: str
    filter: dict


def make_queries(corpus: Corpus, count: int, seed: int) -> list[Query]:
    """``count`` queries of 1 to 3 words drawn by how often the corpus uses them, with a type or phase filter."""
    rng = np.random.default_rng(seed + 2)
    frequencies = corpus.counts / corpus.counts.sum()
    queries = []
    for n in range(count):
        words = rng.choice(VOCABULARY, rng.integers(1, 4), p=frequencies)
        if n % 2:
            chosen = {"gsbpm": sorted(gsbpm.PHASES)[rng.integers(len(gsbpm.PHASES))]}
        else:
            chosen = {"type": schema.TYPES[rng.integers(len(schema.TYPES))]}
        queries.append(Query(" ".join(corpus.vocabulary[w] for w in words), chosen))
    return queries
