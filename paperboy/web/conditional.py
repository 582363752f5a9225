"""Conditional GETs for the JSON API and the feeds: a strong ETag computed from the body, and a
304 Not Modified without a body when the client's If-None-Match names it.

The ETag is a hash of the exact bytes, so it changes whenever anything a client would see
changes (a vote count, a new paper) and never otherwise. Responses say `Vary: Authorization,
Cookie` because what a token or a session sees may differ from what an anonymous client sees.
"""

from __future__ import annotations

import hashlib

import orjson
from fastapi import Request
from starlette.responses import Response

JSON = "application/json"
VARY = "Authorization, Cookie"


def etag_of(body: bytes) -> str:
    return '"' + hashlib.blake2b(body, digest_size=16).hexdigest() + '"'


def conditional(
    request: Request,
    body: bytes,
    media_type: str,
    *,
    max_age: int = 60,
    headers: dict[str, str] | None = None,
) -> Response:
    """`body` with its ETag, or a 304 when the client already holds exactly these bytes."""
    tag = etag_of(body)
    sent = {
        "ETag": tag,
        "Cache-Control": f"max-age={max_age}, must-revalidate",
        "Vary": VARY,
        **(headers or {}),
    }
    if _matches(request.headers.get("if-none-match"), tag):
        return Response(status_code=304, headers=sent)
    return Response(body, media_type=media_type, headers=sent)


def conditional_json(
    request: Request, payload: object, *, max_age: int = 60, headers: dict[str, str] | None = None
) -> Response:
    return conditional(request, orjson.dumps(payload), JSON, max_age=max_age, headers=headers)


def json_answer(payload: object, status_code: int = 200) -> Response:
    """JSON that no client keeps: search results, each a new question."""
    return Response(orjson.dumps(payload), status_code=status_code, media_type=JSON)


def _matches(header: str | None, tag: str) -> bool:
    """If-None-Match: `*`, or a list of tags; weak comparison (W/ prefixes ignored), RFC 9110."""
    if not header:
        return False
    if header.strip() == "*":
        return True
    return any(candidate.strip().removeprefix("W/") == tag for candidate in header.split(","))
