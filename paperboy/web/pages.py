"""HTML pages: the daily feed (latest day, day, week, month) and paper pages.

Handlers are thin: parse the URL, call one service function, render a template.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from starlette.responses import Response

from paperboy.domain.arxiv_ids import InvalidArxivId, abs_url, parse_arxiv_id
from paperboy.domain.calendar import PERIOD_KINDS, PeriodKind, parse_period, period_containing
from paperboy.services.feed import (
    DEFAULT_SORT,
    FeedPage,
    FeedPageNotFound,
    FeedRequestError,
    catalogue_status,
    feed_for_period,
    latest_feed,
    paper_detail,
)
from paperboy.web.context import app_context
from paperboy.web.errors import PageError
from paperboy.web.urls import paper_url, period_url

# HTML pages stay out of the OpenAPI schema, which documents the JSON API. HEAD is answered
# too: uptime monitors and link checkers use it.
router = APIRouter(default_response_class=HTMLResponse, include_in_schema=False)
_METHODS = ["GET", "HEAD"]
_TAB_LABELS = {"day": "Day", "week": "Week", "month": "Month"}


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
    ctx = app_context(request)
    with _feed_errors():
        feed = latest_feed(
            ctx.engine,
            category=query.category,
            sort=query.sort,
            page=query.page,
            page_size=ctx.settings.page_size,
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


@router.api_route("/papers/{arxiv_id:path}", methods=_METHODS)
def paper_page(request: Request, arxiv_id: str) -> Response:
    """/papers/2506.12229 and old-style /papers/hep-th/9901001; other spellings redirect."""
    try:
        parsed = parse_arxiv_id(arxiv_id)
    except InvalidArxivId as exc:
        raise PageError(404, "Not an arXiv id", str(exc)) from None
    if arxiv_id != parsed.base:  # versioned (2506.12229v2), arXiv: prefix, trailing slash
        return RedirectResponse(paper_url(parsed.base), status_code=301)
    paper = paper_detail(app_context(request).engine, parsed.base)
    if paper is None:
        message = f"arXiv paper {parsed.base} is not in this catalogue."
        raise PageError(
            404, "Paper not in this catalogue", message, [("See it on arXiv", abs_url(parsed.base))]
        )
    request.state.page_cacheable = True
    # The header's Day / Week / Month lead to the feeds around the paper's first listing.
    tabs = _tabs_around(paper.first_listed) if paper.first_listed else []
    context = {"paper": paper, "canonical": paper_url(paper.arxiv_id), "tabs": tabs}
    return app_context(request).templates.TemplateResponse(request, "paper.html", context)


def _period_page(request: Request, kind: PeriodKind, key: str, query: FeedQuery) -> Response:
    try:
        period = parse_period(kind, key)
    except ValueError as exc:
        raise PageError(404, f"Not a {kind}", str(exc)) from None
    ctx = app_context(request)
    with _feed_errors():
        feed = feed_for_period(
            ctx.engine,
            period,
            category=query.category,
            sort=query.sort,
            page=query.page,
            page_size=ctx.settings.page_size,
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
    }
    return app_context(request).templates.TemplateResponse(request, "feed.html", context)


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
