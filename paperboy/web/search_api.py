"""The search APIs, answering JSON.

- `GET /api/papers/search?q=&limit=`: Hugging Face's endpoint and field names, so that its
  clients (huggingface_hub's `HfApi.list_papers(query=...)`, scripts written for
  huggingface.co) work against this site.
- `GET /api/v1/search`: everything the search page knows: the parsed query, the rankers that
  ran, the total, highlighted titles and snippets, pages.
- `GET /api/v1/papers/{arxiv_id}/similar`: a paper's nearest papers by meaning, in the same shape.

Errors are `{"error": {"code", "message"}}` (plus `parameter` when one parameter is at fault),
with status 422 for a query or parameter that cannot be used and 404 for an unknown paper.
docs/search.md describes every field.
"""

from __future__ import annotations

from datetime import UTC, datetime, time
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, ConfigDict
from starlette.responses import Response

from paperboy.domain.arxiv_ids import InvalidArxivId, parse_arxiv_id
from paperboy.services.feed import paper_detail, with_all_links
from paperboy.services.search import MAX_PAGE_SIZE, MAX_RESULTS, SearchHit, SearchPage, SearchRequestError
from paperboy.web.api_models import LinkOut
from paperboy.web.auth import viewer_of
from paperboy.web.context import app_context
from paperboy.web.errors import API_ERRORS
from paperboy.web.filters import oneline
from paperboy.web.search_form import InvalidParameter, search_form, whole_number
from paperboy.web.similar import similar_papers, similar_sort
from paperboy.web.urls import paper_url

router = APIRouter(prefix="/api", tags=["search"], responses=API_ERRORS)

# Hugging Face's search answers up to about 120 papers when no limit is given; ours stops at
# MAX_PAGE_SIZE per request, so that is the default here.
HF_DEFAULT_LIMIT = MAX_PAGE_SIZE
DEFAULT_LIMIT = 20
SIMILAR_DEFAULT_LIMIT = 10

Text = Annotated[str | None, Query()]
_Q = Annotated[str | None, Query(description="What to search for, in the query language of docs/search.md.")]
_LIMIT = Annotated[str | None, Query(description=f"Results per page, 1 to {MAX_PAGE_SIZE}.")]


class HfSearchItem(BaseModel):
    """huggingface.co's shape (docs/search.md); fields beyond these may come."""

    model_config = ConfigDict(extra="allow")
    paper: dict[str, Any]
    title: str
    summary: str
    publishedAt: str | None
    numComments: int


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
    "/papers/search", response_model=list[HfSearchItem], summary="Search papers (Hugging Face's shape)"
)
def search_papers_hf(request: Request, q: _Q = None, limit: _LIMIT = None) -> Response:
    """A list of papers in the shape of huggingface.co's `/api/papers/search`: each item has
    `paper` (id, authors, publishedAt, title, summary, upvotes, githubRepo, githubStars,
    projectPage) and, beside it, title, summary, publishedAt and numComments. Best first."""
    try:
        size = _limit(limit, HF_DEFAULT_LIMIT)
        results = _search(request, {"q": q or ""}, size)
    except SearchRequestError as exc:
        return _error_of(exc)
    return _json([hf_item(hit) for hit in results.hits])


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
        return _error_of(exc)
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
        return _error(404, "not_found", str(exc))
    ctx = app_context(request)
    paper = paper_detail(ctx.engine, canonical)
    if paper is None:
        return _error(404, "not_found", f"arXiv paper {canonical} is not in this catalogue")
    try:
        order = similar_sort(sort)
        size = _limit(limit, SIMILAR_DEFAULT_LIMIT)
        hits, notice = similar_papers(ctx.searcher, paper, order, _viewer_id(request), size)
    except InvalidParameter as exc:
        return _error_of(exc)
    except SearchRequestError as exc:  # the only other parameter
        return _error_of(InvalidParameter("sort", str(exc)))
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


def _limit(text: str | None, default: int) -> int:
    size = whole_number("limit", text, default=default)
    if size > MAX_PAGE_SIZE:
        raise InvalidParameter("limit", f"limit must be between 1 and {MAX_PAGE_SIZE}, not {size}")
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
    paper = with_all_links(hit.paper)  # idempotent: every link a page would show
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


def hf_item(hit: SearchHit) -> dict[str, Any]:
    """A result as huggingface.co writes one: the paper inside, the daily-papers entry around it.
    Upvotes and comments are this site's; authors have no Hugging Face account here."""
    paper = with_all_links(hit.paper)
    title = oneline(paper.title)
    inner: dict[str, Any] = {
        "id": paper.arxiv_id,
        "authors": [{"name": name, "hidden": False} for name in paper.authors],
        "publishedAt": _hf_time(paper.published_at),
        "title": title,
        "summary": paper.abstract,
        "upvotes": hit.community.upvotes,
    }
    code = next((link.url for link in paper.links if link.kind == "code"), None)
    project = next((link.url for link in paper.links if link.kind == "project"), None)
    if code:
        inner["githubRepo"] = code
    if paper.hf and paper.hf.github_stars is not None:
        inner["githubStars"] = paper.hf.github_stars
    if project:
        inner["projectPage"] = project
    listed = datetime.combine(paper.first_listed, time(), tzinfo=UTC) if paper.first_listed else None
    item: dict[str, Any] = {
        "paper": inner,
        "publishedAt": _hf_time(listed or paper.published_at),  # when it reached the daily feed
        "title": title,
        "summary": paper.abstract,
        "numComments": hit.community.comments,
    }
    if hit.community.submitted_by:
        name = hit.community.submitted_by
        item["submittedBy"] = {"user": name, "name": name, "fullname": name, "type": "user"}
    return item


def _iso(moment: datetime | None) -> str | None:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z") if moment else None


def _hf_time(moment: datetime | None) -> str | None:
    """2025-06-11T17:00:00.000Z, as Hugging Face writes times."""
    if moment is None:
        return None
    moment = moment.astimezone(UTC)
    return f"{moment:%Y-%m-%dT%H:%M:%S}.{moment.microsecond // 1000:03d}Z"


# --- answers ---


def _json(body: Any, status_code: int = 200) -> Response:
    return Response(orjson.dumps(body), status_code=status_code, media_type="application/json")


def _error(status_code: int, code: str, message: str, parameter: str | None = None) -> Response:
    error = {"code": code, "message": message}
    if parameter:
        error["parameter"] = parameter
    return _json({"error": error}, status_code)


def _error_of(exc: SearchRequestError) -> Response:
    if isinstance(exc, InvalidParameter):
        return _error(422, "invalid_parameter", str(exc), exc.name)
    return _error(422, "invalid_query", str(exc), "q")
