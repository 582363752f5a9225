"""Error pages: every error a reader can cause gets an HTML page with the reason, never a traceback.

Under /api/, and for scripts that ask for JSON, the same errors are JSON, written by the API's one
error path (web/api/errors.py). The handlers of every error, the API's included, are installed here.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping, Sequence
from functools import partial
from html import escape
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import HTMLResponse, Response

from paperboy.services.rate_limits import RateLimited
from paperboy.web.api.errors import ApiError, api_error_json, api_error_response
from paperboy.web.context import app_context

log = logging.getLogger(__name__)
_PARAMETER = re.compile(r"\{[^}]*\}")


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
        path = request.url.path
        return api_error_json(path, status_code, code, message, title=title, headers=headers)
    context = {"status_code": status_code, "title": title, "message": message, "links": list(links)}
    templates = app_context(request).templates
    return templates.TemplateResponse(
        request, "error.html", context, status_code=status_code, headers=headers
    )


async def _off_the_loop(request: Request, *args: Any, **kwargs: Any) -> Response:
    """render_error in the thread pool: a page's header loads the session's viewer, a query that
    may also wait for the database's write lock (web/auth.py), which the event loop must not."""
    return await run_in_threadpool(partial(render_error, request, *args, **kwargs))


async def _page_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, PageError)
    return await _off_the_loop(request, exc.status_code, exc.title, exc.message, exc.links)


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
    headers = exc.headers
    allowed = allowed_methods(request) if exc.status_code == 405 else []
    if allowed:
        headers = {**(headers or {}), "Allow": ", ".join(allowed)}
    return await _off_the_loop(request, exc.status_code, title, message, headers=headers)


def allowed_methods(request: Request) -> list[str]:
    """The methods /openapi.json documents for this path. Starlette's 405 names only the first
    route that matched the path, while several may share it (GET and POST of
    /api/v1/papers/{id}/comments live in two routers); of the documented paths that match, those
    that name it most exactly count, so that /papers/{id}/vote is not also offered the GET of
    /papers/{id}, whose id may hold slashes. Empty for a path the API does not document."""
    path = request.scope["path"]
    paths: dict[str, dict[str, Any]] = request.app.openapi()["paths"]
    matching = [template for template in paths if _template_regex(template).fullmatch(path)]
    exact = max((len(_PARAMETER.sub("", template)) for template in matching), default=0)
    return sorted(
        method.upper()
        for template in matching
        if len(_PARAMETER.sub("", template)) == exact
        for method in paths[template]
    )


def _template_regex(template: str) -> re.Pattern[str]:
    pieces = _PARAMETER.split(template)
    return re.compile(".+".join(re.escape(piece) for piece in pieces))


async def _rate_limited(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RateLimited)
    headers = {"Retry-After": str(exc.retry_after)}
    return await _off_the_loop(request, 429, "Slow down", str(exc), headers=headers)


async def _api_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ApiError)
    return api_error_response(exc, path=request.url.path)


async def _validation_error(request: Request, exc: Exception) -> Response:
    """400 pages for forms; 422 with the first parameter at fault for the API."""
    assert isinstance(exc, RequestValidationError)
    errors = list(exc.errors())
    if request.url.path.startswith("/api/"):
        parameter = _where(errors[0]["loc"]) if errors else None
        message = "; ".join(f"{_where(e['loc'])}: {e['msg']}" for e in errors) or "The request is not valid."
        error = ApiError(422, "invalid_parameter", message, parameter)
        return api_error_response(error, path=request.url.path)
    reasons = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in errors)
    return await _off_the_loop(request, 400, "Bad request", reasons or "The request is not valid.")


def _where(location: Sequence[Any]) -> str:
    """("query", "limit") -> "limit"; ("body", "paper") -> "paper"; a whole body -> "body"."""
    parts = [str(part) for part in location[1:]] or [str(part) for part in location]
    return ".".join(parts)


async def _server_error(request: Request, exc: Exception) -> Response:
    log.exception("error serving %s", request.url.path, exc_info=exc)
    title, message = "Something went wrong", "paperboy could not show this page. The error has been logged."
    try:
        return await _off_the_loop(request, 500, title, message)
    except Exception:  # the templates themselves may be what failed
        log.exception("error rendering the error page")
        return HTMLResponse(f"<!doctype html><title>{escape(title)}</title><p>{escape(message)}", 500)


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(PageError, _page_error)
    app.add_exception_handler(ApiError, _api_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(RateLimited, _rate_limited)
    app.add_exception_handler(Exception, _server_error)
