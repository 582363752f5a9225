"""The JSON API's reads: papers, incremental sync, listings, comments (docs/api.md).

Reads are public; with a token or a session they also say what that account did (`voted`).
Lists and papers carry a strong ETag and answer 304 to a matching If-None-Match
(web/conditional.py). Handlers are thin: parse, call one service, shape (web/api/models.py).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from starlette.responses import Response

from paperboy.domain.arxiv_ids import InvalidArxivId, parse_arxiv_id
from paperboy.domain.calendar import Period
from paperboy.domain.trending import trending_params
from paperboy.services.changes import CURSOR_PATTERN, InvalidCursor, changed_papers
from paperboy.services.comments import comment_thread
from paperboy.services.feed import (
    DEFAULT_SORT,
    SORTS,
    FeedPage,
    FeedPageNotFound,
    FeedRequestError,
    feed_for_period,
    latest_feed,
    paper_view,
)
from paperboy.services.hydrate import PaperView
from paperboy.web.api.errors import API_ERRORS, ApiError, invalid
from paperboy.web.api.models import CommentList, ListingPage, PaperList, PaperOut
from paperboy.web.api.params import (
    PERIOD_SCHEMA,
    ArxivId,
    choice_schema,
    integer_schema,
    one_of,
    pattern_schema,
    period,
    text,
    whole_number,
)
from paperboy.web.api.shapes import comment_body, iso, paper_body
from paperboy.web.auth import viewer_id, viewer_of
from paperboy.web.conditional import conditional_json
from paperboy.web.context import app_context

router = APIRouter(prefix="/api/v1", tags=["papers"], responses=API_ERRORS)

MAX_LIMIT = 100
DEFAULT_LIMIT = 50
MAX_PAGE = 10_000
Limit = Annotated[
    str | None,
    integer_schema(1, MAX_LIMIT),
    Query(description=f"Items per answer, 1 to {MAX_LIMIT}."),
]


@router.get("/papers", response_model=PaperList, summary="Papers changed since a cursor")
def list_papers(
    request: Request,
    since: Annotated[
        str | None,
        pattern_schema(CURSOR_PATTERN),
        Query(description="A next_cursor from an earlier answer."),
    ] = None,
    limit: Limit = None,
) -> Response:
    """Every paper, in the order paperboy last changed them (changed_at, then id): pass each
    answer's `next_cursor` back as `since` to receive only what changed after it."""
    size = whole_number("limit", limit, default=DEFAULT_LIMIT, low=1, high=MAX_LIMIT)
    try:
        found = changed_papers(app_context(request).engine, since, size, viewer_id(request))
    except InvalidCursor as exc:
        raise invalid("since", str(exc)) from None
    public_url = app_context(request).settings.public_url
    body = [
        {**paper_body(item.paper, item.community, public_url), "changed_at": iso(item.changed_at)}
        for item in found.papers
    ]
    return conditional_json(request, {"papers": body, "next_cursor": found.next_cursor, "limit": size})


@router.get("/papers/{arxiv_id:path}/comments", response_model=CommentList, summary="A paper's discussion")
def paper_comments(request: Request, arxiv_id: ArxivId) -> Response:
    """The thread as a tree, replies inside their parent; deleted comments with replies are placeholders."""
    view = _paper(request, arxiv_id)
    nodes = comment_thread(app_context(request).engine, view.paper.id, viewer_of(request).user)
    body = {"arxiv_id": view.paper.arxiv_id, "comments": [comment_body(node) for node in nodes]}
    return conditional_json(request, body)


@router.get("/papers/{arxiv_id:path}", response_model=PaperOut, summary="One paper")
def get_paper(request: Request, arxiv_id: ArxivId) -> Response:
    """A paper by arXiv id (any spelling: 2506.12229, arXiv:2506.12229v2, hep-th/9901001, its URL)."""
    view = _paper(request, arxiv_id)
    return conditional_json(
        request, paper_body(view.paper, view.community, app_context(request).settings.public_url)
    )


@router.get("/listings", response_model=ListingPage, summary="Papers listed in a day, week or month")
def listings(
    request: Request,
    period: Annotated[
        str | None,
        PERIOD_SCHEMA,
        Query(description="2025-06-12, 2025-W24 or 2025-06; default: the latest listing day."),
    ] = None,
    category: Annotated[str | None, text("An arXiv category, e.g. cs.CL or cs.", max_length=32)] = None,
    sort: Annotated[
        str | None, choice_schema(SORTS), Query(description=f"{', '.join(SORTS)}; default {DEFAULT_SORT}.")
    ] = None,
    page: Annotated[str | None, integer_schema(1, MAX_PAGE), Query(description="Page, from 1.")] = None,
    limit: Limit = None,
) -> Response:
    """The papers arXiv listed in the period, trending first by default, one page at a time."""
    ctx = app_context(request)
    reader, trending = viewer_id(request), trending_params(ctx.settings)
    order = one_of("sort", sort, SORTS, default=DEFAULT_SORT)
    number = whole_number("page", page, default=1, low=1, high=MAX_PAGE)
    size = whole_number("limit", limit, default=DEFAULT_LIMIT, low=1, high=MAX_LIMIT)
    listed = period_of(period)
    try:
        if listed is None:
            feed = latest_feed(
                ctx.engine,
                category=category,
                sort=order,
                page=number,
                page_size=size,
                viewer_id=reader,
                trending=trending,
            )
        else:
            feed = feed_for_period(
                ctx.engine,
                listed,
                category=category,
                sort=order,
                page=number,
                page_size=size,
                viewer_id=reader,
                trending=trending,
            )
    except FeedRequestError as exc:
        raise invalid("sort" if "sort" in str(exc) else "page", str(exc)) from None
    except FeedPageNotFound as exc:
        raise ApiError(404, "not_found", str(exc), "page") from None
    if feed is None:
        raise ApiError(404, "not_found", "The catalogue has no listings yet.")
    return conditional_json(request, _listing_body(feed, size, ctx.settings.public_url))


def _listing_body(feed: FeedPage, limit: int, public_url: str) -> dict[str, object]:
    items = [
        {
            "paper": paper_body(item.paper, item.community, public_url),
            "listed_on": item.listing.day.isoformat() if item.listing else None,
            "announce_type": item.listing.announce_type if item.listing else None,
            "score": round(item.score, 6) if item.score is not None else None,
        }
        for item in feed.items
    ]
    period = feed.period
    return {
        "period": period.key,
        "kind": period.kind,
        "start": period.start.isoformat(),
        "end": period.end.isoformat(),
        "category": feed.category,
        "sort": feed.sort,
        "page": feed.page,
        "limit": limit,
        "total": feed.total,
        "pages": feed.pages,
        "previous_period": feed.prev_period.key if feed.prev_period else None,
        "next_period": feed.next_period.key if feed.next_period else None,
        "notice": feed.notice,
        "items": items,
    }


def period_of(text: str | None) -> Period | None:
    return period("period", text) if text is not None else None


def _paper(request: Request, arxiv_id: str) -> PaperView:
    try:
        canonical = parse_arxiv_id(arxiv_id).base
    except InvalidArxivId as exc:
        raise ApiError(404, "not_found", str(exc)) from None
    view = paper_view(app_context(request).engine, canonical, viewer_id=viewer_id(request))
    if view is None:
        raise ApiError(404, "not_found", f"arXiv paper {canonical} is not in this catalogue.")
    return view
