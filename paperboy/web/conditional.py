"""Conditional GETs for the JSON API and the feeds: a strong ETag, and a 304 Not Modified without
a body when the client's If-None-Match names it.

Two kinds of ETag. By default, a hash of the exact bytes: it changes whenever anything a client
would see changes (a vote count, a new paper) and never otherwise, but the answer must be built
to know it. Where an answer is a function of the catalogue and community versions
(storage/sync_state.page_versions), the request and the code alone, its caller derives the tag
from those (`derived_etag`) and checks it with `not_modified` *before* building anything: a 304
then costs one small query. Such a tag changes with every write of the catalogue or the counts,
even one this answer does not show (a spare 200, never a stale 304). Responses say `Vary:
Authorization, Cookie` because what a token or a session sees may differ from what an anonymous
client sees.
"""

from __future__ import annotations

import hashlib

import orjson
from fastapi import Request
from starlette.responses import Response

from paperboy import __version__

JSON = "application/json"
VARY = "Authorization, Cookie"
# Part of every derived ETag: raise it when the bytes an unchanged catalogue gives change (a new
# field, another layout), so that clients holding the old bytes are not told they are current.
RENDERING = "1"


def etag_of(body: bytes) -> str:
    return '"' + hashlib.blake2b(body, digest_size=16).hexdigest() + '"'


def derived_etag(*parts: str) -> str:
    """A strong ETag for the answer that `parts` determine (the versions it was built from, the
    request, the settings it shows), known before the answer is built. Distinct from every
    body-hash tag (`etag_of`)."""
    key = "\x1f".join((__version__, RENDERING, *parts)).encode()
    return '"v' + hashlib.blake2b(key, digest_size=16).hexdigest() + '"'


def not_modified(
    request: Request, tag: str, *, max_age: int = 60, headers: dict[str, str] | None = None
) -> Response | None:
    """A 304 when the client's If-None-Match names `tag`, else None (build the answer)."""
    if not _matches(request.headers.get("if-none-match"), tag):
        return None
    return Response(status_code=304, headers=conditional_headers(tag, headers, max_age=max_age))


def conditional(
    request: Request,
    body: bytes,
    media_type: str,
    *,
    max_age: int = 60,
    headers: dict[str, str] | None = None,
    etag: str | None = None,
) -> Response:
    """`body` with its ETag (`etag` when the caller derived one, else the body's hash), or a 304
    when the client already holds exactly these bytes."""
    tag = etag or etag_of(body)
    sent = conditional_headers(tag, headers, max_age=max_age)
    if _matches(request.headers.get("if-none-match"), tag):
        return Response(status_code=304, headers=sent)
    return Response(body, media_type=media_type, headers=sent)


def conditional_json(
    request: Request, payload: object, *, max_age: int = 60, headers: dict[str, str] | None = None
) -> Response:
    return conditional(request, orjson.dumps(payload), JSON, max_age=max_age, headers=headers)


def conditional_headers(
    tag: str, headers: dict[str, str] | None = None, *, max_age: int = 60
) -> dict[str, str]:
    """What every answer of a conditional GET carries (a 304 too), and `headers`."""
    return {
        "ETag": tag,
        "Cache-Control": f"max-age={max_age}, must-revalidate",
        "Vary": VARY,
        **(headers or {}),
    }


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
