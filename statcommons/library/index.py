"""The catalogue's in-memory search index: prefix matching, BM25F ranking, filters and facet counts with numpy.

:class:`SearchIndex` holds what search needs of every item (:class:`Doc`) in numpy arrays, one
row per *ordinal*. Ordinals are handed out in order and never reused: changing an item marks
its old ordinal dead (a tombstone) and appends the new version, so every write costs the size
of the item, not of the catalogue. Dead ordinals cost memory until the index is rebuilt.

Text. Title, summary, authors and keywords are split into words as :mod:`.search` does
(folded: lowercase, no diacritics). Each word of the vocabulary has a postings list: the
ordinals holding it and a BM25F weight per ordinal, ``tf / (K1 + tf)`` where ``tf`` adds each
field's count times its weight (:data:`~.search.FIELD_WEIGHTS`, those of the SQL search) over its
length normalisation. The average field lengths are those known when the item is added. A
query word matches as a prefix: the sorted vocabulary gives, by bisection, every word it
starts; when more than :data:`MAX_EXPANSIONS` do (a one- or two-letter prefix), only the
most frequent are kept, so an item having only rare words of that prefix can be missed.
Every query word must match, the rarest narrowing the candidates first; the score is the sum
over query words and their expansions of ``idf * weight``, with the idf of the word's postings
count (dead ordinals included, until a rebuild).

Filters and facets. Each facet value (``("gsbpm", "5")``) has the sorted ordinals holding
it, and each ordinal its facet values (a CSR layout), so the counts over the matching
items are one ``np.bincount``; when more than half of the live items match, the counts of
the others are subtracted from the live totals instead. For the page asked for, only the
matches at or above a threshold taken from a sample of their sort keys are sorted, ties broken
as the SQL search breaks them (relevance, then title, then pk; newest then pk; and so on).

All methods take one lock: writes come through the :class:`~.store.Store`, searches read.
"""

from __future__ import annotations

import bisect
import re
import threading
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from . import search
from .schema import STATUSES
from .search import FIELD_WEIGHTS, SORTS

K1, B = 1.2, 0.75
MAX_EXPANSIONS = 1000
_WORD = re.compile(r"[^\W_]+")
_DIGITS = re.compile(r"\D")
_GAP = float(1 << 20)  # between title ranks, so that most inserts take a midpoint and renumber nothing
_TOP_CHAR = "\U0010ffff"
_RENUMBER_BATCH = 64  # from this many items added at once, title ranks are renumbered in one sort


@dataclass(frozen=True, slots=True)
class Doc:
    """What the index keeps of one item: its text, visibility, sort keys and facet values."""

    pk: int
    status: str
    submitter: str | None
    title: str
    summary: str
    authors: str
    keywords: str
    year: int | None
    created: str | None
    title_sort: str
    facets: frozenset[tuple[str, str]]
    rating_avg: float | None = None
    rating_count: int = 0


@dataclass(frozen=True, slots=True)
class Hits:
    """The page of item pks in order, how many items match, and the facet counts when asked."""

    pks: list[int]
    total: int
    facets: dict[str, dict[str, int]] | None


class _Column:
    """A numpy array growing at its end, amortised O(1) per value appended."""

    __slots__ = ("data", "size")

    def __init__(self, dtype, data: np.ndarray | None = None):
        self.data = np.empty(0, dtype) if data is None else data
        self.size = len(self.data)

    def extend(self, values) -> None:
        values = np.asarray(values, dtype=self.data.dtype)
        end = self.size + len(values)
        if end > len(self.data):
            grown = np.empty(max(end, len(self.data) * 3 // 2 + 8), self.data.dtype)
            grown[: self.size] = self.data[: self.size]
            self.data = grown
        self.data[self.size : end] = values
        self.size = end

    @property
    def view(self) -> np.ndarray:
        return self.data[: self.size]

    def trim(self) -> None:
        if len(self.data) > self.size:
            self.data = self.data[: self.size].copy()


class _Postings:
    """The ordinals holding one word, ascending, and the word's weight in each."""

    __slots__ = ("docs", "weights")

    def __init__(self):
        self.docs = _Column(np.int32)
        self.weights = _Column(np.float32)

    def extend(self, docs: np.ndarray, weights: np.ndarray) -> None:
        self.docs.extend(docs)
        self.weights.extend(weights)


def words_of(text: str) -> list[str]:
    """The folded words of ``text``, as the index keeps them."""
    return _WORD.findall(search.fold(text))


def newest_key(year: int | None, created: str | None) -> int:
    """One integer ordering items as ``year DESC NULLS LAST, created DESC NULLS LAST``: YYYY then 14 digits."""
    digits = _DIGITS.sub("", created or "")[:14].ljust(14, "0") if created else "0"
    return (year or 0) * 10**14 + int(digits)


class SearchIndex:
    """The catalogue's words, facet values and sort keys in numpy arrays; see the module docstring."""

    def __init__(self, facet_names: Sequence[str]):
        self.facet_names = tuple(facet_names)
        self._lock = threading.RLock()
        self._ordinal: dict[int, int] = {}  # pk -> live ordinal
        self._pk = _Column(np.int64)
        self._alive = _Column(np.bool_)
        self._public = _Column(np.bool_)  # alive and published: what anyone sees
        self._status = _Column(np.int8)
        self._submitter = _Column(np.int32)
        self._newest = _Column(np.int64)
        self._rank = _Column(np.float64)  # position by (title_sort, pk)
        self._rating_avg = _Column(np.float64)  # -inf when unrated, so that it sorts last
        self._rating_count = _Column(np.int64)
        self._title_sort: list[str] = []  # per ordinal
        self._titles: list[tuple[str, int]] = []  # live (title_sort, pk), sorted
        self._live = 0
        self._submitters: dict[str, int] = {}
        self._statuses = {status: code for code, status in enumerate(STATUSES)}
        # words
        self._word_id: dict[str, int] = {}
        self._postings: list[_Postings] = []
        self._df = _Column(np.int64)  # postings length per word, dead ordinals included
        self._sorted_words: list[str] = []
        self._sorted_ids: list[int] = []
        self._field_length = np.zeros(len(FIELD_WEIGHTS))  # total words per field, for the averages
        self._field_docs = 0
        # facet values
        self._value_id: dict[tuple[str, str], int] = {}
        self._values: list[tuple[str, str]] = []
        self._value_docs: list[_Column] = []
        self._live_counts = _Column(np.int64)
        self._indptr = _Column(np.int64, np.zeros(1, np.int64))
        self._indices = _Column(np.int32)

    def __len__(self) -> int:
        return self._live

    # Writing

    def add(self, docs: Iterable[Doc], batch: int = 20_000) -> None:
        """Add items, or replace those whose pk is already indexed; ``batch`` items are tokenised at a time."""
        with self._lock:
            titles: dict[int, str] = {}  # the title of each item added, inserted in the title order at the end
            chunk: list[Doc] = []
            for doc in docs:
                chunk.append(doc)
                if len(chunk) >= batch:
                    self._add_chunk(chunk, titles)
                    chunk = []
            if chunk:
                self._add_chunk(chunk, titles)
            self._add_titles([(title, pk) for pk, title in titles.items()])

    def remove(self, pk: int) -> None:
        """Forget an item (its ordinal becomes a tombstone)."""
        with self._lock:
            self._remove(pk)

    def set_rating(self, pk: int, average: float | None, count: int) -> None:
        """Record an item's new rating, used by the ``rating`` sort."""
        with self._lock:
            ordinal = self._ordinal.get(pk)
            if ordinal is not None:
                self._rating_avg.data[ordinal] = -np.inf if average is None else average
                self._rating_count.data[ordinal] = count

    def trim(self) -> None:
        """Give back the spare capacity of every array, after a bulk load."""
        with self._lock:
            for postings in self._postings:
                postings.docs.trim()
                postings.weights.trim()
            for column in self._value_docs:
                column.trim()

    def _remove(self, pk: int) -> None:
        ordinal = self._ordinal.pop(pk, None)
        if ordinal is None:
            return
        self._alive.data[ordinal] = self._public.data[ordinal] = False
        self._live -= 1
        values = self._indices.data[self._indptr.data[ordinal] : self._indptr.data[ordinal + 1]]
        np.subtract.at(self._live_counts.data, values, 1)
        key = (self._title_sort[ordinal], pk)
        at = bisect.bisect_left(self._titles, key)
        if at < len(self._titles) and self._titles[at] == key:
            del self._titles[at]

    def _add_chunk(self, docs: list[Doc], titles: dict[int, str]) -> None:
        latest = {doc.pk: doc for doc in docs}  # the last version of an item given twice
        docs = list(latest.values())
        for doc in docs:
            self._remove(doc.pk)
            titles[doc.pk] = doc.title_sort
        first = self._pk.size
        ordinals = np.arange(first, first + len(docs), dtype=np.int64)
        self._add_text(docs, first)
        self._add_facets(docs, ordinals)
        self._add_columns(docs)
        self._ordinal.update((doc.pk, first + i) for i, doc in enumerate(docs))
        self._live += len(docs)

    def _add_columns(self, docs: list[Doc]) -> None:
        submitters = []
        for doc in docs:
            if doc.submitter is None:
                submitters.append(-1)
            else:
                submitters.append(self._submitters.setdefault(doc.submitter, len(self._submitters)))
        self._pk.extend([doc.pk for doc in docs])
        self._alive.extend(np.ones(len(docs), np.bool_))
        self._public.extend([doc.status == "published" for doc in docs])
        self._status.extend([self._statuses[doc.status] for doc in docs])
        self._submitter.extend(submitters)
        self._newest.extend([newest_key(doc.year, doc.created) for doc in docs])
        self._rank.extend(np.zeros(len(docs)))
        self._rating_avg.extend([-np.inf if doc.rating_avg is None else doc.rating_avg for doc in docs])
        self._rating_count.extend([doc.rating_count for doc in docs])
        self._title_sort.extend(doc.title_sort for doc in docs)

    def _add_titles(self, keys: list[tuple[str, int]]) -> None:
        """Place the (title_sort, pk) of items just added in the title order and give them a rank."""
        if len(keys) >= _RENUMBER_BATCH or not self._titles:
            self._titles.extend(keys)
            self._titles.sort()
            self._renumber()
            return
        for key in keys:
            at = bisect.bisect_left(self._titles, key)
            below = self._rank_of(at - 1) if at > 0 else None
            above = self._rank_of(at) if at < len(self._titles) else None
            low = below if below is not None else above - 2 * _GAP
            high = above if above is not None else below + 2 * _GAP
            rank = (low + high) / 2
            self._titles.insert(at, key)
            self._rank.data[self._ordinal[key[1]]] = rank
            if not low < rank < high:  # no room left between the neighbours
                self._renumber()

    def _rank_of(self, position: int) -> float:
        return float(self._rank.data[self._ordinal[self._titles[position][1]]])

    def _renumber(self) -> None:
        ordinals = np.fromiter((self._ordinal[pk] for _, pk in self._titles), np.int64, len(self._titles))
        self._rank.data[ordinals] = np.arange(len(ordinals)) * _GAP

    def _add_text(self, docs: list[Doc], first: int) -> None:
        """Tokenise the items' fields and append their weights to the postings of their words."""
        fields = len(FIELD_WEIGHTS)
        tokens: list[str] = []
        lengths = np.empty(len(docs) * fields, np.int64)
        slot = 0
        for doc in docs:
            for text in (doc.title, doc.summary, doc.authors, doc.keywords):
                found = words_of(text)
                tokens += found
                lengths[slot] = len(found)
                slot += 1
        self._new_words(set(tokens).difference(self._word_id))
        word_ids = np.fromiter(map(self._word_id.__getitem__, tokens), np.int64, len(tokens))
        slots = len(docs) * fields
        keys, counts = np.unique(word_ids * slots + np.repeat(np.arange(slots), lengths), return_counts=True)
        words, slot_of = np.divmod(keys, slots)
        doc_of, field_of = np.divmod(slot_of, fields)
        self._field_length += lengths.reshape(len(docs), fields).sum(axis=0)
        self._field_docs += len(docs)
        average = np.maximum(self._field_length / self._field_docs, 1.0)
        norm = 1 - B + B * lengths[slot_of] / average[field_of]
        tf = np.asarray(FIELD_WEIGHTS)[field_of] * counts / norm
        pair = keys // fields  # word * len(docs) + doc: one group per (word, item), contiguous
        starts = np.flatnonzero(np.r_[True, pair[1:] != pair[:-1]]) if len(pair) else np.zeros(0, np.int64)
        tf = np.add.reduceat(tf, starts) if len(starts) else tf
        weights = (tf / (K1 + tf)).astype(np.float32)
        words, docs_of = words[starts], (doc_of[starts] + first).astype(np.int32)
        bounds = np.flatnonzero(np.r_[True, words[1:] != words[:-1], True]) if len(words) else [0]
        for start, end in zip(bounds[:-1], bounds[1:], strict=False):
            word = int(words[start])
            self._postings[word].extend(docs_of[start:end], weights[start:end])
            self._df.data[word] += end - start

    def _new_words(self, new: set[str]) -> None:
        if not new:
            return
        for word in sorted(new):
            self._word_id[word] = len(self._postings)
            self._postings.append(_Postings())
        self._df.extend(np.zeros(len(new), np.int64))
        if len(new) > 100:
            self._sorted_words = sorted(self._word_id)
            self._sorted_ids = [self._word_id[word] for word in self._sorted_words]
            return
        for word in new:
            at = bisect.bisect_left(self._sorted_words, word)
            self._sorted_words.insert(at, word)
            self._sorted_ids.insert(at, self._word_id[word])

    def _add_facets(self, docs: list[Doc], ordinals: np.ndarray) -> None:
        values, per_doc = [], []
        for doc in docs:
            ids = [self._value(pair) for pair in sorted(doc.facets)]
            values += ids
            per_doc.append(len(ids))
        values_arr = np.asarray(values, np.int32)
        self._indptr.extend(self._indptr.data[self._indptr.size - 1] + np.cumsum(per_doc))
        self._indices.extend(values_arr)
        owners = np.repeat(ordinals, per_doc).astype(np.int32)
        order = np.argsort(values_arr, kind="stable")
        values_arr, owners = values_arr[order], owners[order]
        bounds = np.flatnonzero(np.r_[True, values_arr[1:] != values_arr[:-1], True]) if len(values) else [0]
        for start, end in zip(bounds[:-1], bounds[1:], strict=False):
            value = int(values_arr[start])
            self._value_docs[value].extend(owners[start:end])
            self._live_counts.data[value] += end - start

    def _value(self, pair: tuple[str, str]) -> int:
        value = self._value_id.get(pair)
        if value is None:
            value = self._value_id[pair] = len(self._values)
            self._values.append(pair)
            self._value_docs.append(_Column(np.int32))
            self._live_counts.extend([0])
        return value

    # Searching

    def expand(self, prefix: str) -> list[int]:
        """The ids of the words starting with ``prefix``; the most frequent :data:`MAX_EXPANSIONS` of them."""
        start = bisect.bisect_left(self._sorted_words, prefix)
        end = bisect.bisect_left(self._sorted_words, prefix + _TOP_CHAR, start)
        ids = self._sorted_ids[start:end]
        if len(ids) > MAX_EXPANSIONS:
            ids_arr = np.asarray(ids)
            frequent = np.argpartition(-self._df.data[ids_arr], MAX_EXPANSIONS)[:MAX_EXPANSIONS]
            return ids_arr[frequent].tolist()
        return ids

    def search(
        self,
        words: Sequence[str],
        *,
        filters: Mapping[str, Sequence[str]] | None = None,
        statuses: Sequence[str] | None = ("published",),
        user: str | None = None,
        curator: bool = False,
        submitter: str | None = None,
        sort: str = "relevance",
        offset: int = 0,
        limit: int = 20,
        facets: bool = True,
    ) -> Hits:
        """Items having every one of ``words`` as a prefix of one of their words (all items for no words).

        ``filters`` maps a facet name to values, any of which matches; ``statuses`` None means
        any. Unless ``curator``, only published items and those submitted by ``user`` are seen.
        ``submitter`` keeps only the items that person submitted.
        """
        if sort not in SORTS:
            raise ValueError(f"{sort!r} is not a sort order: use one of {', '.join(SORTS)}")
        with self._lock:
            mask = self._visible(statuses, user, curator)
            if submitter is not None:
                mask &= self._submitter.view == self._submitters.get(submitter, -2)
            for facet, values in (filters or {}).items():
                mask &= self._having(facet, values)
            if words:
                matched, score = self._match(words, mask)
            else:
                matched, score = np.flatnonzero(mask), None
            page = self._page(matched, score, sort, offset, limit)
            counts = self._facet_counts(matched) if facets else None
            return Hits(self._pk.data[page].tolist(), len(matched), counts)

    def _visible(self, statuses: Sequence[str] | None, user: str | None, curator: bool) -> np.ndarray:
        submitter = self._submitters.get(user) if user and not curator else None
        mask = (self._alive if curator else self._public).view.copy()
        if submitter is not None:
            mask |= self._alive.view & (self._submitter.view == submitter)
        if statuses is not None and (curator or submitter is not None or "published" not in statuses):
            wanted = np.zeros(len(STATUSES), np.bool_)
            wanted[[self._statuses[name] for name in statuses if name in self._statuses]] = True
            mask &= wanted[self._status.view]
        return mask

    def _having(self, facet: str, values: Sequence[str]) -> np.ndarray:
        having = np.zeros(self._pk.size, np.bool_)
        for value in values:
            value_id = self._value_id.get((facet, value))
            if value_id is not None:
                having[self._value_docs[value_id].view] = True
        return having

    def _match(self, words: Sequence[str], mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The ordinals in ``mask`` matching every word, ascending, and their scores.

        Words are taken rarest first, each narrowing the candidates: by bisection in the word's
        postings, or, for a word held by a quarter of the items or more once there are
        candidates, through its scores over all ordinals.
        """
        size = self._pk.size
        nothing = np.zeros(0, np.int64), np.zeros(0)
        groups = [self.expand(prefix) for word in words for prefix in words_of(word)]
        if not groups or not all(groups):
            return nothing
        groups.sort(key=lambda ids: int(self._df.data[ids].sum()))
        matched = scores = None
        for ids in groups:
            docs, weights = self._postings_of(ids, size)
            common = len(docs) * 4 >= size
            if matched is not None and common:
                found = np.bincount(docs, weights, minlength=size)[matched]
                keep = found > 0
                matched, scores = matched[keep], scores[keep] + found[keep]
                continue
            if len(ids) > 1 and common:  # several words start with the prefix: add up per item
                dense = np.bincount(docs, weights, minlength=size)
                docs = np.flatnonzero(dense)
                weights = dense[docs]
            elif len(ids) > 1:
                docs, inverse = np.unique(docs, return_inverse=True)
                weights = np.bincount(inverse, weights)
            if matched is None:
                keep = mask[docs]
                matched, scores = docs[keep], weights[keep]
            else:
                at = np.minimum(np.searchsorted(docs, matched), len(docs) - 1)
                keep = docs[at] == matched
                matched, scores = matched[keep], scores[keep] + weights[at[keep]]
            if not len(matched):
                return nothing
        return matched, scores

    def _postings_of(self, ids: list[int], size: int) -> tuple[np.ndarray, np.ndarray]:
        """The ordinals holding any of the words ``ids``, and the weight times idf of each (ordinals may repeat)."""
        postings = [self._postings[word] for word in ids]
        df = self._df.data[ids]
        idf = np.log1p((size - df + 0.5) / (df + 0.5))
        if len(postings) == 1:  # ascending and distinct
            return postings[0].docs.view, postings[0].weights.view * idf[0]
        docs = np.concatenate([p.docs.view for p in postings])
        return docs, np.concatenate([p.weights.view for p in postings]) * np.repeat(idf, df)

    def _page(self, matched: np.ndarray, score: np.ndarray | None, sort: str, offset: int, limit: int) -> np.ndarray:
        wanted = min(offset + limit, len(matched))
        if wanted <= offset:
            return np.zeros(0, np.int64)
        rank = self._rank.data[matched]
        if sort == "relevance" and score is not None:
            keys = [score, -rank]
        elif sort == "title":
            keys = [-rank]
        elif sort == "rating":
            keys = [self._rating_avg.data[matched], self._rating_count.data[matched], -rank]
        else:
            keys = [self._newest.data[matched], self._pk.data[matched]]
        return matched[_top(keys, wanted)[offset:wanted]]

    def _facet_counts(self, matched: np.ndarray) -> dict[str, dict[str, int]]:
        if 2 * len(matched) <= self._live:
            counts = self._count(matched)
        else:  # the live totals less the counts of the fewer items that do not match
            others = self._alive.view.copy()
            others[matched] = False
            counts = self._live_counts.view - self._count(np.flatnonzero(others))
        result: dict[str, dict[str, int]] = {name: {} for name in self.facet_names}
        found = [(self._values[value], int(counts[value])) for value in np.flatnonzero(counts)]
        for (facet, value), count in sorted(found, key=lambda entry: (-entry[1], entry[0][1])):
            if facet in result:
                result[facet][value] = count
        return result

    def _count(self, ordinals: np.ndarray) -> np.ndarray:
        """How many of ``ordinals`` have each facet value."""
        starts = self._indptr.data[ordinals]
        lengths = self._indptr.data[ordinals + 1] - starts
        ends = np.cumsum(lengths)
        total = int(ends[-1]) if len(ends) else 0
        if not total:
            return np.zeros(len(self._values), np.int64)
        # The positions of every value of those ordinals in the CSR arrays: starts[i], starts[i] + 1, ...
        positions = np.arange(total, dtype=np.int64)
        positions += np.repeat(starts - (ends - lengths), lengths)
        return np.bincount(self._indices.data[positions], minlength=len(self._values))


def _top(keys: list[np.ndarray], wanted: int) -> np.ndarray:
    """Positions of the ``wanted`` best rows, best first, by ``keys`` (all descending, the first most significant)."""
    primary = keys[0]
    rows = np.arange(len(primary))
    if wanted < len(primary):
        threshold = _threshold(primary, wanted)
        rows = np.flatnonzero(primary >= threshold)
        better = rows[primary[rows] > threshold]
        if len(better) < wanted and len(keys) > 1:  # the rest are tied at the threshold: the next key decides
            tied = rows[primary[rows] == threshold]
            rows = np.concatenate([better, tied[_top([key[tied] for key in keys[1:]], wanted - len(better))]])
        elif len(better) >= wanted:
            rows = better
    order = np.lexsort([key[rows] for key in reversed(keys)])[::-1]
    return rows[order[:wanted]]


def _threshold(values: np.ndarray, wanted: int) -> float:
    """A value that at least ``wanted`` of ``values`` reach, and not many more when ``values`` are many.

    It is the ``wanted``-th largest of an evenly spaced sample: those sampled values reach it, so
    at least ``wanted`` do, and about ``wanted * stride`` do in all. Partitioning the sample is
    much cheaper than partitioning every value when only a page of a large result set is wanted.
    """
    stride = int(np.sqrt(len(values) / wanted))
    sample = values[::stride] if stride >= 4 else values
    return sample[np.argpartition(sample, len(sample) - wanted)[len(sample) - wanted]]
