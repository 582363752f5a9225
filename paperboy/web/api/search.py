"""The search APIs, answering JSON.

- `GET /api/papers/search?q=&limit=`: Hugging Face's endpoint, limit (up to 120) and item shape
  (web/api/shapes.py: the /api/daily_papers item with highlightedTitle and highlightedSummary),
  so that its clients (huggingface_hub's `HfApi.list_papers(query=...)`, scripts written for
  huggingface.co) work against this site.
- `GET /api/v1/search`: everything the search page knows: the parsed query, the rankers that
  ran, the total, highlighted titles and snippets, pages.
- `GET /api/v1/papers/{arxiv_id}/similar`: a paper's nearest papers by meaning, in the same shape.

Errors (web/api/errors.py) are 422 for a parameter (web/api/params.py) or a query that cannot be
used, with `code`, `message` and `parameter`, and 404 for an unknown paper or a page past the
results; on /api/papers/search in Hugging Face's shape. docs/search.md describes every field.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from starlette.responses import Response

from paperboy.domain.arxiv_ids import InvalidArxivId, parse_arxiv_id
from paperboy.services.feed import paper_detail
from paperboy.services.search import (
    MAX_PAGE_SIZE,
    MAX_RESULTS,
    MODES,
    SIMILAR_SORTS,
    SORTS,
    SearchPage,
    SearchRequestError,
)
from paperboy.web.api.errors import API_ERRORS, HF_API_ERRORS, ApiError, search_error
from paperboy.web.api.models import HfSearchItem, SearchOut, SimilarOut
from paperboy.web.api.params import ArxivId, choice_schema, integer_schema, one_of, text, whole_number
from paperboy.web.api.shapes import hf_search_result, paper_reference, result, search_page_body
from paperboy.web.auth import viewer_id
from paperboy.web.conditional import json_answer
from paperboy.web.context import app_context
from paperboy.web.search_form import search_form
from paperboy.web.similar import similar_papers

router = APIRouter(prefix="/api", tags=["search"], responses=API_ERRORS)

# Hugging Face's search answers up to 120 papers, and 120 when no limit is given (one search of
# the service: its MAX_PAGE_SIZE allows that many).
HF_MAX_LIMIT = HF_DEFAULT_LIMIT = MAX_PAGE_SIZE
V1_MAX_LIMIT = 100
DEFAULT_LIMIT = 20
SIMILAR_DEFAULT_LIMIT = 10

_Q = Annotated[str | None, text("What to search for, in the query language of docs/search.md.")]


@router.get(
    "/papers/search",
    response_model=list[HfSearchItem],
    summary="Search papers (Hugging Face's shape)",
    tags=["huggingface"],
    responses=HF_API_ERRORS,
)
def search_papers_hf(
    request: Request,
    q: _Q = None,
    limit: Annotated[
        str | None,
        integer_schema(1, HF_MAX_LIMIT),
        Query(description=f"Papers, 1 to {HF_MAX_LIMIT} (the default)."),
    ] = None,
) -> Response:
    """A list of papers in the shape of huggingface.co's `/api/papers/search`: the items of
    `/api/daily_papers`, with the title and abstract highlighted (HTML, matches in <mark>). Best first."""
    size = whole_number("limit", limit, default=HF_DEFAULT_LIMIT, low=1, high=HF_MAX_LIMIT)
    results = _search(request, {"q": q or ""}, size)
    return json_answer([hf_search_result(hit, results) for hit in results.hits])


@router.get("/v1/search", response_model=SearchOut, summary="Search papers")
def search_papers(
    request: Request,
    q: _Q = None,
    sort: Annotated[
        str | None, choice_schema(SORTS), Query(description="relevance (default), date or upvotes.")
    ] = None,
    mode: Annotated[
        str | None, choice_schema(MODES), Query(description="hybrid (default), lexical or semantic.")
    ] = None,
    page: Annotated[
        str | None, integer_schema(1, MAX_RESULTS), Query(description="Page of results, from 1.")
    ] = None,
    limit: Annotated[
        str | None,
        integer_schema(1, V1_MAX_LIMIT),
        Query(description=f"Results per page, 1 to {V1_MAX_LIMIT}."),
    ] = None,
    cat: Annotated[str | None, text("Adds cat:… to the query.")] = None,
    author: Annotated[str | None, text("Adds author:… to the query.")] = None,
    after: Annotated[str | None, text("Adds after:… (YYYY-MM-DD, YYYY-MM or YYYY).")] = None,
    before: Annotated[str | None, text("Adds before:….")] = None,
    code: Annotated[str | None, text("1: adds has:code.")] = None,
) -> Response:
    """One page of results with the parsed query, the rankers that ran and highlighted text.
    A page past the results (they stop at 1,000) is a 404."""
    params = {
        "q": q,
        "sort": one_of("sort", sort, SORTS, default=SORTS[0]),
        "mode": one_of("mode", mode, MODES, default=MODES[0]),
        "page": str(whole_number("page", page, default=1, low=1, high=MAX_RESULTS)),
    }
    params |= {"cat": cat, "author": author, "after": after, "before": before, "code": code}
    size = whole_number("limit", limit, default=DEFAULT_LIMIT, low=1, high=V1_MAX_LIMIT)
    results = _search(request, {k: v for k, v in params.items() if v is not None}, size)
    body = search_page_body(results, size)
    body["results"] = [result(hit, app_context(request).settings.public_url) for hit in results.hits]
    return json_answer(body)


@router.get("/v1/papers/{arxiv_id:path}/similar", response_model=SimilarOut, summary="Similar papers")
def similar(
    request: Request,
    arxiv_id: ArxivId,
    sort: Annotated[
        str | None,
        choice_schema(SIMILAR_SORTS),
        Query(description="similarity (default), date or upvotes."),
    ] = None,
    limit: Annotated[
        str | None,
        integer_schema(1, V1_MAX_LIMIT),
        Query(description=f"Papers, 1 to {V1_MAX_LIMIT}."),
    ] = None,
) -> Response:
    """The papers nearest in meaning to one paper: sort is similarity (default), date or upvotes."""
    try:
        canonical = parse_arxiv_id(arxiv_id).base
    except InvalidArxivId as exc:
        raise ApiError(404, "not_found", str(exc)) from None
    ctx = app_context(request)
    paper = paper_detail(ctx.engine, canonical)
    if paper is None:
        raise ApiError(404, "not_found", f"arXiv paper {canonical} is not in this catalogue")
    order = one_of("sort", sort, SIMILAR_SORTS, default=SIMILAR_SORTS[0])
    size = whole_number("limit", limit, default=SIMILAR_DEFAULT_LIMIT, low=1, high=V1_MAX_LIMIT)
    hits, notice = similar_papers(ctx.searcher, paper, order, viewer_id(request), size)
    public_url = ctx.settings.public_url
    body = {"paper": paper_reference(paper, public_url), "sort": order, "limit": size, "notice": notice}
    body["results"] = [result(hit, public_url) for hit in hits]
    return json_answer(body)


def _search(request: Request, params: dict[str, str], size: int) -> SearchPage:
    try:
        form = search_form(params)
        if (form.page - 1) * size >= MAX_RESULTS:
            message = f"results stop at {MAX_RESULTS}: page {form.page} starts past them; narrow the query"
            raise ApiError(404, "not_found", message, "page")
        return app_context(request).searcher.search(
            form.query_text(),
            sort=form.sort,
            mode=form.mode,
            page=form.page,
            page_size=size,
            viewer_id=viewer_id(request),
        )
    except SearchRequestError as exc:
        raise search_error(exc) from None
