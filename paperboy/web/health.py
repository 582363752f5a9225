"""GET /healthz and /healthz/search: for load balancers and uptime checks (docs/operations.md).

/healthz answers 503 only when the database does not: the site works without search by meaning,
so it only names that state. /healthz/search answers 503 whenever search by meaning is not live
in this process. Neither loads the model or the vectors; the count of papers waiting for
embedding is a few seconds old at most (services/semantic.py).
"""

from __future__ import annotations

import logging

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from sqlalchemy.exc import SQLAlchemyError

from paperboy.services.feed import count_catalogue_papers
from paperboy.services.semantic import SemanticStatus
from paperboy.web.context import app_context

router = APIRouter()
log = logging.getLogger(__name__)
NOT_KEPT = {"Cache-Control": "no-store"}  # a monitor must see now, not a cached answer


# Out of the OpenAPI schema: they are for monitors, and one route answering GET and HEAD would
# give the schema two operations with one id.
@router.api_route("/healthz", methods=["GET", "HEAD"], include_in_schema=False)
def healthz(request: Request) -> JSONResponse:
    context = app_context(request)
    try:
        papers = count_catalogue_papers(context.engine)
    except SQLAlchemyError as exc:
        return _database_error(exc)
    search = context.searcher.meaning.state()
    return JSONResponse({"status": "ok", "papers": papers, "search_by_meaning": search}, headers=NOT_KEPT)


@router.api_route("/healthz/search", methods=["GET", "HEAD"], include_in_schema=False)
def healthz_search(request: Request) -> JSONResponse:
    try:
        status = app_context(request).searcher.meaning.status()
    except SQLAlchemyError as exc:
        return _database_error(exc)
    return JSONResponse(_search_shape(status), status_code=200 if status.live else 503, headers=NOT_KEPT)


def _search_shape(status: SemanticStatus) -> dict[str, object]:
    return {
        "status": "ok" if status.live else "unavailable",
        "state": status.state,
        "model": status.model,
        "vectors_loaded": status.vectors,
        "papers_waiting": status.waiting,
        "last_failure": status.failure,
        "last_failure_at": status.failed_at.isoformat() if status.failed_at else None,
        "retry_in_s": None if status.retry_in_s is None else round(status.retry_in_s, 1),
    }


def _database_error(exc: SQLAlchemyError) -> JSONResponse:
    log.warning("health check: database error: %s", exc)
    return JSONResponse(
        {"status": "error", "detail": "database unavailable"}, status_code=503, headers=NOT_KEPT
    )
