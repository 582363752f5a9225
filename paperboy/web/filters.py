"""Jinja filters: how dates, author lists, abstracts and badges read on a page.

They return plain strings, which autoescaping (always on) makes safe in HTML; `math`, `marked`
and `marked_snippet` return HTML already escaped, with TeX as MathML (domain/math_markup.py).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from markupsafe import Markup, escape

from paperboy.domain.calendar import format_day, format_short_day
from paperboy.domain.highlight import highlight, snippet
from paperboy.domain.math_markup import cut_outside_math, math_html
from paperboy.domain.search_query import SearchQuery
from paperboy.web.urls import author_url

ANNOUNCE_LABELS = {
    "new": "new",
    "cross": "cross-list",
    "replace": "replaced",
    "replace-cross": "replaced cross-list",
    "submitted": "submitted",
}
LINK_LABELS = {"abs": "arXiv", "pdf": "PDF", "code": "Code", "project": "Project page", "doi": "DOI"}
SORT_LABELS = {"trending": "Trending", "newest": "Newest"}

# arXiv wraps abstracts at ~80 columns and starts a paragraph with an indented line or a blank one.
_PARAGRAPH_BREAK = re.compile(r"\n\s*\n|\n(?=[ \t])")
PREVIEW_LENGTH = 280


def author_line(authors: Sequence[str], shown: int = 3, limit: int = 5) -> str:
    """All names up to `limit`; beyond that the first `shown` and "et al. (N authors)"."""
    if len(authors) <= limit:
        return ", ".join(authors)
    return f"{', '.join(authors[:shown])} et al. ({len(authors)} authors)"


def author_links(authors: Sequence[str], shown: int = 3, limit: int = 5) -> Markup:
    """`author_line` with each name a link to its author page (web/urls.py `author_url`)."""
    names = authors if len(authors) <= limit else authors[:shown]
    # Escaped name by name and joined as plain text: Markup.format escapes through a Python
    # formatter, a third of a paper page's rendering with its ten similar papers' authors.
    links = ", ".join(f'<a href="{escape(author_url(name))}">{escape(name)}</a>' for name in names)
    if len(authors) > limit:
        links += f" et al. ({len(authors)} authors)"
    return Markup(links)  # noqa: S704 - every name and URL escaped above


def oneline(text: str) -> str:
    """Upstream titles and comments carry arXiv's line wrapping; a page shows them on one line."""
    return " ".join(text.split())  # several times faster than a regex on 100 abstracts a page


def is_web_url(value: object) -> bool:
    """Only http(s) URLs may become links: anything else (javascript:) stays text."""
    return isinstance(value, str) and value.lower().startswith(("https://", "http://"))


def paragraphs(text: str) -> list[str]:
    """The abstract's paragraphs, each re-flowed onto one line (LaTeX stays as written)."""
    parts = (oneline(part) for part in _PARAGRAPH_BREAK.split(text.strip()))
    return [part for part in parts if part]


def excerpt(text: str, length: int = PREVIEW_LENGTH) -> str:
    """The start of `text`, cut at a word boundary, with an ellipsis when cut."""
    return preview(text, length) or oneline(text)


def preview(text: str, length: int = PREVIEW_LENGTH) -> str | None:
    """The start of a long text, cut at a word boundary and ending in an ellipsis; None when short."""
    flat = oneline(text)
    if len(flat) <= length:
        return None
    cut = flat[:length].rsplit(" ", 1)[0]
    cut = flat[: cut_outside_math(flat, len(cut))] or cut  # never half a formula (unless all is one)
    return cut.rstrip(",;:. ") + "…"


def marked(text: str, query: SearchQuery) -> Markup:
    """A search result's title: the query's words in <mark>, TeX as MathML."""
    return Markup(highlight(text, query, math=True))  # noqa: S704 - highlight escapes the text


def marked_snippet(text: str, query: SearchQuery) -> Markup:
    """A search result's abstract: the part around the first match, marked, TeX as MathML."""
    return Markup(snippet(text, query, math=True))  # noqa: S704 - snippet escapes the text


def announce_label(announce_type: str | None) -> str:
    return ANNOUNCE_LABELS.get(announce_type or "", announce_type or "")


def link_label(kind: str) -> str:
    return LINK_LABELS.get(kind, kind)


def utc_time(value: datetime | None) -> str:
    if value is None:
        return ""
    return f"{format_short_day(value.date())}, {value:%H:%M} UTC"


def plural(count: int, singular: str, many: str | None = None) -> str:
    """3 papers, 1 paper: with thousands separated for readability."""
    word = singular if count == 1 else (many or singular + "s")
    return f"{count:,} {word}"


def figure(value: float) -> str:
    """A computed number (points, scores) as a reader reads it: whole numbers plainly, others to
    four significant digits, thousands separated."""
    if value == int(value) and abs(value) < 1e15:
        return f"{int(value):,}"
    if abs(value) >= 1000:
        return f"{value:,.1f}"
    return f"{value:.4g}"


def hours(value: float) -> str:
    """An age in hours, with days for long ones: 30 h (1.2 days)."""
    text = f"{figure(round(value, 1))} h"
    return f"{text} ({figure(round(value / 24, 1))} days)" if value >= 48 else text


FILTERS: dict[str, Callable[..., Any]] = {
    "day": format_day,
    "short_day": format_short_day,
    "utc_time": utc_time,
    "author_line": author_line,
    "author_links": author_links,
    "oneline": oneline,
    "paragraphs": paragraphs,
    "excerpt": excerpt,
    "preview": preview,
    "math": math_html,
    "marked": marked,
    "marked_snippet": marked_snippet,
    "announce_label": announce_label,
    "link_label": link_label,
    "plural": plural,
    "figure": figure,
    "hours": hours,
}

TESTS: dict[str, Callable[..., bool]] = {"web_url": is_web_url}
