"""The search page (/search) and the page that explains the search box (/about/search); the
search APIs are web/api/search.py's.

Handlers are thin: read the form, call the searcher (services/search.py), render. Searching
embeds the query and runs SQL, so the handlers are plain functions: FastAPI runs them in its
thread pool. Result pages are not kept by the page cache: every query is a new URL, and they
would push the feed pages out of it; the empty form and the help page are kept.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from starlette.responses import Response

from paperboy.services.search import SearchPage, SearchRequestError
from paperboy.web.auth import viewer_id
from paperboy.web.context import app_context
from paperboy.web.feeds import search_alternate_links
from paperboy.web.rate_limit import spend_search_budget
from paperboy.web.search_form import MODE_LABELS, SORT_LABELS, SearchForm, lenient_search_form, search_form

ABOUT_SEARCH_PATH = "/about/search"
PAGE_SIZE = 20
# The query language, as the help shows it: (syntax, meaning, an example to try).
SYNTAX = (
    ("word", "papers about it; case does not matter", "graph neural networks"),
    ('"a phrase"', "these words, together, in this order", '"message passing"'),
    ("-word", "leave out papers with this word", "protein folding -AlphaFold"),
    ('-"a phrase"', "leave out papers with this phrase", 'diffusion -"language model"'),
    ("author:name", "an author with this name; quote a full name", 'author:"Ada Lovelace"'),
    ("cat:category", "an arXiv category; several mean any of them", "transformers cat:cs.CL cat:cs.LG"),
    ("after:date", "on or after the day (YYYY-MM-DD, YYYY-MM or YYYY)", "agents after:2025-06"),
    ("before:date", "on or before the day", "attention before:2018"),
    ("has:code", "papers with a link to their code", "segmentation has:code"),
)

router = APIRouter(default_response_class=HTMLResponse, include_in_schema=False)
_METHODS = ["GET", "HEAD"]


@router.api_route("/search", methods=_METHODS)
def search_page(request: Request) -> Response:
    """Results for the box's text and the filter controls; the empty form (with help) when
    there is nothing to search for; the form again with the reason (400) when the query cannot
    run."""
    try:
        form = search_form(request.query_params)
    except SearchRequestError as exc:
        return _render(request, lenient_search_form(request.query_params), error=str(exc), status_code=400)
    if form.is_empty:
        request.state.page_cacheable = True
        return _render(request, form)
    spend_search_budget(request)  # a search costs: a budget per address (web/rate_limit.py)
    try:
        results = app_context(request).searcher.search(
            form.query_text(),
            sort=form.sort,
            mode=form.mode,
            page=form.page,
            page_size=PAGE_SIZE,
            viewer_id=viewer_id(request),
        )
    except SearchRequestError as exc:
        return _render(request, form, error=str(exc), status_code=400)
    past_the_end = form.page > results.pages and not results.hits
    return _render(
        request, form.reflecting(results.query), results=results, status_code=404 if past_the_end else 200
    )


@router.api_route(ABOUT_SEARCH_PATH, methods=_METHODS)
def about_search(request: Request) -> Response:
    """Everything the search box understands, with examples to try."""
    request.state.page_cacheable = True
    context = {"syntax": SYNTAX, "search_url": SearchForm().url, "modes": MODE_LABELS}
    return app_context(request).templates.TemplateResponse(request, "about_search.html", context)


def _render(
    request: Request,
    form: SearchForm,
    *,
    results: SearchPage | None = None,
    error: str | None = None,
    status_code: int = 200,
) -> Response:
    ctx = app_context(request)
    context = {
        "form": form,
        "results": results,
        "error": error,
        "category_options": _category_options(ctx.settings.categories, form.cat),
        "sort_options": list(SORT_LABELS.items()),
        "mode_options": list(MODE_LABELS.items()),
        "page_numbers": page_numbers(form.page, results.pages) if results else [],
        "syntax": SYNTAX,
        "feed_alternates": search_alternate_links(form.query_text()) if results else [],
    }
    return ctx.templates.TemplateResponse(request, "search.html", context, status_code=status_code)


def _category_options(configured: list[str], chosen: str) -> list[str]:
    """The categories this site follows, and the one chosen when it is not among them."""
    return configured if not chosen or chosen in configured else [chosen, *configured]


def page_numbers(current: int, last: int, *, around: int = 2) -> list[int | None]:
    """Page links: the first, the last, and those around the current page; None for a gap."""
    shown = sorted({1, last, *range(max(1, current - around), min(last, current + around) + 1)})
    numbers: list[int | None] = []
    previous = 1
    for number in shown:
        if number - previous == 2:  # a gap of one page: show its number rather than "…"
            numbers.append(previous + 1)
        elif number - previous > 2:
            numbers.append(None)
        numbers.append(number)
        previous = number
    return numbers
