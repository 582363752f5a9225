"""Hugging Face's paper endpoints, with huggingface.co's parameters and JSON field names, so that
its clients (huggingface_hub's `HfApi(endpoint=...)`, scripts written for huggingface.co) work
against this site unchanged:

- `GET /api/daily_papers?p=&limit=&date=|week=|month=&submitter=&sort=`: a feed page; the next
  page's URL in a `Link: <...>; rel="next"` header when there is one.
- `GET /api/papers/{arxiv_id}`: one paper (any spelling of its id; 404 when unknown).
- `GET /api/papers?cursor=&limit=`: the whole catalogue in the order papers were added, the next
  page's URL in a `Link: <...>; rel="next"` header as huggingface.co pages its lists.

(`/api/papers/search` is in web/api/search.py.) Every answer carries a strong ETag and a 304
answers a matching If-None-Match. The daily papers' tag is derived from the catalogue and
community versions and the request (web/conditional.py), so that a 304 costs one small query and
no rendering, and the finished answer is kept under it (web/answers.py); each paper's JSON is
kept per paper object and counts (web/paper_parts.py).
Parameters are read by web/api/params.py; their errors are 422 `{"error": "<message>", "code",
"parameter"}` with the message in X-Error-Message (web/api/errors.py). `date`, `week` and
`month` together ask for the papers listed in all of them: the narrowest, when it lies inside
the others, else none. A token that is not this site's is ignored here (web/auth.py):
huggingface_hub sends its own to any endpoint. docs/api-huggingface.md describes every field.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated
from urllib.parse import urlencode

import orjson
from fastapi import APIRouter, Query, Request
from starlette.responses import Response

from paperboy.domain.arxiv_ids import InvalidArxivId, parse_arxiv_id
from paperboy.domain.calendar import Period
from paperboy.domain.trending import trending_params
from paperboy.services.catalogue import catalogue_page, submitted_papers
from paperboy.services.feed import (
    FeedItem,
    FeedPageNotFound,
    feed_for_period,
    latest_feed,
    moves_with_clock,
    page_versions,
    paper_view,
)
from paperboy.web.answers import known_answer, send_answer
from paperboy.web.api.errors import HF_API_ERRORS, ApiError
from paperboy.web.api.models import HfDailyPaper, HfPaper
from paperboy.web.api.params import (
    AFTER_CURSOR_PATTERN,
    DAY_SCHEMA,
    MONTH_SCHEMA,
    WEEK_SCHEMA,
    ArxivId,
    after_cursor,
    choice_schema,
    encode_after_cursor,
    integer_schema,
    one_of,
    pattern_schema,
    period,
    text,
    whole_number,
)
from paperboy.web.api.shapes import hf_daily_item, hf_paper
from paperboy.web.conditional import JSON, conditional_json, derived_etag
from paperboy.web.context import app_context
from paperboy.web.paper_parts import paper_parts

router = APIRouter(prefix="/api", tags=["huggingface"], responses=HF_API_ERRORS)

DEFAULT_LIMIT = 50  # huggingface_hub's documented default
MAX_LIMIT = 100
SORTS = {"publishedAt": "newest", "trending": "trending"}  # huggingface.co's name: the feed's
DEFAULT_SORT = "publishedAt"
MAX_PAGE = 10**6
_PERIODS = {"date": "day", "week": "week", "month": "month"}

_LIMIT = Annotated[
    str | None,
    integer_schema(1, MAX_LIMIT),
    Query(description=f"Papers per page, 1 to {MAX_LIMIT} (default {DEFAULT_LIMIT})."),
]


@dataclass(frozen=True, slots=True)
class DailyQuery:
    period: Period | None  # None: the latest listing day
    nothing: bool  # periods given that no day lies in
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
    p: Annotated[str | None, integer_schema(0, MAX_PAGE), Query(description="Page, from 0.")] = None,
    limit: _LIMIT = None,
    date: Annotated[str | None, DAY_SCHEMA, Query(description="A listing day, YYYY-MM-DD.")] = None,
    week: Annotated[str | None, WEEK_SCHEMA, Query(description="An ISO week, YYYY-Www.")] = None,
    month: Annotated[str | None, MONTH_SCHEMA, Query(description="A month, YYYY-MM.")] = None,
    submitter: Annotated[str | None, text("Only papers this member submitted.")] = None,
    sort: Annotated[
        str | None, choice_schema(list(SORTS)), Query(description="publishedAt (default) or trending.")
    ] = None,
) -> Response:
    """The papers listed on a day, week or month (default: the latest listing day), newest first
    or trending, in pages of `limit`; with `submitter`, the papers that member submitted (to
    that period when one is given), newest submission first. Past the last page: `[]`."""
    query = daily_query(p, limit, {"date": date, "week": week, "month": month}, submitter, sort)
    tag = _daily_etag(request, query)
    if (known := known_answer(request, tag)) is not None:
        return known  # a 304, or the answer kept under this tag (web/answers.py)
    items, total = _daily_items(request, query) if not query.nothing else ([], 0)
    headers = {}
    if query.page * query.limit < total:
        headers["Link"] = f'<{_next_daily_url(request, query.page)}>; rel="next"'
    return send_answer(request, tag, daily_body(items), JSON, headers)


def daily_body(items: list[FeedItem]) -> bytes:
    """The JSON list of `items` as daily papers entries: exactly `orjson.dumps` of their
    `hf_daily_item`s, each entry kept per paper object, listing and counts."""
    return b"[" + b",".join(_daily_entry(item) for item in items) + b"]"


def _daily_entry(item: FeedItem) -> bytes:
    key = ("hf_daily_item", item.listing, item.community)
    return paper_parts.get(item.paper, key, lambda: orjson.dumps(hf_daily_item(item)))


def _daily_etag(request: Request, query: DailyQuery) -> str | None:
    """The answer's ETag from the versions and the request, or None when the answer moves with
    the clock (trending of a period under way), whose tag is the hash of its bytes."""
    if query.submitter is None and not query.nothing and moves_with_clock(query.period, query.sort):
        return None
    ctx = app_context(request)
    catalogue, community = page_versions(ctx.engine)
    trending = repr(trending_params(ctx.settings))
    url = request.url.path + "?" + request.url.query
    return derived_etag("daily_papers", catalogue, community, ctx.settings.public_url, trending, url)


@router.get(
    "/papers", summary="Every paper, paged by a cursor (Hugging Face's shape)", response_model=list[HfPaper]
)
def papers(
    request: Request,
    cursor: Annotated[
        str | None,
        pattern_schema(AFTER_CURSOR_PATTERN),
        Query(description="From the previous page's Link header."),
    ] = None,
    limit: _LIMIT = None,
) -> Response:
    """The catalogue in the order papers were added. When there is more, the
    `Link: <...>; rel="next"` header holds the next page's URL."""
    after = after_cursor("cursor", cursor)
    size = whole_number("limit", limit, default=DEFAULT_LIMIT, low=1, high=MAX_LIMIT)
    found = catalogue_page(app_context(request).engine, after=after, limit=size)
    headers = {}
    if found.cursor is not None:
        query = urlencode({"cursor": encode_after_cursor(found.cursor), "limit": size})
        headers["Link"] = f'<{app_context(request).settings.public_url}/api/papers?{query}>; rel="next"'
    return conditional_json(request, [hf_paper(item) for item in found.items], headers=headers)


@router.get("/papers/{arxiv_id:path}", summary="One paper (Hugging Face's shape)", response_model=HfPaper)
def paper(request: Request, arxiv_id: ArxivId) -> Response:
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
    given = [period(name, text, (_PERIODS[name],)) for name, text in periods.items() if text is not None]
    narrowest = min(given, key=lambda each: each.end - each.start, default=None)
    inside = all(each.start <= narrowest.start <= narrowest.end <= each.end for each in given if narrowest)
    order = one_of("sort", sort, list(SORTS), default=DEFAULT_SORT)
    page = whole_number("p", p, default=0, low=0, high=MAX_PAGE) + 1
    size = whole_number("limit", limit, default=DEFAULT_LIMIT, low=1, high=MAX_LIMIT)
    who = (submitter or "").strip() or None
    return DailyQuery(narrowest, not inside, who, SORTS[order], page, size)
