"""GET /healthz: for load balancers and uptime checks; JSON, answers 503 when the database does not."""

from __future__ import annotations

import logging

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from sqlalchemy.exc import SQLAlchemyError

from paperboy.services.feed import count_catalogue_papers
from paperboy.web.context import app_context

router = APIRouter()
log = logging.getLogger(__name__)


# Out of the OpenAPI schema: it is for monitors, and one route answering GET and HEAD would
# give the schema two operations with one id.
@router.api_route("/healthz", methods=["GET", "HEAD"], include_in_schema=False)
def healthz(request: Request) -> JSONResponse:
    try:
        papers = count_catalogue_papers(app_context(request).engine)
    except SQLAlchemyError as exc:
        log.warning("health check: database error: %s", exc)
        return JSONResponse({"status": "error", "detail": "database unavailable"}, status_code=503)
    return JSONResponse({"status": "ok", "papers": papers})
