""" "For you" pages: a period's papers ranked for the logged-in reader, each with its reason
(/for-you: the latest day; /for-you/week, /for-you/month: the latest week and month;
/for-you/date/…, /for-you/week/…, /for-you/month/… as the feed's URLs), the "why?" page of one
paper (/for-you/why/{id}), and the two settings forms: the blend with trending and the reset.

Every page is its reader's alone: never in the shared page cache (a logged-in request) and sent
`private, no-store`; anonymous readers are sent to log in and come back.
"""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from starlette.responses import Response

from paperboy.domain.arxiv_ids import InvalidArxivId, parse_arxiv_id
from paperboy.domain.calendar import PERIOD_KINDS, Period, PeriodKind, parse_period, period_containing
from paperboy.domain.trending import trending_params
from paperboy.domain.users import User
from paperboy.services.feed import FeedPageNotFound, latest_period
from paperboy.services.recommend import explain_recommendation, reset_recommendations, set_personal_share
from paperboy.services.recommend_page import for_you_page
from paperboy.services.vector_search import Vectors
from paperboy.web.auth import LOGGED_IN, CheckedViewer, local_path, require_user, viewer_of
from paperboy.web.context import app_context
from paperboy.web.errors import PageError
from paperboy.web.pages import FeedParams, FeedQuery, hidden_for
from paperboy.web.urls import FOR_YOU_PATH, for_you_url

router = APIRouter(default_response_class=HTMLResponse, include_in_schema=False)
_METHODS = ["GET", "HEAD"]
PRIVATE = {"Cache-Control": "private, no-store"}
_TAB_LABELS = {"day": "Day", "week": "Week", "month": "Month"}
BLEND_CHOICES = (0, 25, 50, 75, 100)
FEATURE_LABELS = {
    "classifier": "Like your library (a classifier on its meaning)",
    "words": "Words in common with your library",
    "nearest": "Closeness to the nearest paper in your library",
    "centroid": "Closeness to your library as a whole",
    "not_interested": "Unlike the papers you marked not interested",
    "authors": "Authors you follow or keep (once per paper of theirs you keep, once more if followed)",
    "searches": "Saved searches it matches",
    "categories": "Categories you follow",
}


@router.api_route(FOR_YOU_PATH, methods=_METHODS)
def for_you_latest(request: Request, query: FeedParams) -> Response:
    return _latest(request, "day", query)


@router.api_route(FOR_YOU_PATH + "/week", methods=_METHODS)
def for_you_latest_week(request: Request, query: FeedParams) -> Response:
    return _latest(request, "week", query)


@router.api_route(FOR_YOU_PATH + "/month", methods=_METHODS)
def for_you_latest_month(request: Request, query: FeedParams) -> Response:
    return _latest(request, "month", query)


@router.api_route(FOR_YOU_PATH + "/date/{day}", methods=_METHODS)
def for_you_day(request: Request, day: str, query: FeedParams) -> Response:
    return _period(request, "day", day, query)


@router.api_route(FOR_YOU_PATH + "/week/{week}", methods=_METHODS)
def for_you_week(request: Request, week: str, query: FeedParams) -> Response:
    return _period(request, "week", week, query)


@router.api_route(FOR_YOU_PATH + "/month/{month}", methods=_METHODS)
def for_you_month(request: Request, month: str, query: FeedParams) -> Response:
    return _period(request, "month", month, query)


@router.api_route(FOR_YOU_PATH + "/why/{arxiv_id:path}", methods=_METHODS)
def for_you_why(request: Request, arxiv_id: str) -> Response:
    """Every part of the paper's "For you" score for this reader, on its first listing day."""
    user = viewer_of(request).user
    if user is None:
        return _to_login(request)
    try:
        canonical = parse_arxiv_id(arxiv_id).base
    except InvalidArxivId as exc:
        raise PageError(404, "Not an arXiv id", str(exc)) from None
    ctx = app_context(request)
    why = explain_recommendation(
        ctx.engine, _index(request), user.id, canonical, trending=trending_params(ctx.settings)
    )
    if why is None:
        raise PageError(
            404, "Not in a listing", f"arXiv paper {canonical} is not in a listing of this catalogue."
        )
    context = {"why": why, "for_you_link": for_you_url(why.period), "feature_labels": FEATURE_LABELS}
    return ctx.templates.TemplateResponse(request, "for_you_why.html", context, headers=PRIVATE)


@router.post(FOR_YOU_PATH + "/blend", dependencies=LOGGED_IN)
def blend(
    request: Request,
    viewer: CheckedViewer,
    personal: Annotated[str, Form()] = "",
    next_path: Annotated[str, Form(alias="next")] = "",
) -> Response:
    """personal=0…100: the percent of the order that is the reader's own relevance."""
    user = require_user(viewer)
    if not (personal.isascii() and personal.isdigit() and len(personal) <= 3 and int(personal) <= 100):
        raise PageError(
            400, "Bad request", f"personal must be a whole number from 0 to 100, not {personal[:20]!r}"
        )
    set_personal_share(app_context(request).engine, user.id, int(personal))
    return RedirectResponse(_back(next_path), status_code=303)


@router.post(FOR_YOU_PATH + "/reset", dependencies=LOGGED_IN)
def reset(
    request: Request, viewer: CheckedViewer, next_path: Annotated[str, Form(alias="next")] = ""
) -> Response:
    """Forget what the reader's model learned (services/recommend.reset_recommendations)."""
    user = require_user(viewer)
    reset_recommendations(app_context(request).engine, user.id)
    return RedirectResponse(_back(next_path), status_code=303)


def _back(next_path: str) -> str:
    """The form's `next` when it is a page of this site, else /for-you."""
    return local_path(next_path) or FOR_YOU_PATH


def _latest(request: Request, kind: PeriodKind, query: FeedQuery) -> Response:
    user = viewer_of(request).user
    if user is None:
        return _to_login(request)
    period = latest_period(app_context(request).engine, kind)
    if period is None:
        raise PageError(404, "Nothing listed yet", "The catalogue has no listings yet.")
    return _render(request, user, period, query)


def _period(request: Request, kind: PeriodKind, key: str, query: FeedQuery) -> Response:
    user = viewer_of(request).user
    if user is None:
        return _to_login(request)
    try:
        period = parse_period(kind, key)
    except ValueError as exc:
        raise PageError(404, f"Not a {kind}", str(exc)) from None
    return _render(request, user, period, query)


def _render(request: Request, user: User, period: Period, query: FeedQuery) -> Response:
    ctx = app_context(request)
    try:
        page = for_you_page(
            ctx.engine,
            _index(request),
            user.id,
            period,
            category=query.category,
            page=query.page,
            page_size=ctx.settings.for_you_page_size,
            trending=trending_params(ctx.settings),
        )
    except FeedPageNotFound as exc:
        raise PageError(404, "No such page", str(exc)) from None
    feed = page.feed
    context = {
        "page": page,
        "feed": feed,
        "tabs": _tabs(feed.last_listed or period.start, period.kind, feed.category),
        "category_options": _options(feed.facet, feed.category),
        "blend_choices": BLEND_CHOICES,
        "here_path": for_you_url(period, category=feed.category, page=feed.page),
        "voted": {item.paper.arxiv_id for item in feed.items if item.community.voted},
        "saved": {item.paper.arxiv_id for item in feed.items if item.community.saved},
        "hidden": hidden_for(request, feed.items),  # not interested, and seen when they hide seen
    }
    return ctx.templates.TemplateResponse(request, "for_you.html", context, headers=PRIVATE)


def _tabs(moment: object, active: str, category: str | None) -> list[tuple[str, str, bool]]:
    return [
        (_TAB_LABELS[kind], for_you_url(period_containing(kind, moment), category=category), kind == active)  # type: ignore[arg-type]
        for kind in PERIOD_KINDS
    ]


def _options(facet: list[tuple[str, int]], category: str | None) -> list[tuple[str, int]]:
    options = list(facet)
    if category and all(name != category for name, _ in options):
        options.insert(0, (category, 0))
    return options


def _index(request: Request) -> Vectors:
    return app_context(request).searcher.meaning.vector_index()


def _to_login(request: Request) -> Response:
    here = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return RedirectResponse(f"/login?next={quote(here)}", status_code=303)
