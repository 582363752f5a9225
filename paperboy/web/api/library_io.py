"""The JSON API's library imports and export: `POST /api/v1/me/library/imports` (a file as
multipart `file`, or `{"ids": [...]}`; scope `library`), `GET /api/v1/me/library/imports/{id}`
and `GET /api/v1/me/library/export?format=json|bibtex|ris` (scope `read`). The same services as
the pages (web/library_io.py); another account's import is a 404.
"""

from __future__ import annotations

import re
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request
from pydantic import ValidationError
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile
from starlette.responses import JSONResponse, Response

from paperboy.domain.library_import import MAX_IMPORT_BYTES, ImportFileError
from paperboy.services.collections import CollectionFull, CollectionNotFound
from paperboy.services.library_export import FORMATS, export_library
from paperboy.services.library_imports import (
    ImportProgress,
    ImportRefused,
    import_ids,
    import_library,
    import_progress,
)
from paperboy.web.api.account import Keeper, Reader
from paperboy.web.api.errors import API_ERRORS, ApiError, api_error_response, error_doc, invalid
from paperboy.web.api.models import MAX_ID, LibraryImportIn, LibraryImportOut
from paperboy.web.api.params import choice_schema, one_of
from paperboy.web.api.shapes import iso
from paperboy.web.auth import client_ip
from paperboy.web.context import app_context

router = APIRouter(prefix="/api/v1/me/library", tags=["account"], responses=API_ERRORS)
_FILE_SCHEMA = {
    "type": "object",
    "required": ["file"],
    "additionalProperties": False,
    "properties": {
        "collection": {
            "type": "string",
            "pattern": "^(new|[1-9][0-9]{0,15})$",
            "description": 'Also put the papers in this collection of the account\'s, or "new": one named '
            "after the file (a paperboy library file brings its own).",
        },
        "file": {
            # What an import reads is UTF-8 text without NUL (a form with NUL is refused before
            # any handler: web/request_guard.py), whatever the file's name says.
            "type": "string",
            "pattern": "^[^\\x00]*$",
            "description": "The file to import: BibTeX, RIS, CSL JSON, Zotero CSV, a paperboy library "
            "export or arXiv ids one a line; UTF-8, at most 2 MB and 5,000 entries.",
        },
    },
}
_IMPORT_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {"schema": LibraryImportIn.model_json_schema()},
            "multipart/form-data": {"schema": _FILE_SCHEMA},
        },
    }
}
_EXPORT_TYPES: dict[str, dict[str, object]] = {media.split(";")[0]: {} for media, _ in FORMATS.values()}
PRIVATE = {"Cache-Control": "private, no-store"}
_CHOICE = re.compile(r"new|[1-9][0-9]{0,15}")


@router.post(
    "/imports",
    response_model=LibraryImportOut,
    status_code=202,
    summary="Import into the library",
    openapi_extra=_IMPORT_BODY,
    responses={
        404: error_doc("The account has no such collection."),
        409: error_doc("The collection, or the account's collections, would be over their limit."),
        413: error_doc("The file is larger than the upload limit."),
        429: error_doc("Too many imports started, or three still running."),
    },
)
async def create_import(request: Request, user: Keeper) -> Response:
    """A BibTeX, RIS, CSL JSON, Zotero CSV, paperboy library or text file of ids (multipart
    `file`), or `{"ids": [...]}`. Papers this site holds are saved at once; the others are
    fetched from arXiv in the background (follow `url`, or ask for the import again). Scope: library."""
    ctx, ip = app_context(request), client_ip(request)
    try:
        if request.headers.get("content-type", "").startswith("multipart/form-data"):
            data, filename, choice = await _uploaded(request)
            progress = await run_in_threadpool(
                import_library, ctx.engine, ctx.settings, user, data, filename, ip, choice
            )
        else:
            body = _body(await request.body())
            progress = await run_in_threadpool(
                import_ids, ctx.engine, ctx.settings, user, body.ids, ip, body.collection
            )
    except ImportFileError as exc:
        raise ApiError(422, "unreadable_import", str(exc), "file") from None
    except CollectionNotFound as exc:
        raise ApiError(404, "not_found", str(exc), "collection") from None
    except CollectionFull as exc:
        raise ApiError(409, "collection_full", str(exc), "collection") from None
    except ImportRefused as exc:
        busy = ApiError(429, "imports_running", str(exc))
        return api_error_response(busy, {"Retry-After": str(exc.retry_after)})
    return JSONResponse(_import_body(progress, ctx.settings.public_url), status_code=202)


@router.get("/imports/{import_id}", response_model=LibraryImportOut, summary="An import's progress")
def get_import(request: Request, import_id: Annotated[int, Path(ge=1, le=MAX_ID)], user: Reader) -> Response:
    """Counts, status and what could not be matched. Scope: read."""
    ctx = app_context(request)
    progress = import_progress(ctx.engine, user, import_id)
    if progress is None:
        raise ApiError(404, "not_found", f"This account has no import {import_id}.")
    return JSONResponse(_import_body(progress, ctx.settings.public_url), headers=PRIVATE)


@router.get(
    "/export",
    response_class=Response,
    summary="Export the whole library",
    responses={200: {"description": "The library as a file.", "content": _EXPORT_TYPES}},
)
def export(
    request: Request,
    user: Reader,
    format: Annotated[
        str | None, choice_schema(tuple(FORMATS)), Query(description="json (default), bibtex or ris.")
    ] = None,
) -> Response:
    """Every saved paper, the latest saved first: paperboy's JSON (import it back here or on
    another paperboy site), BibTeX or RIS. Scope: read."""
    chosen = one_of("format", format, tuple(FORMATS), default="json")
    ctx = app_context(request)
    found = export_library(ctx.engine, ctx.settings.public_url, user, chosen)
    headers = {**PRIVATE, "Content-Disposition": f'attachment; filename="{found.filename}"'}
    return Response(found.body, media_type=found.media_type, headers=headers)


async def _uploaded(request: Request) -> tuple[bytes, str, int | str | None]:
    form = await request.form()
    upload, collection = form.get("file"), form.get("collection") or None
    if collection is not None and not (isinstance(collection, str) and _CHOICE.fullmatch(collection)):
        raise invalid("collection", 'collection must be "new" or the number of one of your collections.')
    choice = int(collection) if collection and collection.isdigit() else collection
    if isinstance(upload, str):  # the text itself as the field (no file name)
        return upload.encode(), "upload", choice
    if not isinstance(upload, UploadFile):
        raise invalid("file", "Send the file as the multipart field `file`.")
    return await upload.read(MAX_IMPORT_BYTES + 1), upload.filename or "upload", choice


def _body(body: bytes) -> LibraryImportIn:
    try:
        parsed = LibraryImportIn.model_validate_json(body)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or "body"
        raise invalid(where.split(".")[0], f"{where}: {first['msg']}") from None
    if any(not text.replace("\x00", "").strip() for text in parsed.ids):  # the schema's NOT_BLANK
        raise invalid("ids", "Every item of ids must hold an id or a link, not only spaces.")
    return parsed


def _import_body(progress: ImportProgress, public_url: str) -> dict[str, object]:
    return {
        "id": progress.id,
        "collection_id": progress.collection_id,
        "url": f"{public_url}/library/imports/{progress.id}",
        "kind": progress.kind,
        "filename": progress.filename,
        "status": progress.status,
        "total": progress.total,
        "matched": progress.matched,
        "fetched": progress.fetched,
        "waiting": progress.waiting,
        "unmatched": progress.unmatched,
        "message": progress.message,
        "created_at": iso(progress.created_at),
        "finished_at": iso(progress.finished_at) if progress.finished_at else None,
    }
