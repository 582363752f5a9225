"""Importing into and exporting a member's library: `/library/imports` (the form and the recent
imports), `POST /library/imports` (a file, or ids pasted in a box), `/library/imports/{id}` (an
import's progress, refreshing itself while papers are fetched; what could not be matched) and
`/library/export?format=json|bibtex|ris`. Every page is its owner's alone (`private, no-store`);
another member's import is a 404, as one that does not exist.
"""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Form, Path, Request, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from paperboy.domain.library_import import MAX_IMPORT_BYTES, ImportFileError
from paperboy.domain.users import User
from paperboy.services.collections import CollectionFull, CollectionNotFound, collections_of
from paperboy.services.library_export import export_library
from paperboy.services.library_imports import (
    ImportRefused,
    import_library,
    import_progress,
    recent_imports,
)
from paperboy.services.library_restore import NEW
from paperboy.web.api.models import MAX_ID
from paperboy.web.auth import LOGGED_IN, CheckedViewer, client_ip, require_user, viewer_of
from paperboy.web.context import app_context
from paperboy.web.errors import PageError, render_error

router = APIRouter(default_response_class=HTMLResponse, include_in_schema=False)
PRIVATE = {"Cache-Control": "private, no-store"}
REFRESH_SECONDS = 3
# The two upload routes may send a whole file (the form's other fields and multipart framing on top).
UPLOAD_BODY = MAX_IMPORT_BYTES + 65_536
LARGER_BODIES = {"/library/imports": UPLOAD_BODY, "/api/v1/me/library/imports": UPLOAD_BODY}


@router.get("/library/imports")
def imports_page(request: Request) -> Response:
    """The import form, the export links and the member's recent imports."""
    user = _member_or_none(request)
    if user is None:
        return RedirectResponse("/login?next=/library/imports", status_code=303)
    return _render_form(request, user)


@router.post("/library/imports", dependencies=LOGGED_IN)
async def start_import(
    request: Request,
    viewer: CheckedViewer,
    file: Annotated[UploadFile | None, Form()] = None,
    ids: Annotated[str, Form(max_length=200_000)] = "",
    collection: Annotated[str, Form(max_length=20)] = "",
) -> Response:
    """A file (any format the form names), else the ids pasted in the box, into the library and
    the collection chosen (one of the member's, "new" or none); then its progress."""
    user = require_user(viewer)
    if file is not None and file.filename:
        data, filename = await file.read(MAX_IMPORT_BYTES + 1), file.filename
    else:
        data, filename = ids.encode(), "pasted ids"
    ctx = app_context(request)
    try:
        progress = await run_in_threadpool(
            import_library,
            ctx.engine,
            ctx.settings,
            user,
            data,
            filename,
            client_ip(request),
            _choice(collection),
        )
    except (ImportFileError, CollectionNotFound) as exc:
        return _render_form(request, user, error=str(exc), status_code=400)
    except CollectionFull as exc:
        return _render_form(request, user, error=str(exc), status_code=409)
    except ImportRefused as exc:
        links, headers = [("Your imports", "/library/imports")], {"Retry-After": str(exc.retry_after)}
        return render_error(request, 429, "Imports still running", str(exc), links, headers=headers)
    return RedirectResponse(f"/library/imports/{progress.id}", status_code=303)


@router.get("/library/imports/{import_id}")
def import_page(request: Request, import_id: Annotated[int, Path(ge=1, le=MAX_ID)]) -> Response:
    """One import's progress: counts, what is still being fetched, what could not be matched."""
    user = _member_or_none(request)
    if user is None:
        return RedirectResponse(f"/login?next=/library/imports/{import_id}", status_code=303)
    progress = import_progress(app_context(request).engine, user, import_id)
    if progress is None:
        raise PageError(
            404,
            "No such import",
            "You have no import with this number.",
            [("Your imports", "/library/imports")],
        )
    return _render(request, "library_import.html", {"progress": progress, "refresh": REFRESH_SECONDS})


@router.get("/library/export")
def export(request: Request, format: Literal["json", "bibtex", "ris"] = "json") -> Response:
    """The whole library as a file to keep, or to import on another paperboy site."""
    user = _member_or_none(request)
    if user is None:
        return RedirectResponse(f"/login?next=/library/export%3Fformat%3D{format}", status_code=303)
    ctx = app_context(request)
    found = export_library(ctx.engine, ctx.settings.public_url, user, format)
    headers = {**PRIVATE, "Content-Disposition": f'attachment; filename="{found.filename}"'}
    return Response(found.body, media_type=found.media_type, headers=headers)


def _choice(text: str) -> int | str | None:
    """The form's collection: "" (none), "new", or one of the member's ids (checked later)."""
    if text in ("", NEW):
        return text or None
    if not text.isascii() or not text.isdigit() or len(text) > 18:
        raise PageError(
            400, "Bad request", f"collection must be new or a collection's number, not {text[:20]!r}"
        )
    return int(text)


def _member_or_none(request: Request) -> User | None:
    return viewer_of(request).user


def _render_form(
    request: Request, user: User, *, error: str | None = None, status_code: int = 200
) -> Response:
    engine = app_context(request).engine
    context: dict[str, object] = {
        "imports": recent_imports(engine, user, limit=20),
        "collections": collections_of(engine, user),
        "error": error,
        "max_mb": MAX_IMPORT_BYTES // 2**20,
    }
    return _render(request, "library_imports.html", context, status_code)


def _render(request: Request, template: str, context: dict[str, object], status_code: int = 200) -> Response:
    templates = app_context(request).templates
    return templates.TemplateResponse(request, template, context, status_code=status_code, headers=PRIVATE)
