"""A collection's own page and feeds:

    /collections/{id}-{slug}                       its papers in its order, its owner and description
    /collections/{id}-{slug}.{rss|atom|json}       the papers added last, the latest first
    /collections/{id}-{slug}.{bib|ris}             every paper, in the collection's order

A public collection is anyone's to read; a private one is its owner's alone (logged in), and
everyone else gets the very 404 of a collection that does not exist. The id finds the collection:
an old or missing slug is redirected to the current one.

Not kept by the page cache (no `page_cacheable`): a collection changes without any version the
cache knows. Public pages are sent to anonymous readers `no-cache`, and feeds with an ETag of
their bytes (a 304 when unchanged); a page for a logged-in reader (their buttons, their CSRF
token) and anything of a private collection `private, no-store`. A page is a handful
of queries (tests/functional/test_collections.py measures it).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, PlainTextResponse, RedirectResponse
from starlette.responses import Response

from paperboy.domain.citations import bibtex_entries, ris_records
from paperboy.domain.collections import MAX_PAPERS, CollectionNotFound
from paperboy.services.collections import CollectionRow, collection_page, latest_in_collection
from paperboy.web.answers import send_answer
from paperboy.web.auth import viewer_of
from paperboy.web.context import app_context
from paperboy.web.errors import PageError
from paperboy.web.feed_formats import MEDIA_TYPES, FeedInfo, entry_for_paper, render_feed
from paperboy.web.feeds import CITATION_TYPES
from paperboy.web.urls import collection_url, paper_url

router = APIRouter(default_response_class=HTMLResponse, include_in_schema=False)
FEED_SIZE = 50
PAGE_SIZE = 100
_METHODS = ["GET", "HEAD"]
PUBLIC = {"Cache-Control": "no-cache"}
PRIVATE = {"Cache-Control": "private, no-store"}


@router.api_route("/collections/{ref}.{fmt}", methods=_METHODS)
def collection_feed(request: Request, ref: str, fmt: str) -> Response:
    """RSS, Atom or JSON Feed of the papers added last; BibTeX or RIS of them all."""
    number = _number(ref)
    if number is None or (fmt not in MEDIA_TYPES and fmt not in CITATION_TYPES):
        return _plain(404, "No such collection or format.")
    ctx, viewer = app_context(request), viewer_of(request).user
    try:
        if fmt in CITATION_TYPES:
            page = collection_page(ctx.engine, viewer, number, page_size=MAX_PAPERS)
            found, papers = page.collection, [entry.view.paper for entry in page.entries]
            body = (bibtex_entries if fmt == "bib" else ris_records)(papers).encode()
            return send_answer(request, None, body, CITATION_TYPES[fmt], _headers(found))
        found, views = latest_in_collection(ctx.engine, viewer, number, FEED_SIZE)
    except CollectionNotFound:
        return _plain(404, "No such collection.")
    base = ctx.settings.public_url
    home = base + collection_url(found.id, found.slug)
    info = FeedInfo(
        f"{found.name} · a collection by {found.owner} · {ctx.settings.site_name}",
        found.description or f"Papers {found.owner} collected on {ctx.settings.site_name}.",
        home,
        f"{home}.{fmt}",
    )
    entries = [
        entry_for_paper(v.paper, base + paper_url(v.paper.arxiv_id), upvotes=v.community.upvotes)
        for v in views
    ]
    return send_answer(request, None, render_feed(fmt, info, entries), MEDIA_TYPES[fmt], _headers(found))


@router.api_route("/collections/{ref}", methods=_METHODS)
def collection(request: Request, ref: str, page: Annotated[int, Query(ge=1, le=1000)] = 1) -> Response:
    """The collection's papers in its order, with its owner's name and description."""
    number = _number(ref)
    ctx, viewer = app_context(request), viewer_of(request).user
    try:
        if number is None:
            raise CollectionNotFound(ref)
        found = collection_page(ctx.engine, viewer, number, page=page, page_size=PAGE_SIZE)
    except CollectionNotFound:
        raise PageError(404, "No such collection", "There is no collection at this address.") from None
    canonical = collection_url(found.collection.id, found.collection.slug)
    if request.url.path != canonical:
        query = f"?{request.url.query}" if request.url.query else ""
        return RedirectResponse(canonical + query, status_code=301, headers=_headers(found.collection))
    # A logged-in reader's page carries their own buttons and CSRF token: never for a shared cache.
    headers = PUBLIC if viewer is None and found.collection.is_public else PRIVATE
    context = {"shown": found, "canonical": canonical}
    return ctx.templates.TemplateResponse(request, "collection.html", context, headers=headers)


def _number(ref: str) -> int | None:
    """12 of "12-graph-nets" (or of "12"); None when it starts with no id."""
    digits = ref.split("-", 1)[0]
    if not (digits.isascii() and digits.isdigit()) or len(digits) > 16 or int(digits) < 1:
        return None
    return int(digits)


def _headers(found: CollectionRow) -> dict[str, str]:
    return PUBLIC if found.is_public else PRIVATE


def _plain(status_code: int, message: str) -> Response:
    return PlainTextResponse(message + "\n", status_code=status_code, headers={"Cache-Control": "no-store"})
