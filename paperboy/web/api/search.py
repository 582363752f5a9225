"""The search APIs, answering JSON.

- `GET /api/papers/search?q=&limit=`: Hugging Face's endpoint, limit (up to 120) and item shape
  (web/api/shapes.py: the /api/daily_papers item with highlightedTitle and highlightedSummary),
  so that its clients (huggingface_hub's `HfApi.list_papers(query=...)`, scripts written for
  huggingface.co) work against this site.
- `GET /api/v1/search`: everything the search page knows: the parsed query, the rankers that
  ran, the total, highlighted titles and snippets, pages.
- `GET /api/v1/papers/{arxiv_id}/similar`: a paper's nearest papers by meaning, in the same shape.

Errors (web/errors.py) are 422 for a query or parameter that cannot be used and 404 for an
unknown paper, with `code`, `message` and `parameter` when one parameter is at fault; on
/api/papers/search in Hugging Face's shape. docs/search.md describes every field.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Query, Request
from pydantic import BaseModel
from starlette.responses import Response

from paperboy.domain.arxiv_ids import InvalidArxivId, parse_arxiv_id
from paperboy.domain.highlight import highlight
from paperboy.services.feed import FeedItem, paper_detail
from paperboy.services.search import MAX_PAGE_SIZE, MAX_RESULTS, SearchHit, SearchPage, SearchRequestError
from paperboy.web.api.models import LinkOut
from paperboy.web.auth import viewer_of
from paperboy.web.context import app_context
from paperboy.web.errors import API_ERRORS, HF_API_ERRORS, ApiError
from paperboy.web.filters import oneline
from paperboy.web.api.shapes import HfSearchItem, hf_search_item
from paperboy.web.search_form import InvalidParameter, search_form, whole_number
from paperboy.web.similar import similar_papers, similar_sort
from paperboy.web.urls import paper_url

router = APIRouter(prefix="/api", tags=["search"], responses=API_ERRORS)

# Hugging Face's search answers up to 120 papers, and 120 when no limit is given (one search of
# the service: its MAX_PAGE_SIZE allows that many).
HF_MAX_LIMIT = HF_DEFAULT_LIMIT = MAX_PAGE_SIZE
V1_MAX_LIMIT = 100
DEFAULT_LIMIT = 20
SIMILAR_DEFAULT_LIMIT = 10

Text = Annotated[str | None, Query()]
_Q = Annotated[str | None, Query(description="What to search for, in the query language of docs/search.md.")]
_LIMIT = Annotated[str | None, Query(description=f"Results per page, 1 to {V1_MAX_LIMIT}.")]
_HF_LIMIT = Annotated[str | None, Query(description=f"Papers, 1 to {HF_MAX_LIMIT} (the default).")]


class ResultOut(BaseModel):
    arxiv_id: str
    url: str
    title: str
    title_html: str
    snippet_html: str | None
    abstract: str
    authors: list[str]
    categories: list[str]
    published_at: str | None
    updated_at: str | None
    first_listed: str | None
    upvotes: int
    comments: int
    voted: bool
    score: float
    matched_by: list[str]
    links: list[LinkOut]


class QueryOut(BaseModel):
    text: str
    description: str
    terms: list[str]
    phrases: list[str]
    excluded: dict[str, list[str]]
    authors: list[str]
    categories: list[str]
    after: str | None
    before: str | None
    has_code: bool
    browse: bool


class SearchOut(BaseModel):
    query: QueryOut
    mode: str
    used: list[str]
    sort: str
    page: int
    limit: int
    total: int
    pages: int
    capped: bool
    took_ms: float
    notice: str | None
    results: list[ResultOut]


class SimilarPaperOut(BaseModel):
    arxiv_id: str
    url: str
    title: str


class SimilarOut(BaseModel):
    paper: SimilarPaperOut
    sort: str
    limit: int
    notice: str | None
    results: list[ResultOut]


@router.get(
    "/papers/search",
    response_model=list[HfSearchItem],
    summary="Search papers (Hugging Face's shape)",
    tags=["huggingface"],
    responses=HF_API_ERRORS,
)
def search_papers_hf(request: Request, q: _Q = None, limit: _HF_LIMIT = None) -> Response:
    """A list of papers in the shape of huggingface.co's `/api/papers/search`: the items of
    `/api/daily_papers`, with the title and abstract highlighted (HTML, matches in <mark>). Best first."""
    try:
        size = _limit(limit, HF_DEFAULT_LIMIT, HF_MAX_LIMIT)
        results = _search(request, {"q": q or ""}, size)
    except SearchRequestError as exc:
        raise _error_of(exc) from None
    return _json([hf_item(hit, results) for hit in results.hits])


@router.get("/v1/search", response_model=SearchOut, summary="Search papers")
def search_papers(
    request: Request,
    q: _Q = None,
    sort: Annotated[str | None, Query(description="relevance (default), date or upvotes.")] = None,
    mode: Annotated[str | None, Query(description="hybrid (default), lexical or semantic.")] = None,
    page: Annotated[str | None, Query(description="Page of results, from 1.")] = None,
    limit: _LIMIT = None,
    cat: Annotated[str | None, Query(description="Adds cat:… to the query.")] = None,
    author: Annotated[str | None, Query(description="Adds author:… to the query.")] = None,
    after: Annotated[str | None, Query(description="Adds after:… (YYYY-MM-DD, YYYY-MM or YYYY).")] = None,
    before: Annotated[str | None, Query(description="Adds before:….")] = None,
    code: Annotated[str | None, Query(description="1: adds has:code.")] = None,
) -> Response:
    """One page of results with the parsed query, the rankers that ran and highlighted text."""
    params = {"q": q, "sort": sort, "mode": mode, "page": page}
    params |= {"cat": cat, "author": author, "after": after, "before": before, "code": code}
    try:
        size = _limit(limit, DEFAULT_LIMIT)
        results = _search(request, {k: v for k, v in params.items() if v is not None}, size)
    except SearchRequestError as exc:
        raise _error_of(exc) from None
    public_url = app_context(request).settings.public_url
    body = _page_of(results, size)
    body["results"] = [result(hit, public_url) for hit in results.hits]
    return _json(body)


@router.get("/v1/papers/{arxiv_id:path}/similar", response_model=SimilarOut, summary="Similar papers")
def similar(request: Request, arxiv_id: str, sort: Text = None, limit: _LIMIT = None) -> Response:
    """The papers nearest in meaning to one paper: sort is similarity (default), date or upvotes."""
    try:
        canonical = parse_arxiv_id(arxiv_id).base
    except InvalidArxivId as exc:
        raise ApiError(404, "not_found", str(exc)) from None
    ctx = app_context(request)
    paper = paper_detail(ctx.engine, canonical)
    if paper is None:
        raise ApiError(404, "not_found", f"arXiv paper {canonical} is not in this catalogue")
    try:
        order = similar_sort(sort)
        size = _limit(limit, SIMILAR_DEFAULT_LIMIT)
        hits, notice = similar_papers(ctx.searcher, paper, order, _viewer_id(request), size)
    except InvalidParameter as exc:
        raise _error_of(exc) from None
    except SearchRequestError as exc:  # the only other parameter
        raise _error_of(InvalidParameter("sort", str(exc))) from None
    public_url = ctx.settings.public_url
    url = public_url + paper_url(paper.arxiv_id)
    about = {"arxiv_id": paper.arxiv_id, "url": url, "title": oneline(paper.title)}
    body = {"paper": about, "sort": order, "limit": size, "notice": notice}
    body["results"] = [result(hit, public_url) for hit in hits]
    return _json(body)


def _search(request: Request, params: dict[str, str], size: int) -> SearchPage:
    form = search_form(params)
    if (form.page - 1) * size >= MAX_RESULTS:
        message = f"results stop at {MAX_RESULTS}: page {form.page} starts past them; narrow the query"
        raise InvalidParameter("page", message)
    return app_context(request).searcher.search(
        form.query_text(),
        sort=form.sort,
        mode=form.mode,
        page=form.page,
        page_size=size,
        viewer_id=_viewer_id(request),
    )


def _limit(text: str | None, default: int, most: int = V1_MAX_LIMIT) -> int:
    size = whole_number("limit", text, default=default)
    if size > most:
        raise InvalidParameter("limit", f"limit must be between 1 and {most}, not {size}")
    return size


def _viewer_id(request: Request) -> int | None:
    user = viewer_of(request).user
    return user.id if user else None


# --- the shapes ---


def _page_of(results: SearchPage, size: int) -> dict[str, Any]:
    query = results.query
    return {
        "query": {
            "text": results.text,
            "description": query.describe(),
            "terms": list(query.terms),
            "phrases": list(query.phrases),
            "excluded": {"terms": list(query.excluded_terms), "phrases": list(query.excluded_phrases)},
            "authors": list(query.authors),
            "categories": list(query.categories),
            "after": query.date_from.isoformat() if query.date_from else None,
            "before": query.date_to.isoformat() if query.date_to else None,
            "has_code": query.has_code,
            "browse": query.is_browse,
        },
        "mode": results.mode,
        "used": list(results.used),
        "sort": results.sort,
        "page": results.page,
        "limit": size,
        "total": results.total,
        "pages": results.pages,
        "capped": results.capped,
        "took_ms": round(results.took_ms, 1),
        "notice": results.notice,
    }


def result(hit: SearchHit, public_url: str) -> dict[str, Any]:
    """One paper of a result list (search or similar papers)."""
    paper = hit.paper  # hydrated by the searcher: every link a page shows
    community = hit.community
    return {
        "arxiv_id": paper.arxiv_id,
        "url": public_url + paper_url(paper.arxiv_id),
        "title": oneline(paper.title),
        "title_html": hit.title_html,
        "snippet_html": hit.snippet_html,
        "abstract": paper.abstract,
        "authors": paper.authors,
        "categories": paper.categories,
        "published_at": _iso(paper.published_at),
        "updated_at": _iso(paper.updated_at),
        "first_listed": paper.first_listed.isoformat() if paper.first_listed else None,
        "upvotes": community.upvotes,
        "comments": community.comments,
        "voted": community.voted,
        "score": round(hit.score, 6),
        "matched_by": list(hit.matched_by),
        "links": [{"kind": link.kind, "url": link.url} for link in paper.links],
    }


def hf_item(hit: SearchHit, results: SearchPage) -> dict[str, Any]:
    """A result in the shape of a daily papers item (web/api/shapes.py), highlighted."""
    paper = hit.paper  # hydrated by the searcher: code and project links from every source
    summary = highlight(paper.abstract, results.query)
    return hf_search_item(FeedItem(paper, None, hit.community), hit.title_html, summary)


def _iso(moment: datetime | None) -> str | None:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z") if moment else None


# --- answers ---


def _json(body: Any, status_code: int = 200) -> Response:
    return Response(orjson.dumps(body), status_code=status_code, media_type="application/json")


def _error_of(exc: SearchRequestError) -> ApiError:
    if isinstance(exc, InvalidParameter):
        return ApiError(422, "invalid_parameter", str(exc), exc.name)
    return ApiError(422, "invalid_query", str(exc), "q")
