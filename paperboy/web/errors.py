"""Error pages: every error a reader can cause gets an HTML page with the reason, never a traceback."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from html import escape
from http import HTTPStatus

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import HTMLResponse, JSONResponse, Response

from paperboy.services.rate_limits import RateLimited
from paperboy.web.context import app_context

log = logging.getLogger(__name__)


class PageError(Exception):
    """Raised by a handler to answer with an error page: status, a title and the reason."""

    def __init__(
        self, status_code: int, title: str, message: str, links: Sequence[tuple[str, str]] = ()
    ) -> None:
        super().__init__(message)
        self.status_code = status_code
        self.title = title
        self.message = message
        self.links = list(links)  # (label, href) pairs offered as ways on


def wants_json(request: Request) -> bool:
    """Scripts (the vote button's fetch, API clients) get JSON errors; browsers get pages.
    Everything under /api/ answers JSON, whatever the client accepts."""
    if request.url.path.startswith("/api/"):
        return True
    accept = request.headers.get("accept", "")
    return "application/json" in accept and "text/html" not in accept


def render_error(
    request: Request,
    status_code: int,
    title: str,
    message: str,
    links: Sequence[tuple[str, str]] = (),
    headers: Mapping[str, str] | None = None,
) -> Response:
    if wants_json(request):
        code = HTTPStatus(status_code).phrase.lower().replace(" ", "_")
        body = {"error": {"code": code, "title": title, "message": message}}
        return JSONResponse(body, status_code=status_code, headers=headers)
    context = {"status_code": status_code, "title": title, "message": message, "links": list(links)}
    templates = app_context(request).templates
    return templates.TemplateResponse(
        request, "error.html", context, status_code=status_code, headers=headers
    )


async def _page_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, PageError)
    return render_error(request, exc.status_code, exc.title, exc.message, exc.links)


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    status = HTTPStatus(exc.status_code)
    title = "Page not found" if exc.status_code == 404 else status.phrase
    if exc.status_code == 404:
        message = f"There is no page at {request.url.path}."
    elif exc.detail and exc.detail != status.phrase:
        message = str(exc.detail)
    else:
        message = status.description or status.phrase
    return render_error(request, exc.status_code, title, message, headers=exc.headers)


async def _rate_limited(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RateLimited)
    headers = {"Retry-After": str(exc.retry_after)}
    return render_error(request, 429, "Slow down", str(exc), headers=headers)


async def _validation_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    reasons = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
    return render_error(request, 400, "Bad request", reasons or "The request is not valid.")


async def _server_error(request: Request, exc: Exception) -> Response:
    log.exception("error serving %s", request.url.path, exc_info=exc)
    title, message = "Something went wrong", "paperboy could not show this page. The error has been logged."
    try:
        return render_error(request, 500, title, message)
    except Exception:  # the templates themselves may be what failed
        log.exception("error rendering the error page")
        return HTMLResponse(f"<!doctype html><title>{escape(title)}</title><p>{escape(message)}", 500)


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(PageError, _page_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(RateLimited, _rate_limited)
    app.add_exception_handler(Exception, _server_error)
