"""HTML pages: the daily feed (latest day, day, week, month), paper pages, the all-time top list
and the pages that explain trending.

Handlers are thin: parse the URL, call one service function, render a template.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from starlette.responses import Response

from paperboy.config import ENV_PREFIX, TRENDING_GRAVITY
from paperboy.domain.arxiv_ids import ArxivId, InvalidArxivId, abs_url, parse_arxiv_id
from paperboy.domain.calendar import PERIOD_KINDS, PeriodKind, parse_period, period_containing
from paperboy.domain.trending import Signals, TrendingParams, score, trending_params
from paperboy.services.collections import reader_keeping
from paperboy.services.feed import (
    DEFAULT_SORT,
    FeedItem,
    FeedPage,
    FeedPageNotFound,
    FeedRequestError,
    catalogue_status,
    feed_for_period,
    latest_feed,
)
from paperboy.services.paper_page import read_paper_page
from paperboy.services.recommend_page import FOR_YOU
from paperboy.services.search import SearchRequestError
from paperboy.services.seen import record_opened
from paperboy.services.trending import explain_paper, top_papers
from paperboy.web.auth import viewer_id, viewer_of
from paperboy.web.context import app_context
from paperboy.web.errors import PageError
from paperboy.web.feeds import alternate_links, period_exports
from paperboy.web.paper_exports import markdown_answer, prefers_markdown
from paperboy.web.regions import spliced_regions
from paperboy.web.similar import SIMILAR_LABELS, similar_section, similar_sort
from paperboy.web.urls import (
    ABOUT_TRENDING_PATH,
    TOP_PATH,
    for_you_url,
    paper_url,
    period_url,
    top_url,
    why_url,
)

# HTML pages stay out of the OpenAPI schema, which documents the JSON API. HEAD is answered
# too: uptime monitors and link checkers use it.
router = APIRouter(default_response_class=HTMLResponse, include_in_schema=False)
_METHODS = ["GET", "HEAD"]
_TAB_LABELS = {"day": "Day", "week": "Week", "month": "Month"}
# ?notice=… on a paper page: where the submit form sends a member afterwards.
PAPER_NOTICES = {
    "submitted": "Thanks — your submission is on today's feed.",
    "already-on-feed": "This paper is already on a feed — here it is; upvote it instead.",
}
# The ages the about page shows a worked example for.
EXAMPLE_AGES_HOURS = (1, 6, 24, 72, 168)


@dataclass(frozen=True, slots=True)
class FeedQuery:
    category: str | None
    sort: str
    page: int


def feed_query(category: str | None = None, sort: str | None = None, page: str | None = None) -> FeedQuery:
    """The feed's query string; parsed here so that a bad value gets a page that says why."""
    return FeedQuery(category=category or None, sort=sort or DEFAULT_SORT, page=_page_number(page))


def _page_number(text: str | None) -> int:
    if not text:
        return 1
    if not (text.isascii() and text.isdigit()):
        raise PageError(400, "Bad page number", f"page must be a whole number from 1, not {text[:20]!r}")
    if len(text) > 9:  # no period has a billion pages; spare the database the arithmetic
        raise PageError(404, "No such page", f"page {text[:20]}… does not exist")
    return int(text)


FeedParams = Annotated[FeedQuery, Depends(feed_query)]


@router.api_route("/", methods=_METHODS)
def home(request: Request, query: FeedParams) -> Response:
    """The latest listing day, rendered in place (no redirect) so that / is always fresh."""
    if query.sort == FOR_YOU:  # the feed's "For you" sort is the reader's own page
        return RedirectResponse(for_you_url(category=query.category, page=query.page), status_code=302)
    ctx = app_context(request)
    with _feed_errors():
        feed = latest_feed(
            ctx.engine,
            category=query.category,
            sort=query.sort,
            page=query.page,
            page_size=ctx.settings.page_size,
            viewer_id=viewer_id(request),
            trending=_trending(request),
        )
    if feed is None:
        return _welcome(request)
    return _render_feed(request, feed)


@router.api_route("/papers/date/{day}", methods=_METHODS)
def day_page(request: Request, day: str, query: FeedParams) -> Response:
    return _period_page(request, "day", day, query)


@router.api_route("/papers/week/{week}", methods=_METHODS)
def week_page(request: Request, week: str, query: FeedParams) -> Response:
    return _period_page(request, "week", week, query)


@router.api_route("/papers/month/{month}", methods=_METHODS)
def month_page(request: Request, month: str, query: FeedParams) -> Response:
    return _period_page(request, "month", month, query)


@router.api_route(TOP_PATH, methods=_METHODS)
def top_page(request: Request, query: FeedParams) -> Response:
    """Every paper with a community or Hugging Face signal, by points: age does not count here."""
    ctx = app_context(request)
    with _feed_errors():
        top = top_papers(
            ctx.engine,
            category=query.category,
            page=query.page,
            page_size=ctx.settings.page_size,
            viewer_id=viewer_id(request),
            trending=_trending(request),
        )
    request.state.page_cacheable = True
    context = {"top": top, "canonical": top_url(category=top.category, page=top.page), "top_url": top_url}
    return ctx.templates.TemplateResponse(request, "top.html", context)


@router.api_route(ABOUT_TRENDING_PATH, methods=_METHODS)
def about_trending(request: Request) -> Response:
    """The published formula, with this site's configured values."""
    params = _trending(request)
    request.state.page_cacheable = True
    context = {
        "params": params,
        "calibrated_gravity": TRENDING_GRAVITY,
        "env": {name: ENV_PREFIX + "TRENDING_" + name.upper() for name in _PARAM_SETTINGS},
        "examples": _examples(params),
    }
    return app_context(request).templates.TemplateResponse(request, "about_trending.html", context)


_PARAM_SETTINGS = ("gravity", "offset_hours", "comment_weight", "hf_weight", "stars_weight")


def _examples(params: TrendingParams) -> list[tuple[int, float, float]]:
    """(age in hours, divisor, score) of a paper with 10 upvotes, at a few ages."""
    reference = datetime(2025, 1, 8, tzinfo=UTC)  # any moment: only the differences count
    rows = []
    for hours in EXAMPLE_AGES_HOURS:
        signals = Signals(upvotes=10, appeared_at=reference - timedelta(hours=hours))
        breakdown = score(signals, params, reference)
        rows.append((hours, breakdown.divisor, breakdown.score))
    return rows


@router.api_route("/papers/{arxiv_id:path}/why", methods=_METHODS)
def why_page(request: Request, arxiv_id: str) -> Response:
    """Every number behind a paper's trending score, and its rank on its first day and week."""
    parsed = _canonical_id(arxiv_id)
    if arxiv_id != parsed.base:
        return RedirectResponse(why_url(parsed.base), status_code=301)
    explanation = explain_paper(app_context(request).engine, parsed.base, trending=_trending(request))
    if explanation is None:
        raise _not_in_catalogue(parsed.base)
    request.state.page_cacheable = True
    context = {"why": explanation, "paper": explanation.paper, "canonical": why_url(parsed.base)}
    return app_context(request).templates.TemplateResponse(request, "why.html", context)


@router.api_route("/papers/{arxiv_id:path}", methods=_METHODS)
def paper_page(
    request: Request, arxiv_id: str, notice: str | None = None, similar: str | None = None
) -> Response:
    """/papers/2506.12229 and old-style /papers/hep-th/9901001; other spellings redirect.
    `similar` orders the similar papers: similarity (default), date or upvotes.
    `Accept: text/markdown` gets the paper as Markdown (web/paper_exports.py)."""
    if prefers_markdown(request.headers.get("accept", "")):
        return markdown_answer(request, arxiv_id)
    parsed = _canonical_id(arxiv_id)
    if arxiv_id != parsed.base:  # versioned (2506.12229v2), arXiv: prefix, trailing slash
        return RedirectResponse(paper_url(parsed.base), status_code=301)
    try:
        similar_order = similar_sort(similar)
    except SearchRequestError as exc:
        raise PageError(400, "Bad request", str(exc)) from None
    ctx = app_context(request)
    reader = viewer_of(request).user
    page = read_paper_page(
        ctx.engine,
        parsed.base,
        reader,
        lambda conn, paper, version: similar_section(
            ctx.searcher, paper, similar_order, viewer_id(request), conn, version
        ),
    )
    if page is None:
        raise _not_in_catalogue(parsed.base)
    if reader is not None and not page.community.seen:  # the first time they open it: seen now
        record_opened(ctx.engine, reader, page.paper.id)
    # Cached per URL (?similar=… is another page); the similar papers can lag new embeddings
    # by page_cache_seconds, like the community counts.
    request.state.page_cacheable = True
    paper = page.paper
    # The header's Day / Week / Month lead to the feeds around the paper's first listing.
    tabs = _tabs_around(paper.first_listed) if paper.first_listed else []
    context = {
        "paper": paper,
        "community": page.community,
        "thread": page.thread,
        "canonical": paper_url(paper.arxiv_id),
        "tabs": tabs,
        "notice": PAPER_NOTICES.get(notice or ""),
        "similar": page.similar,
        "similar_sort": similar_order,
        "similar_unavailable": page.similar_unavailable,
        "similar_sorts": list(SIMILAR_LABELS.items()),
        # The reader's collections, note and read mark (one query); never cached: a logged-in page.
        "keeping": reader_keeping(ctx.engine, reader, paper.id) if reader else None,
    }
    return ctx.templates.TemplateResponse(request, "paper.html", context, headers={"Vary": "Accept"})


def _canonical_id(arxiv_id: str) -> ArxivId:
    try:
        return parse_arxiv_id(arxiv_id)
    except InvalidArxivId as exc:
        raise PageError(404, "Not an arXiv id", str(exc)) from None


def _not_in_catalogue(arxiv_id: str) -> PageError:
    message = f"arXiv paper {arxiv_id} is not in this catalogue."
    return PageError(404, "Paper not in this catalogue", message, [("See it on arXiv", abs_url(arxiv_id))])


def _trending(request: Request) -> TrendingParams:
    return trending_params(app_context(request).settings)


def _period_page(request: Request, kind: PeriodKind, key: str, query: FeedQuery) -> Response:
    try:
        period = parse_period(kind, key)
    except ValueError as exc:
        raise PageError(404, f"Not a {kind}", str(exc)) from None
    if query.sort == FOR_YOU:
        return RedirectResponse(
            for_you_url(period, category=query.category, page=query.page), status_code=302
        )
    ctx = app_context(request)
    with _feed_errors():
        feed = feed_for_period(
            ctx.engine,
            period,
            category=query.category,
            sort=query.sort,
            page=query.page,
            page_size=ctx.settings.page_size,
            viewer_id=viewer_id(request),
            trending=_trending(request),
        )
    return _render_feed(request, feed)


@contextmanager
def _feed_errors() -> Iterator[None]:
    """Turn the feed service's request errors into error pages that say why."""
    try:
        yield
    except FeedRequestError as exc:
        raise PageError(400, "Bad request", str(exc)) from None
    except FeedPageNotFound as exc:
        raise PageError(404, "No such page", str(exc)) from None


def _render_feed(request: Request, feed: FeedPage) -> Response:
    request.state.page_cacheable = True
    context = {
        "feed": feed,
        "tabs": _tabs(feed),
        "canonical": period_url(feed.period, category=feed.category, sort=feed.sort, page=feed.page),
        "category_options": _category_options(feed),
        "feed_alternates": alternate_links(feed.period.kind, feed.category),
        "feed_exports": period_exports(feed.period, feed.category, sort=feed.sort, page=feed.page),
        "voted": {item.paper.arxiv_id for item in feed.items if item.community.voted},
        "saved": {item.paper.arxiv_id for item in feed.items if item.community.saved},
        "hidden": hidden_for(request, feed.items),
        "hide_seen": {"listing"} if _hides_seen(request) else set(),
    }
    with spliced_regions() as splice:
        return splice(app_context(request).templates.TemplateResponse(request, "feed.html", context))


def _hides_seen(request: Request) -> bool:
    user = viewer_of(request).user
    return user is not None and user.hide_seen


def hidden_for(request: Request, items: Sequence[FeedItem]) -> set[str]:
    """The papers this reader does not want on the page: marked not interested, and seen ones
    when they hide seen papers (services/seen.py)."""
    hide_seen = _hides_seen(request)
    return {
        item.paper.arxiv_id
        for item in items
        if item.community.not_interested or (hide_seen and item.community.seen)
    }


def _tabs(feed: FeedPage) -> list[tuple[str, str, bool]]:
    """Day / Week / Month links around the same moment: the period's last listing day."""
    moment = feed.last_listed or feed.period.start
    return _tabs_around(moment, feed.period.kind, category=feed.category, sort=feed.sort)


def _tabs_around(
    moment: date, active: str | None = None, *, category: str | None = None, sort: str | None = None
) -> list[tuple[str, str, bool]]:
    return [
        (
            _TAB_LABELS[kind],
            period_url(period_containing(kind, moment), category=category, sort=sort),
            kind == active,
        )
        for kind in PERIOD_KINDS
    ]


def _category_options(feed: FeedPage) -> list[tuple[str, int]]:
    """The facet, plus the filtered category when the period has none of it, so the form shows it."""
    options = list(feed.facet)
    if feed.category and all(name != feed.category for name, _ in options):
        options.insert(0, (feed.category, 0))
    return options


def _welcome(request: Request) -> Response:
    """An empty catalogue: say what the first sync is doing, or how to import papers."""
    status = catalogue_status(app_context(request).engine)
    context = {"status": status, "refresh": status.sync.state == "running"}
    return app_context(request).templates.TemplateResponse(request, "welcome.html", context)
