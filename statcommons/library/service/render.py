"""Markdown (item summaries, comments) rendered to HTML that is safe to put in a page.

markdown-it renders CommonMark with raw HTML switched off, so ``<img onerror=...>``
written in a summary stays text; nh3 (ammonia) then keeps only the tags and
attributes listed here and only http(s) and mailto links, as a second guard.
"""

from __future__ import annotations

import nh3
from markdown_it import MarkdownIt

TAGS = {
    "p", "br", "hr", "em", "strong", "code", "pre", "blockquote", "ul", "ol", "li", "a",
    "h1", "h2", "h3", "h4", "h5", "h6", "table", "thead", "tbody", "tr", "th", "td", "del",
}  # fmt: skip
ATTRIBUTES = {"a": {"href", "title"}, "th": {"align"}, "td": {"align"}, "ol": {"start"}}

_markdown = MarkdownIt("commonmark", {"html": False, "linkify": False}).enable("table").enable("strikethrough")


def markdown_html(text: str) -> str:
    """``text`` (Markdown) as sanitised HTML; links open in a new tab without passing the page on."""
    html = _markdown.render(text or "")
    return nh3.clean(
        html,
        tags=TAGS,
        attributes=ATTRIBUTES,
        url_schemes={"http", "https", "mailto"},
        link_rel="noopener noreferrer nofollow",
    )
