"""Paths of paperboy's pages, built in one place so that templates and redirects agree; the
paths services link to as well (a paper's page, the token pages) are domain/site_urls.py's.

Paths are relative to the site root (no host), so pages work behind any proxy.
"""

from __future__ import annotations

from datetime import date
from functools import lru_cache
from urllib.parse import quote, urlencode

from paperboy.domain.calendar import Period, day_period
from paperboy.domain.site_urls import paper_url
from paperboy.services.feed import DEFAULT_SORT
from paperboy.services.recommend_page import FOR_YOU

TOP_PATH = "/papers/top"
FOR_YOU_PATH = "/for-you"
ABOUT_TRENDING_PATH = "/about/trending"

__all__ = [
    "ABOUT_TRENDING_PATH",
    "FOR_YOU_PATH",
    "TOP_PATH",
    "author_url",
    "collection_url",
    "day_url",
    "for_you_url",
    "for_you_why_url",
    "paper_url",
    "period_url",
    "top_url",
    "why_url",
]


def author_url(name: str, page: int = 1) -> str:
    """/authors/Ada%20Lovelace: the author page of a name as a paper spells it (every character
    quoted, a slash too; the page matches the normalised name)."""
    path = "/authors/" + quote(name.strip(), safe="")
    return path if page == 1 else f"{path}?page={page}"


@lru_cache(maxsize=4096)  # a feed page links each category chip: the same few URLs many times
def period_url(period: Period, *, category: str | None = None, sort: str | None = None, page: int = 1) -> str:
    """/papers/week/2025-W24?category=cs.CV&page=2; defaults are left out to keep links canonical.
    The "for-you" sort is the period's "For you" page."""
    if sort == FOR_YOU:
        return for_you_url(period, category=category, page=page)
    params: dict[str, str] = {}
    if category:
        params["category"] = category
    if sort and sort != DEFAULT_SORT:
        params["sort"] = sort
    if page > 1:
        params["page"] = str(page)
    path = f"/papers/{'date' if period.kind == 'day' else period.kind}/{period.key}"
    return f"{path}?{urlencode(params)}" if params else path


def day_url(day: date) -> str:
    return period_url(day_period(day))


def why_url(arxiv_id: str) -> str:
    """The "why is this here" breakdown of a paper's trending score."""
    return paper_url(arxiv_id) + "/why"


def top_url(*, category: str | None = None, page: int = 1) -> str:
    params: dict[str, str] = {}
    if category:
        params["category"] = category
    if page > 1:
        params["page"] = str(page)
    return f"{TOP_PATH}?{urlencode(params)}" if params else TOP_PATH


def collection_url(collection_id: int, slug: str) -> str:
    """A collection's page, /collections/12-graph-nets: the id finds it, the slug is for people
    (an old or missing slug is redirected to this one)."""
    return f"/collections/{collection_id}-{slug}"


def for_you_url(period: Period | None = None, *, category: str | None = None, page: int = 1) -> str:
    """/for-you/week/2025-W24?category=cs.CL: a period's "For you" (None: the latest day)."""
    params: dict[str, str] = {}
    if category:
        params["category"] = category
    if page > 1:
        params["page"] = str(page)
    path = FOR_YOU_PATH
    if period is not None:
        path = f"{FOR_YOU_PATH}/{'date' if period.kind == 'day' else period.kind}/{period.key}"
    return f"{path}?{urlencode(params)}" if params else path


def for_you_why_url(arxiv_id: str) -> str:
    """Every part of a paper's "For you" score, for the reader."""
    return f"{FOR_YOU_PATH}/why/{arxiv_id}"
