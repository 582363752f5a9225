"""Error pages: every error a reader can cause gets an HTML page with the reason, never a traceback.

Under /api/ every error is JSON with the reason also in an `X-Error-Message` header (and the code
in `X-Error-Code`), which huggingface_hub shows in its exceptions. This site's own /api/v1 writes
`{"error": {"code", "message", "parameter"?}}`; Hugging Face's routes (web/api/hf_paths.py) write
huggingface.co's `{"error": "<message>"}`, plus `code` and `parameter` beside it, so that its
clients show the sentence rather than a dict.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping, Sequence
from html import escape
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import HTMLResponse, JSONResponse, Response

from paperboy.services.rate_limits import RateLimited
from paperboy.web.api.models import ErrorBody
from paperboy.web.context import app_context
from paperboy.web.api.hf_paths import is_hf_path

log = logging.getLogger(__name__)
_MAX_HEADER_MESSAGE = 500
_UNSAFE_IN_HEADER = re.compile(r"[\x00-\x1f\x7f]+")


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


class ApiError(Exception):
    """Raised by an API handler: answered as {"error": {"code", "message", "parameter"?}}."""

    def __init__(self, status_code: int, code: str, message: str, parameter: str | None = None) -> None:
        super().__init__(message)
        self.status_code = status_code
        self.code = code
        self.message = message
        self.parameter = parameter


class HfErrorBody(BaseModel):
    """An error on Hugging Face's routes, as huggingface.co writes one."""

    error: str = Field(description="What went wrong, as a sentence (also in X-Error-Message).")
    code: str = Field(description="not_found, invalid_parameter, invalid_query, ...")
    parameter: str | None = Field(None, description="The parameter at fault, when one is.")


def _error_doc(description: str, model: type[BaseModel] = ErrorBody) -> dict[str, Any]:
    return {"model": model, "description": description}


_ERROR_REASONS: dict[int, str] = {
    400: "Refused before any handler: a NUL character in the address or body (web/request_guard.py).",
    401: "No credentials where some are needed, or an unknown or revoked token.",
    403: "The token lacks the scope, or the account may not do this.",
    404: "No such paper, page or route.",
    422: "A parameter or body that cannot be used; `parameter` names it.",
    429: "Too many requests: wait the Retry-After seconds.",
}
# The error answers every API route may give, for /openapi.json (422 replaces FastAPI's own shape).
API_ERRORS: dict[int | str, dict[str, Any]] = {s: _error_doc(r) for s, r in _ERROR_REASONS.items()}
# Hugging Face's routes: no 401 or 403 (a token that is not this site's is ignored there).
HF_API_ERRORS: dict[int | str, dict[str, Any]] = {
    s: _error_doc(r, HfErrorBody) for s, r in _ERROR_REASONS.items() if s not in (401, 403)
}


def api_error_json(
    path: str,
    status_code: int,
    code: str,
    message: str,
    *,
    parameter: str | None = None,
    title: str | None = None,
    headers: Mapping[str, str] | None = None,
) -> Response:
    """The one error answer of the JSON API (and of scripts asking for JSON): the shape of the
    route's API, and the reason in X-Error-Message / X-Error-Code."""
    body: dict[str, Any]
    if is_hf_path(path):
        body = {"error": message, "code": code} | ({"parameter": parameter} if parameter else {})
    else:
        error = {"code": code} | ({"title": title} if title else {}) | {"message": message}
        body = {"error": error | ({"parameter": parameter} if parameter else {})}
    extra = {"X-Error-Code": code, "X-Error-Message": header_text(message)}
    return JSONResponse(body, status_code=status_code, headers={**(headers or {}), **extra})


def header_text(message: str) -> str:
    """A message as a header value: one line of ASCII (non-ASCII escaped), at most 500 chars."""
    line = _UNSAFE_IN_HEADER.sub(" ", message).strip()
    line = line.encode("ascii", "backslashreplace").decode("ascii")
    return line if len(line) <= _MAX_HEADER_MESSAGE else line[: _MAX_HEADER_MESSAGE - 3] + "..."


def api_error_response(
    exc: ApiError, headers: Mapping[str, str] | None = None, *, path: str = "/api/v1"
) -> Response:
    return api_error_json(
        path, exc.status_code, exc.code, exc.message, parameter=exc.parameter, headers=headers
    )


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
    return render_error(request, 400, "Bad request", reasons or "The request is not valid.")


def _where(location: Sequence[Any]) -> str:
    """("query", "limit") -> "limit"; ("body", "paper") -> "paper"; a whole body -> "body"."""
    parts = [str(part) for part in location[1:]] or [str(part) for part in location]
    return ".".join(parts)


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
    app.add_exception_handler(ApiError, _api_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(RateLimited, _rate_limited)
    app.add_exception_handler(Exception, _server_error)
