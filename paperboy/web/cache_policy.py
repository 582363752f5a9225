"""Who may keep an answer: personal answers are never left to a shared cache (a proxy, a CDN).

- A request carrying credentials (the session cookie, or any Authorization header) gets a
  personal answer, whatever its route or status: its Cache-Control becomes `private` (`private,
  no-store` when the handler set none). A handler's public freshness (the API's and the feeds'
  `max-age=60, must-revalidate`, which RFC 9111 section 3.5 lets a shared cache store even for an
  Authorization request) is replaced, not kept: `public`, `s-maxage` and `proxy-revalidate` go,
  the rest stays, so a token's owner can still revalidate with the ETag.
- An answer that sets a cookie (the anonymous CSRF cookie of the login form) is personal too.
- Every dynamic answer says what it depends on: `Vary: Cookie` (a page shows who is logged in),
  and `Authorization` too under /api/ (a token sees its own account). Static files vary on neither.

Decided from the request as sent, not from whether its credentials were valid: an expired
session gets an anonymous page, but it is still not the anonymous page a shared cache keeps.
"""

from __future__ import annotations

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from paperboy.web.auth import has_session_cookie

_PUBLIC_ONLY = {"public", "s-maxage", "proxy-revalidate", "private"}  # "private" is put first again
_STATIC = "/static/"


class CachePolicy:
    """ASGI middleware: outside the page cache, so that its hits are covered too."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith(_STATIC):
            await self.app(scope, receive, send)
            return
        personal = has_credentials(scope)
        vary = ("Authorization", "Cookie") if scope["path"].startswith("/api/") else ("Cookie",)

        async def marked(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                if personal or "set-cookie" in headers:
                    headers["cache-control"] = private_cache_control(headers.get("cache-control"))
                merge_vary(headers, vary)
            await send(message)

        await self.app(scope, receive, marked)


def has_credentials(scope: Scope) -> bool:
    """The session cookie, or an Authorization header (on any path: RFC 9111 treats both alike)."""
    return has_session_cookie(scope) or any(name == b"authorization" for name, _ in scope["headers"])


def private_cache_control(value: str | None) -> str:
    """`value` made private: shared-cache directives dropped, `no-store` when nothing else is left."""
    directives = [part.strip() for part in (value or "").split(",") if part.strip()]
    kept = [d for d in directives if d.split("=", 1)[0].strip().lower() not in _PUBLIC_ONLY]
    return ", ".join(["private", *(kept or ["no-store"])])


def merge_vary(headers: MutableHeaders, names: tuple[str, ...]) -> None:
    """One Vary header holding every name the answer already varied on, and `names`."""
    current: dict[str, str] = {}  # lower-cased name -> as first written
    for value in [*headers.getlist("vary"), *names]:
        for part in value.split(","):
            current.setdefault(part.strip().lower(), part.strip())
    current.pop("", None)
    del headers["vary"]
    headers["vary"] = "*" if "*" in current else ", ".join(current.values())
