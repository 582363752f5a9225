"""A member's library: the save and "not interested" buttons' endpoints and the library page
(/library: the saved papers, filtered by collection and read mark or searched, the reader's
collections to manage, then the papers hidden from their feeds, each with an undo; the forms
that change collections, notes and read marks are web/library_forms.py's).

Saving works like the vote button: a plain form (CSRF token; the server redirects back, 303) or
JSON for a script (`Accept: application/json`: `{"arxiv_id", "saved"}`). Any logged-in account
may keep a library (it is private: banned and unconfirmed accounts too). The library page is its
owner's alone: never in the shared page cache (a logged-in request) and sent `private, no-store`.
"""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse
from starlette.responses import Response

from paperboy.domain.collections import CollectionNotFound
from paperboy.services.feedback import NOT_INTERESTED, give_feedback
from paperboy.services.library import LibraryFilter, LibraryPage, PaperNotFound, save_paper
from paperboy.services.library_overview import library_overview
from paperboy.web.auth import LOGGED_IN, CheckedViewer, client_ip, require_user, viewer_of
from paperboy.web.community import back_to
from paperboy.web.context import app_context
from paperboy.web.errors import PageError, wants_json
from paperboy.web.regions import spliced_regions
from paperboy.web.urls import collection_url

router = APIRouter(default_response_class=HTMLResponse, include_in_schema=False)

Field = Annotated[str, Form()]
NextField = Annotated[str, Form(alias="next")]
_ACTIONS = {"save": True, "remove": False}
_HIDE_ACTIONS = {"hide": True, "undo": False}
_READ_FILTERS: dict[str, bool | None] = {"": None, "all": None, "read": True, "unread": False}


@router.post("/papers/{arxiv_id:path}/save", dependencies=LOGGED_IN)
def save(
    request: Request, arxiv_id: str, viewer: CheckedViewer, action: Field = "save", next_path: NextField = ""
) -> Response:
    """action=save|remove. Scripts (Accept: application/json) get the new state; forms go back."""
    user = require_user(viewer)
    wanted = _ACTIONS.get(action)
    if wanted is None:
        raise PageError(400, "Bad request", f"action must be save or remove, not {action[:20]!r}")
    ctx = app_context(request)
    try:
        result = save_paper(ctx.engine, ctx.settings, user, arxiv_id, client_ip(request), save=wanted)
    except PaperNotFound as exc:
        raise PageError(404, "Paper not in this catalogue", str(exc)) from None
    if wants_json(request):
        return JSONResponse({"arxiv_id": result.arxiv_id, "saved": result.saved})
    return RedirectResponse(back_to(request, next_path, result.arxiv_id), status_code=303)


@router.post("/papers/{arxiv_id:path}/not-interested", dependencies=LOGGED_IN)
def not_interested(
    request: Request, arxiv_id: str, viewer: CheckedViewer, action: Field = "hide", next_path: NextField = ""
) -> Response:
    """action=hide|undo: hide the paper from the reader's feeds, or show it again. Scripts get
    `{"arxiv_id", "not_interested"}`; forms go back."""
    user = require_user(viewer)
    hide = _HIDE_ACTIONS.get(action)
    if hide is None:
        raise PageError(400, "Bad request", f"action must be hide or undo, not {action[:20]!r}")
    ctx = app_context(request)
    signal = NOT_INTERESTED if hide else None
    try:
        result = give_feedback(ctx.engine, ctx.settings, user, arxiv_id, client_ip(request), signal)
    except PaperNotFound as exc:
        raise PageError(404, "Paper not in this catalogue", str(exc)) from None
    if wants_json(request):
        return JSONResponse({"arxiv_id": result.arxiv_id, "not_interested": result.signal is not None})
    return RedirectResponse(back_to(request, next_path, result.arxiv_id), status_code=303)


@router.get("/library")
def library(
    request: Request,
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
    collection: Annotated[str, Query(max_length=20)] = "",
    read: Annotated[str, Query(max_length=10)] = "",
    q: Annotated[str, Query(max_length=500)] = "",
) -> Response:
    """The reader's saved papers, the latest saved first, or one collection's in its order;
    `read=read|unread`, and `q` searches within them. Anonymous readers are sent to log in.
    The cards are put together per request from forms compiled once and the papers' shared
    fragments (web/library_cards.py)."""
    user = viewer_of(request).user
    if user is None:
        return RedirectResponse(f"/login?next={quote('/library')}", status_code=303)
    ctx = app_context(request)
    chosen = LibraryFilter(read=_read_filter(read), collection_id=_collection_filter(collection))
    try:
        found = library_overview(
            ctx.engine, user, page=page, page_size=ctx.settings.page_size, chosen=chosen, query=q
        )
    except CollectionNotFound as exc:
        raise PageError(404, "No such collection", str(exc)) from None
    context = {
        "imports": found.imports,  # web/library_io.py's pages list them all
        "library": found.library,
        "hidden": found.hidden,
        "hidden_total": found.hidden_total,
        "library_link": library_link,
        "collection_path": lambda c: collection_url(c.id, c.slug),
    }
    with spliced_regions() as splice:
        return splice(
            ctx.templates.TemplateResponse(
                request, "library.html", context, headers={"Cache-Control": "private, no-store"}
            )
        )


def library_link(shown: LibraryPage, *, page: int = 1) -> str:
    """The library page with the same filters and search, on another page."""
    params: dict[str, object] = {}
    if shown.query:
        params["q"] = shown.query
    if shown.chosen.collection_id is not None:
        params["collection"] = shown.chosen.collection_id
    if shown.chosen.read is not None:
        params["read"] = "read" if shown.chosen.read else "unread"
    if page > 1:
        params["page"] = page
    return "/library?" + urlencode(params) if params else "/library"


def _read_filter(text: str) -> bool | None:
    if text not in _READ_FILTERS:
        raise PageError(400, "Bad request", f"read must be read or unread, not {text[:10]!r}")
    return _READ_FILTERS[text]


def _collection_filter(text: str) -> int | None:
    if not text:
        return None
    if not (text.isascii() and text.isdigit() and len(text) <= 16):
        raise PageError(404, "No such collection", f"There is no collection {text[:20]!r}.")
    return int(text)
