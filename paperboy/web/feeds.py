"""Feeds and citation exports of lists: the trending day, week and month, and searches.

    /feeds/{day|week|month}.{rss|atom|json|bib|ris}          the latest day / week / month
    /feeds/{day|week|month}/{key}.{rss|atom|json|bib|ris}    a given one (2025-06-12, 2025-W24, 2025-06)
    /feeds/search.{rss|atom|json|bib|ris}?q=…&sort=date      a search (date, relevance or upvotes)

Period lists take `?category=` (and `sort`, `page` like the HTML pages): their items are the
HTML page's, in its order. Responses carry an ETag (web/conditional.py) and are not kept by the
page cache, which would answer 200 to a reader whose If-None-Match already names the bytes. A
period list's ETag is derived from the catalogue and community versions and the request, and
checked before anything is built (a 304 costs one small query), and the finished answer is kept
under it (web/answers.py) — except for a trending list of a period under way, whose order moves
with the clock: its tag is the hash of its bytes, and it is built every time. An RSS item is kept
per paper object and counts (web/paper_parts.py). Errors a reader can cause are
plain text with a 400 or 404.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import PlainTextResponse
from starlette.responses import Response

from paperboy.domain.calendar import PERIOD_KINDS, Period, PeriodKind, parse_period
from paperboy.domain.categories import is_arxiv_category
from paperboy.domain.citations import bibtex_entries, ris_records
from paperboy.domain.models import Paper
from paperboy.domain.trending import trending_params
from paperboy.services.feed import (
    DEFAULT_SORT,
    FeedPage,
    FeedPageNotFound,
    FeedRequestError,
    feed_for_period,
    latest_period,
    moves_with_clock,
    page_versions,
)
from paperboy.services.search import SearchRequestError
from paperboy.web.answers import known_answer, send_answer
from paperboy.web.conditional import derived_etag
from paperboy.web.context import app_context
from paperboy.web.feed_formats import (
    FORMAT_LABELS,
    MEDIA_TYPES,
    FeedEntry,
    FeedInfo,
    entry_for_paper,
    entry_updated,
    render_feed,
    rss_document,
    rss_item,
)
from paperboy.web.paper_parts import paper_parts
from paperboy.web.rate_limit import search_feed_refusal
from paperboy.web.urls import paper_url, period_url

CITATION_TYPES = {
    "bib": "application/x-bibtex; charset=utf-8",
    "ris": "application/x-research-info-systems; charset=utf-8",
}
SEARCH_SORTS = ("date", "relevance", "upvotes")
SEARCH_SIZE = 50
_METHODS = ["GET", "HEAD"]

router = APIRouter(include_in_schema=False)


class FeedError(Exception):
    def __init__(self, status_code: int, message: str) -> None:
        super().__init__(message)
        self.status_code = status_code


def feed_url(
    kind: PeriodKind,
    fmt: str,
    *,
    key: str | None = None,
    category: str | None = None,
    sort: str | None = None,
    page: int = 1,
) -> str:
    """/feeds/week.atom?category=cs.LG (the latest week) or /feeds/week/2025-W24.atom."""
    path = f"/feeds/{kind}/{key}.{fmt}" if key else f"/feeds/{kind}.{fmt}"
    params = {
        "category": category,
        "sort": None if sort == DEFAULT_SORT else sort,
        "page": page > 1 and str(page),
    }
    query = urlencode({name: value for name, value in params.items() if value})
    return f"{path}?{query}" if query else path


def search_feed_url(query: str, fmt: str, *, sort: str = "date") -> str:
    params = {"q": query, **({"sort": sort} if sort != "date" else {})}
    return f"/feeds/search.{fmt}?{urlencode(params)}"


def alternate_links(kind: PeriodKind, category: str | None) -> list[tuple[str, str, str]]:
    """(media type, title, href) of a period page's feeds: the latest period of its kind, which
    is what a reader subscribes to (the page's own period is the latest until it ends)."""
    scope = f" in {category}" if category else ""
    return [
        (
            MEDIA_TYPES[fmt],
            f"Trending papers{scope}, latest {kind} ({label})",
            feed_url(kind, fmt, category=category),
        )
        for fmt, label in FORMAT_LABELS.items()
    ]


def search_alternate_links(query: str) -> list[tuple[str, str, str]]:
    """A search page's feeds: its query's newest papers."""
    return [
        (MEDIA_TYPES[fmt], f"Search: {query} ({label})", search_feed_url(query, fmt))
        for fmt, label in FORMAT_LABELS.items()
    ]


@dataclass(frozen=True, slots=True)
class PeriodExports:
    feeds: list[tuple[str, str]]  # (label, href): the latest period of the kind, to subscribe to
    citations: list[tuple[str, str]]  # (label, href): this very page as BibTeX and RIS


def period_exports(
    period: Period, category: str | None, *, sort: str | None = None, page: int = 1
) -> PeriodExports:
    """The links a period page shows under its heading."""
    cite = {"bib": "BibTeX", "ris": "RIS"}
    return PeriodExports(
        feeds=[
            (label, feed_url(period.kind, fmt, category=category)) for fmt, label in FORMAT_LABELS.items()
        ],
        citations=[
            (label, feed_url(period.kind, fmt, key=period.key, category=category, sort=sort, page=page))
            for fmt, label in cite.items()
        ],
    )


@router.api_route("/feeds/search.{fmt}", methods=_METHODS)
def search_feed(request: Request, fmt: str, q: str = "", sort: str = "date") -> Response:
    """The newest (or most relevant, or most upvoted) papers matching a search."""
    refusal = search_feed_refusal(request)  # a search costs: a budget per address (web/rate_limit.py)
    return refusal or _answer(lambda: _search_response(request, fmt, q, sort))


@router.api_route("/feeds/{kind}.{fmt}", methods=_METHODS)
def latest_period_feed(request: Request, kind: str, fmt: str) -> Response:
    return _answer(lambda: _latest_response(request, kind, fmt))


@router.api_route("/feeds/{kind}/{key}.{fmt}", methods=_METHODS)
def period_feed(request: Request, kind: str, key: str, fmt: str) -> Response:
    return _answer(lambda: _period_response(request, _period(kind, key), fmt))


def _search_response(request: Request, fmt: str, q: str, sort: str) -> Response:
    _check_format(fmt)
    if not q.strip():
        raise FeedError(400, "q is missing: /feeds/search.rss?q=your+query")
    if sort not in SEARCH_SORTS:
        raise FeedError(400, f"sort must be one of {', '.join(SEARCH_SORTS)}, not {sort[:40]!r}")
    results = app_context(request).searcher.search(q, sort=sort, page_size=SEARCH_SIZE)
    papers = [_Listed(hit.paper, hit.community.upvotes) for hit in results.hits]
    home = "/search?" + urlencode({"q": q, **({"sort": sort} if sort != "relevance" else {})})
    info = _info(request, f"Search: {q}", f"Papers matching “{q}”, by {sort}", home)
    return _respond(request, fmt, info, papers)


def _latest_response(request: Request, kind: str, fmt: str) -> Response:
    period = latest_period(app_context(request).engine, _kind(kind))
    if period is None:
        raise FeedError(404, "the catalogue has no listings yet")
    return _period_response(request, period, fmt)


def _period(kind: str, key: str) -> Period:
    try:
        return parse_period(_kind(kind), key)
    except ValueError as exc:
        raise FeedError(404, str(exc)) from None


def _period_response(request: Request, period: Period, fmt: str) -> Response:
    _check_format(fmt)
    tag = _period_etag(request, period, fmt)
    if (known := known_answer(request, tag)) is not None:
        return known  # a 304, or the answer kept under this tag (web/answers.py)
    feed = _period_items(request, period)
    papers = [
        _Listed(item.paper, item.community.upvotes, item.listing.day if item.listing else None)
        for item in feed.items
    ]
    scope = f" in {feed.category}" if feed.category else ""
    title = f"{app_context(request).settings.site_name}: {period.label}{scope}"
    description = f"Papers listed on arXiv{scope}, {period.label}, {_order(feed.sort)}"
    home = period_url(period, category=feed.category, sort=feed.sort, page=feed.page)
    return _respond(request, fmt, _info(request, title, description, home), papers, etag=tag)


def _period_etag(request: Request, period: Period, fmt: str) -> str | None:
    """The ETag of a period's feed from the versions, the request and the settings it shows;
    None when its order moves with the clock (trending, the period not over)."""
    if moves_with_clock(period, request.query_params.get("sort") or DEFAULT_SORT):
        return None
    ctx = app_context(request)
    settings = ctx.settings
    catalogue, community = page_versions(ctx.engine)
    trending = repr(trending_params(settings))
    shown = (settings.public_url, settings.site_name, str(settings.page_size), trending)
    url = request.url.path + "?" + request.url.query
    return derived_etag("feed", catalogue, community, *shown, period.kind, period.key, fmt, url)


def _period_items(request: Request, period: Period) -> FeedPage:
    params = request.query_params
    category = params.get("category") or None
    if category is not None and not is_arxiv_category(category):
        raise FeedError(400, f"{category[:40]!r} is not an arXiv category, e.g. cs.LG or hep-th")
    ctx = app_context(request)
    return feed_for_period(
        ctx.engine,
        period,
        category=category,
        sort=params.get("sort") or DEFAULT_SORT,
        page=_page(params.get("page")),
        page_size=ctx.settings.page_size,
        trending=trending_params(ctx.settings),
    )


@dataclass(frozen=True, slots=True)
class _Listed:
    paper: Paper
    upvotes: int
    listed: date | None = None  # the listing day inside the period (period lists only)


def _respond(
    request: Request, fmt: str, info: FeedInfo, papers: Sequence[_Listed], *, etag: str | None = None
) -> Response:
    if fmt in CITATION_TYPES:
        citations: Callable[[list[Paper]], str] = bibtex_entries if fmt == "bib" else ris_records
        body = citations([item.paper for item in papers]).encode()
        return send_answer(request, etag, body, CITATION_TYPES[fmt])
    base = app_context(request).settings.public_url
    if fmt == "rss":
        return send_answer(request, etag, _rss(base, info, papers), MEDIA_TYPES[fmt])
    entries = [_entry(base, item) for item in papers]
    return send_answer(request, etag, render_feed(fmt, info, entries), MEDIA_TYPES[fmt])


def _rss(base: str, info: FeedInfo, papers: Sequence[_Listed]) -> bytes:
    """The RSS document, each item kept per paper object, counts, listing day and address."""
    items = [_rss_item(base, item) for item in papers]
    updated = max((entry_updated(item.paper, item.listed) for item in papers), default=None)
    return rss_document(info, updated, items)


def _rss_item(base: str, item: _Listed) -> bytes:
    key = ("rss", base, item.upvotes, item.listed)
    return paper_parts.get(item.paper, key, lambda: rss_item(_entry(base, item)).encode())


def _entry(base: str, item: _Listed) -> FeedEntry:
    url = base + paper_url(item.paper.arxiv_id)
    return entry_for_paper(item.paper, url, upvotes=item.upvotes, listed=item.listed)


def _info(request: Request, title: str, description: str, home_path: str) -> FeedInfo:
    base = app_context(request).settings.public_url
    query = f"?{request.url.query}" if request.url.query else ""
    return FeedInfo(title, description, base + home_path, base + request.url.path + query)


def _order(sort: str) -> str:
    return "trending first" if sort == DEFAULT_SORT else f"sorted by {sort}"


def _kind(text: str) -> PeriodKind:
    for kind in PERIOD_KINDS:
        if text == kind:
            return kind
    raise FeedError(404, f"no feed {text[:40]!r}: feeds are day, week, month and search")


def _check_format(fmt: str) -> None:
    if fmt not in MEDIA_TYPES and fmt not in CITATION_TYPES:
        formats = ", ".join([*MEDIA_TYPES, *CITATION_TYPES])
        raise FeedError(404, f"no format {fmt[:20]!r}: choose one of {formats}")


def _page(text: str | None) -> int:
    if not text:
        return 1
    if not (text.isascii() and text.isdigit() and len(text) <= 9):
        raise FeedError(400, f"page must be a whole number from 1, not {text[:20]!r}")
    return int(text)


def _answer(build: Callable[[], Response]) -> Response:
    """The response, or the reader's error as one line of plain text (feed readers show no
    HTML pages)."""
    try:
        return build()
    except FeedError as exc:
        return _plain(exc.status_code, str(exc))
    except (FeedRequestError, SearchRequestError) as exc:
        return _plain(400, str(exc))
    except FeedPageNotFound as exc:
        return _plain(404, str(exc))


def _plain(status_code: int, message: str) -> Response:
    return PlainTextResponse(message + "\n", status_code=status_code, headers={"Cache-Control": "no-store"})
