"""The JSON API's one error path: `ApiError`, raised by handlers, and `api_error_json`, which
writes every JSON error (the API's, and the site's errors for scripts that ask for JSON).

Every error carries its reason in an `X-Error-Message` header (and the code in `X-Error-Code`),
which huggingface_hub shows in its exceptions. This site's own /api/v1 writes
`{"error": {"code", "message", "parameter"?}}`; Hugging Face's routes (web/api/hf_paths.py) write
huggingface.co's `{"error": "<message>"}`, plus `code` and `parameter` beside it, so that its
clients show the sentence rather than a dict.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel
from starlette.responses import JSONResponse, Response

from paperboy.services.search import SearchRequestError
from paperboy.web.api.hf_paths import is_hf_path
from paperboy.web.api.models import ErrorBody, HfErrorBody
from paperboy.web.search_form import InvalidParameter

_MAX_HEADER_MESSAGE = 500
_UNSAFE_IN_HEADER = re.compile(r"[\x00-\x1f\x7f]+")


class ApiError(Exception):
    """Raised by an API handler: answered as {"error": {"code", "message", "parameter"?}}."""

    def __init__(self, status_code: int, code: str, message: str, parameter: str | None = None) -> None:
        super().__init__(message)
        self.status_code = status_code
        self.code = code
        self.message = message
        self.parameter = parameter


def error_doc(description: str, model: type[BaseModel] = ErrorBody) -> dict[str, Any]:
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
API_ERRORS: dict[int | str, dict[str, Any]] = {s: error_doc(r) for s, r in _ERROR_REASONS.items()}
# Hugging Face's routes: no 401 or 403 (a token that is not this site's is ignored there).
HF_API_ERRORS: dict[int | str, dict[str, Any]] = {
    s: error_doc(r, HfErrorBody) for s, r in _ERROR_REASONS.items() if s not in (401, 403)
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


def invalid(parameter: str, message: str) -> ApiError:
    """A parameter that cannot be used: 422 invalid_parameter, naming it."""
    return ApiError(422, "invalid_parameter", message, parameter)


def search_error(exc: SearchRequestError) -> ApiError:
    """A search that cannot run: the parameter at fault, or the query (the query language's
    reason, which a schema cannot state)."""
    if isinstance(exc, InvalidParameter):
        return invalid(exc.name, str(exc))
    return ApiError(422, "invalid_query", str(exc), "q")
