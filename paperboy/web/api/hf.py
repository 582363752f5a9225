"""Hugging Face's paper endpoints, with huggingface.co's parameters and JSON field names, so that
its clients (huggingface_hub's `HfApi(endpoint=...)`, scripts written for huggingface.co) work
against this site unchanged:

- `GET /api/daily_papers?p=&limit=&date=|week=|month=&submitter=&sort=`: a feed page; the next
  page's URL in a `Link: <...>; rel="next"` header when there is one.
- `GET /api/papers/{arxiv_id}`: one paper (any spelling of its id; 404 when unknown).
- `GET /api/papers?cursor=&limit=`: the whole catalogue in the order papers were added, the next
  page's URL in a `Link: <...>; rel="next"` header as huggingface.co pages its lists.

(`/api/papers/search` is in web/api/search.py.) Every answer carries a strong ETag and a 304
answers a matching If-None-Match. Parameter errors are 422 `{"error": "<message>", "code",
"parameter"}` with the message in X-Error-Message (web/errors.py). A token that is not this
site's is ignored here (web/auth.py): huggingface_hub sends its own to any endpoint.
docs/api-huggingface.md describes every field.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request
from starlette.responses import Response

from paperboy.domain.arxiv_ids import InvalidArxivId, parse_arxiv_id
from paperboy.domain.calendar import Period, parse_day, parse_month, parse_week
from paperboy.domain.trending import trending_params
from paperboy.services.catalogue import catalogue_page, submitted_papers
from paperboy.services.feed import FeedItem, FeedPageNotFound, feed_for_period, latest_feed, paper_view
from paperboy.web.conditional import conditional_json
from paperboy.web.context import app_context
from paperboy.web.errors import HF_API_ERRORS, ApiError
from paperboy.web.api.shapes import HfDailyPaper, HfPaper, hf_daily_item, hf_paper

router = APIRouter(prefix="/api", tags=["huggingface"], responses=HF_API_ERRORS)

DEFAULT_LIMIT = 50  # huggingface_hub's documented default
MAX_LIMIT = 100
SORTS = {"publishedAt": "newest", "trending": "trending"}  # huggingface.co's name: the feed's
_MAX_PAGE = 10**6
_PERIODS = (("date", parse_day), ("week", parse_week), ("month", parse_month))

_LIMIT = Annotated[
    str | None, Query(description=f"Papers per page, 1 to {MAX_LIMIT} (default {DEFAULT_LIMIT}).")
]


@dataclass(frozen=True, slots=True)
class DailyQuery:
    period: Period | None  # None: the latest listing day
    submitter: str | None
    sort: str  # the feed's sort: newest or trending
    page: int  # from 1
    limit: int


@router.get(
    "/daily_papers",
    summary="Daily papers (Hugging Face's shape)",
    response_model=list[HfDailyPaper],
)
def daily_papers(
    request: Request,
    p: Annotated[str | None, Query(description="Page, from 0.")] = None,
    limit: _LIMIT = None,
    date: Annotated[str | None, Query(description="A listing day, YYYY-MM-DD.")] = None,
    week: Annotated[str | None, Query(description="An ISO week, YYYY-Www.")] = None,
    month: Annotated[str | None, Query(description="A month, YYYY-MM.")] = None,
    submitter: Annotated[str | None, Query(description="Only papers this member submitted.")] = None,
    sort: Annotated[str | None, Query(description="publishedAt (default) or trending.")] = None,
) -> Response:
    """The papers listed on a day, week or month (default: the latest listing day), newest first
    or trending, in pages of `limit`; with `submitter`, the papers that member submitted (to
    that period when one is given), newest submission first. Past the last page: `[]`."""
    query = daily_query(p, limit, {"date": date, "week": week, "month": month}, submitter, sort)
    items, total = _daily_items(request, query)
    headers = {}
    if query.page * query.limit < total:
        headers["Link"] = f'<{_next_daily_url(request, query.page)}>; rel="next"'
    return conditional_json(request, [hf_daily_item(item) for item in items], headers=headers)


@router.get(
    "/papers", summary="Every paper, paged by a cursor (Hugging Face's shape)", response_model=list[HfPaper]
)
def papers(
    request: Request,
    cursor: Annotated[str | None, Query(description="From the previous page's Link header.")] = None,
    limit: _LIMIT = None,
) -> Response:
    """The catalogue in the order papers were added. When there is more, the
    `Link: <...>; rel="next"` header holds the next page's URL."""
    after = decode_cursor(cursor)
    size = whole(limit, "limit", DEFAULT_LIMIT, 1, MAX_LIMIT)
    found = catalogue_page(app_context(request).engine, after=after, limit=size)
    headers = {}
    if found.cursor is not None:
        query = urlencode({"cursor": encode_cursor(found.cursor), "limit": size})
        headers["Link"] = f'<{app_context(request).settings.public_url}/api/papers?{query}>; rel="next"'
    return conditional_json(request, [hf_paper(item) for item in found.items], headers=headers)


@router.get("/papers/{arxiv_id:path}", summary="One paper (Hugging Face's shape)", response_model=HfPaper)
def paper(request: Request, arxiv_id: str) -> Response:
    """A paper by arXiv id: 2506.12229, 2506.12229v2 or hep-th/9901001. 404 when unknown."""
    try:
        canonical = parse_arxiv_id(arxiv_id).base
    except InvalidArxivId as exc:
        raise ApiError(404, "not_found", str(exc)) from None
    view = paper_view(app_context(request).engine, canonical)
    if view is None:
        raise ApiError(404, "not_found", f"arXiv paper {canonical} is not in this catalogue")
    return conditional_json(request, hf_paper(FeedItem(view.paper, None, view.community)))


def _next_daily_url(request: Request, page: int) -> str:
    """This request's URL on the site's public address, with p (numbered from 0) moved on."""
    params = [(name, value) for name, value in request.query_params.multi_items() if name != "p"]
    query = urlencode([*params, ("p", str(page))])  # `page` counts from 1: it is the next p
    return f"{app_context(request).settings.public_url}/api/daily_papers?{query}"


def _daily_items(request: Request, query: DailyQuery) -> tuple[list[FeedItem], int]:
    """The page's papers, and how many the whole listing has."""
    ctx = app_context(request)
    if query.submitter is not None:
        found = submitted_papers(
            ctx.engine, query.submitter, query.period, page=query.page, page_size=query.limit
        )
        return found.items, found.total
    engine, trending = ctx.engine, trending_params(ctx.settings)
    sort, page, size = query.sort, query.page, query.limit
    try:
        if query.period is None:
            feed = latest_feed(engine, sort=sort, page=page, page_size=size, trending=trending)
        else:
            feed = feed_for_period(
                engine, query.period, sort=sort, page=page, page_size=size, trending=trending
            )
    except FeedPageNotFound:
        return [], 0  # as huggingface.co answers past its last page
    return (feed.items, feed.total) if feed else ([], 0)


# --- parameters ---


def daily_query(
    p: str | None, limit: str | None, periods: dict[str, str | None], submitter: str | None, sort: str | None
) -> DailyQuery:
    given = [(name, text) for name, text in periods.items() if text is not None]
    if len(given) > 1:
        names = " and ".join(name for name, _ in given)
        raise invalid(given[1][0], f"give one of date, week and month, not {names}")
    period = None
    for name, parse in _PERIODS:
        text = periods.get(name)
        if text is not None:
            try:
                period = parse(text.strip())
            except ValueError as exc:
                raise invalid(name, str(exc)) from None
    order = sort or "publishedAt"
    if order not in SORTS:
        raise invalid("sort", f"sort must be publishedAt or trending, not {order[:40]!r}")
    page = whole(p, "p", 0, 0, _MAX_PAGE) + 1
    size = whole(limit, "limit", DEFAULT_LIMIT, 1, MAX_LIMIT)
    return DailyQuery(period, (submitter or "").strip() or None, SORTS[order], page, size)


def whole(text: str | None, name: str, default: int, low: int, high: int) -> int:
    """A whole number in [low, high] from a query parameter (absent or empty: `default`)."""
    if text is None or not text.strip():
        return default
    text = text.strip()
    if not (text.isascii() and text.isdigit()) or len(text) > 12 or not low <= int(text) <= high:
        raise invalid(name, f"{name} must be a whole number from {low} to {high}, not {text[:20]!r}")
    return int(text)


def encode_cursor(after: int) -> str:
    return base64.urlsafe_b64encode(f"after:{after}".encode()).decode().rstrip("=")


def decode_cursor(cursor: str | None) -> int:
    """The paper id a cursor continues after; 0 (the start) when there is none."""
    if not cursor:
        return 0
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        text = ""
    kind, _, number = text.partition(":")
    if kind != "after" or not (number.isascii() and number.isdigit()) or len(number) > 18:
        raise invalid("cursor", "cursor is not one this site gave: use the Link header's URL")
    return int(number)


def invalid(name: str, message: str) -> ApiError:
    return ApiError(422, "invalid_parameter", message, name)
