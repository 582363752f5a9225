"""GET /healthz and /healthz/search: for load balancers and uptime checks (docs/operations.md).

/healthz answers 503 only when the database does not: the site works without search by meaning,
so it only names that state. /healthz/search answers 503 whenever search by meaning is not live
in this process. Neither loads the model or the vectors; the count of papers waiting for
embedding is a few seconds old at most (services/semantic.py). Both also say where the keyword
index stands (services/keyword_ranker.py): "building" or "behind" is not an outage, since the
database's full-text index answers meanwhile, so it does not change the status code.
"""

from __future__ import annotations

import logging

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from sqlalchemy.exc import SQLAlchemyError

from paperboy.services.feed import count_catalogue_papers
from paperboy.services.keyword_ranker import KeywordRanker
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
    keywords = context.searcher.keywords
    body = {
        "status": "ok",
        "papers": papers,
        "search_by_meaning": search,
        "keyword_index": keywords.status().state if keywords is not None else None,
    }
    return JSONResponse(body, headers=NOT_KEPT)


@router.api_route("/healthz/search", methods=["GET", "HEAD"], include_in_schema=False)
def healthz_search(request: Request) -> JSONResponse:
    searcher = app_context(request).searcher
    try:
        status = searcher.meaning.status()
    except SQLAlchemyError as exc:
        return _database_error(exc)
    body = _search_shape(status) | {"keyword_index": _keyword_shape(searcher.keywords)}
    return JSONResponse(body, status_code=200 if status.live else 503, headers=NOT_KEPT)


def _keyword_shape(keywords: KeywordRanker | None) -> dict[str, object] | None:
    if keywords is None:
        return None
    status = keywords.status()
    return {
        "state": status.state,
        "papers": status.papers,
        "writer": status.writer,
        "last_failure": status.failure,
    }


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
