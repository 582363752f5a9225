"""The library's forms: read marks, notes and "Save to…" on a paper, and managing collections
(create, rename, describe, publish, delete after a confirmation box, papers up, down and out).

Plain forms (CSRF token; the server redirects back, 303), or JSON for a script that asks
(`Accept: application/json`). Any logged-in account may keep a library. Another member's
collection id is a 404, as one that does not exist (services/collections.py checks ownership).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse
from starlette.responses import Response

from paperboy.domain.collections import CollectionFull, CollectionNotFound, InvalidCollection
from paperboy.services import collections as service
from paperboy.services.library import mark_read, write_note
from paperboy.services.votes import PaperNotFound
from paperboy.web.auth import LOGGED_IN, CheckedViewer, client_ip, require_user
from paperboy.web.community import back_to
from paperboy.web.context import app_context
from paperboy.web.errors import PageError, wants_json

router = APIRouter(default_response_class=HTMLResponse, include_in_schema=False)

Field = Annotated[str, Form()]
NextField = Annotated[str, Form(alias="next")]
Many = Annotated[list[str], Form()]
_READ = {"read": True, "unread": False}
_MOVES = {"up": True, "down": False}
_VISIBILITY = {"public": True, "private": False}
MAX_ID = 2**53


@router.post("/papers/{arxiv_id:path}/read", dependencies=LOGGED_IN)
def read_mark(
    request: Request, arxiv_id: str, viewer: CheckedViewer, action: Field = "read", next_path: NextField = ""
) -> Response:
    """action=read (it is saved too) or unread. Scripts get `{"arxiv_id", "read"}`."""
    user, ctx = require_user(viewer), app_context(request)
    read = _choice(_READ, action, "action")
    with _refusals():
        done = mark_read(ctx.engine, ctx.settings, user, arxiv_id, client_ip(request), read=read)
    if wants_json(request):
        return JSONResponse({"arxiv_id": done.arxiv_id, "read": done.read})
    return RedirectResponse(back_to(request, next_path, done.arxiv_id), status_code=303)


@router.post("/papers/{arxiv_id:path}/note", dependencies=LOGGED_IN)
def note(
    request: Request, arxiv_id: str, viewer: CheckedViewer, note: Field = "", next_path: NextField = ""
) -> Response:
    """Keep the reader's private note (blank: forget it); a note saves the paper too."""
    user, ctx = require_user(viewer), app_context(request)
    with _refusals():
        done = write_note(ctx.engine, ctx.settings, user, arxiv_id, client_ip(request), note)
    if wants_json(request):
        return JSONResponse({"arxiv_id": done.arxiv_id, "note": done.note})
    return RedirectResponse(back_to(request, next_path, done.arxiv_id), status_code=303)


@router.post("/papers/{arxiv_id:path}/collections", dependencies=LOGGED_IN)
def save_to(
    request: Request,
    arxiv_id: str,
    viewer: CheckedViewer,
    collection: Many = [],  # noqa: B006 - FastAPI copies a form default
    new_collection: Field = "",
    next_path: NextField = "",
) -> Response:
    """ "Save to…": the paper is saved and in exactly the ticked collections (`collection`, ids),
    and in a new one when `new_collection` names it."""
    user, ctx = require_user(viewer), app_context(request)
    wanted = {_collection_id(text) for text in collection[:1000]}
    ip = client_ip(request)
    with _refusals():
        if new_collection.strip():
            wanted.add(service.create_collection(ctx.engine, ctx.settings, user, ip, new_collection).id)
        kept = service.set_paper_collections(ctx.engine, ctx.settings, user, ip, arxiv_id, wanted)
    if wants_json(request):
        return JSONResponse({"arxiv_id": arxiv_id, "collections": sorted(kept)})
    return RedirectResponse(back_to(request, next_path, arxiv_id), status_code=303)


@router.post("/library/collections", dependencies=LOGGED_IN)
def create(
    request: Request,
    viewer: CheckedViewer,
    name: Field = "",
    description: Field = "",
    visibility: Field = "private",
) -> Response:
    """A new collection; then the library shows it."""
    user, ctx = require_user(viewer), app_context(request)
    public = _choice(_VISIBILITY, visibility, "visibility")
    with _refusals():
        made = service.create_collection(
            ctx.engine, ctx.settings, user, client_ip(request), name, description, is_public=public
        )
    return _to_collection(request, made.id)


@router.post("/library/collections/{collection_id}", dependencies=LOGGED_IN)
def change(
    request: Request,
    collection_id: str,
    viewer: CheckedViewer,
    action: Field = "update",
    name: Field = "",
    description: Field = "",
    visibility: Field = "private",
    confirm: Field = "",
) -> Response:
    """action=update (name, description, visibility) or delete (needs the box `confirm` ticked:
    its papers stay in the library)."""
    user, ctx = require_user(viewer), app_context(request)
    number, ip = _collection_id(collection_id), client_ip(request)
    if action == "delete":
        if confirm != "yes":
            raise PageError(400, "Not deleted", "Tick the box to confirm that the collection should go.")
        with _refusals():
            service.delete_collection(ctx.engine, ctx.settings, user, ip, number)
        return _done(request, {"deleted": number}, "/library")
    if action != "update":
        raise PageError(400, "Bad request", f"action must be update or delete, not {action[:20]!r}")
    public = _choice(_VISIBILITY, visibility, "visibility")
    with _refusals():
        service.update_collection(
            ctx.engine, ctx.settings, user, ip, number, name=name, description=description, is_public=public
        )
    return _to_collection(request, number)


@router.post("/library/collections/{collection_id}/papers/{arxiv_id:path}", dependencies=LOGGED_IN)
def paper_in_collection(
    request: Request,
    collection_id: str,
    arxiv_id: str,
    viewer: CheckedViewer,
    action: Field = "",
    next_path: NextField = "",
) -> Response:
    """action=up|down (its place in the collection) or remove (out of it, still saved)."""
    user, ctx = require_user(viewer), app_context(request)
    number, ip = _collection_id(collection_id), client_ip(request)
    with _refusals():
        if action == "remove":
            service.remove_from_collection(ctx.engine, ctx.settings, user, ip, number, arxiv_id)
        else:
            up = _choice(_MOVES, action, "action")
            service.move_in_collection(ctx.engine, ctx.settings, user, ip, number, arxiv_id, up=up)
    if wants_json(request):
        return JSONResponse({"collection_id": number, "arxiv_id": arxiv_id, "action": action})
    return RedirectResponse(back_to(request, next_path, arxiv_id), status_code=303)


@contextmanager
def _refusals() -> Iterator[None]:
    """The services' refusals as error pages (or JSON errors for scripts)."""
    try:
        yield
    except CollectionNotFound as exc:
        raise PageError(404, "No such collection", str(exc)) from None
    except PaperNotFound as exc:
        raise PageError(404, "Paper not found", str(exc)) from None
    except CollectionFull as exc:
        raise PageError(409, "Limit reached", str(exc)) from None
    except InvalidCollection as exc:
        raise PageError(400, "Bad request", str(exc)) from None


def _choice(choices: dict[str, bool], value: str, name: str) -> bool:
    if value not in choices:
        raise PageError(400, "Bad request", f"{name} must be {' or '.join(choices)}, not {value[:20]!r}")
    return choices[value]


def _collection_id(text: str) -> int:
    if not (text.isascii() and text.isdigit() and len(text) <= 16 and 1 <= int(text) <= MAX_ID):
        raise PageError(404, "No such collection", f"There is no collection {text[:20]!r}.")
    return int(text)


def _to_collection(request: Request, collection_id: int) -> Response:
    return _done(request, {"id": collection_id}, "/library?" + urlencode({"collection": collection_id}))


def _done(request: Request, body: dict[str, int], path: str) -> Response:
    if wants_json(request):
        return JSONResponse(body)
    return RedirectResponse(path, status_code=303)
