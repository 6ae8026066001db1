"""Turning what a reader types into safe full-text queries, and marking the words found.

A query is reduced to its words (:func:`terms`): runs of letters and digits, lowercased,
at most :data:`MAX_TERMS` of them and :data:`MAX_TERM_LENGTH` characters each. Everything
else (quotes, ``*``, ``NEAR(``, ``-``, ``:``, ``&``, backslashes...) separates words, so no
character a reader types reaches a query parser as syntax. Each word matches as a prefix
("link" finds "linkage") and every word must match.

:func:`fts5_query` and :func:`tsquery` write those words for SQLite FTS5 and PostgreSQL
``to_tsquery``; :func:`highlight` and :func:`snippet` escape item text as HTML and wrap
the words found in ``<mark>``, the only markup they produce.

What a search may ask for is defined here once, for the store, its search backends, the
in-memory index and the service: the facets, the sort orders, the page size and the weights
of the text fields.
"""

from __future__ import annotations

import functools
import html
import re
import unicodedata

MAX_TERMS = 12
MAX_TERM_LENGTH = 40
SNIPPET_LENGTH = 240

FACETS = ("type", "gsbpm", "topic", "organisation", "language", "licence")
"""What results are filtered and counted by."""
SORTS = ("relevance", "newest", "title", "rating")
MAX_PAGE = 100
"""The most results a search gives at once."""
FIELDS = ("title", "summary", "authors", "keywords")
"""The text fields words are found in, in the order of the full-text columns."""
FIELD_WEIGHTS = (10.0, 1.0, 3.0, 5.0)
"""How much a word counts in each of :data:`FIELDS`: in the memory index's BM25F and in SQLite's ``bm25``.

PostgreSQL ranks with the four weights of ``ts_rank`` instead: the heaviest field is its ``A``, the next ``B``...
"""

_WORD = re.compile(r"[^\W_]+")
_MARKDOWN_LINK = re.compile(r"!?\[([^\]]*)\]\([^)]*\)")
_MARKDOWN_LINE_MARKS = re.compile(r"^[ \t]*(?:#{1,6}|>+|[-*+]|\d+\.)[ \t]+", re.MULTILINE)
_MARKDOWN_EMPHASIS = re.compile(r"\*+|`+|(?<![^\W_])_+|_+(?![^\W_])")
_SPACE = re.compile(r"\s+")


def clean(value: str) -> str:
    """``value`` without NUL characters and lone surrogates, which no database stores."""
    return value.encode("utf-8", "ignore").decode("utf-8").replace("\x00", "")


def terms(q: str | None) -> list[str]:
    """The distinct words of a query, lowercased and shortened, in the order typed."""
    if not q:
        return []
    words: list[str] = []
    for match in _WORD.finditer(clean(str(q))):
        word = match.group().lower()[:MAX_TERM_LENGTH]
        if word not in words:
            words.append(word)
        if len(words) == MAX_TERMS:
            break
    return words


def fold(text: str) -> str:
    """Lowercase ``text`` without diacritics (``"Pequeñas"`` -> ``"pequenas"``), as FTS5 indexes it."""
    if text.isascii():
        return text.lower()
    decomposed = unicodedata.normalize("NFKD", text.lower())
    return "".join(char for char in decomposed if not unicodedata.combining(char))


def index_text(text: str) -> str:
    """The words of ``text`` folded and joined by spaces: what PostgreSQL indexes, so both backends agree."""
    return " ".join(_WORD.findall(fold(clean(text))))


def folded(words: list[str]) -> list[str]:
    """``words`` folded for PostgreSQL, each still only letters and digits."""
    return [part for word in words for part in _WORD.findall(fold(word))]


def fts5_query(words: list[str]) -> str:
    """An FTS5 query matching items having every word as a prefix: ``"link"* "survey"*``."""
    return " ".join(f'"{word}"*' for word in words)


def tsquery(words: list[str]) -> str:
    """A ``to_tsquery`` text matching every word as a prefix: ``'link':* & 'survey':*``."""
    return " & ".join(f"'{word}':*" for word in words)


def _pattern(words: list[str]) -> re.Pattern | None:
    return _compiled(tuple(words)) if words else None


@functools.lru_cache(maxsize=256)
def _compiled(words: tuple[str, ...]) -> re.Pattern:
    alternatives = "|".join(re.escape(word) for word in sorted(words, key=len, reverse=True))
    return re.compile(rf"(?<![^\W_])(?:{alternatives})[^\W_]*", re.IGNORECASE)


def highlight(text: str, words: list[str]) -> str:
    """``text`` escaped as HTML, each word starting with one of ``words`` in ``<mark>``."""
    pattern = _pattern(words)
    if pattern is None:
        return html.escape(text)
    parts, last = [], 0
    for match in pattern.finditer(text):
        parts.append(html.escape(text[last : match.start()]))
        parts.append(f"<mark>{html.escape(match.group())}</mark>")
        last = match.end()
    parts.append(html.escape(text[last:]))
    return "".join(parts)


def plain(markdown: str) -> str:
    """Markdown as one line of plain text: link targets, emphasis and heading marks removed."""
    # Most summaries have no link or emphasis: skip the slower patterns when their characters are absent.
    text = _MARKDOWN_LINK.sub(r"\1", markdown) if "[" in markdown else markdown
    text = _MARKDOWN_LINE_MARKS.sub("", text)
    if "*" in text or "`" in text or "_" in text:
        text = _MARKDOWN_EMPHASIS.sub("", text)
    return _SPACE.sub(" ", text).strip()


def snippet(markdown: str, words: list[str], length: int = SNIPPET_LENGTH) -> str:
    """Up to ``length`` characters of a summary around its first word found, highlighted."""
    text = plain(markdown)
    if len(text) <= length:
        return highlight(text, words)
    pattern = _pattern(words)
    found = pattern.search(text) if pattern else None
    start = max(0, found.start() - length // 4) if found else 0
    start = min(start, len(text) - length)
    if start > 0:
        space = text.find(" ", start)
        start = space + 1 if 0 <= space < start + 20 else start
    end = start + length
    if end < len(text):
        space = text.rfind(" ", start, end)
        end = space if space > end - 20 else end
    prefix = "… " if start > 0 else ""
    suffix = " …" if end < len(text) else ""
    return f"{html.escape(prefix)}{highlight(text[start:end], words)}{html.escape(suffix)}"
