"""Refuses requests no page or form can use, before any handler sees them: bodies over a size
limit (413) and NUL characters in the path, query or a form (400; PostgreSQL cannot store NUL in
text, and no title, comment or name needs one)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from paperboy.web.errors import render_error

MAX_BODY_BYTES = 1_048_576  # a comment is at most 10,000 characters; forms are far smaller


class RequestGuard:
    """`larger_bodies`: paths (exactly) that may send more than `max_body` (library imports'
    uploads), with their own limit."""

    def __init__(
        self, app: ASGIApp, *, max_body: int = MAX_BODY_BYTES, larger_bodies: dict[str, int] | None = None
    ) -> None:
        self.app = app
        self.max_body = max_body
        self.larger_bodies = larger_bodies or {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if _has_nul(scope["path"].encode("utf-8", "surrogateescape")) or _has_nul(scope["query_string"]):
            await self._refuse(scope, send, 400, "The address contains a NUL character.")
            return
        if scope["method"] not in ("POST", "PUT", "PATCH"):
            await self.app(scope, receive, send)
            return
        body = await self._read_body(scope, receive, send)
        if body is None:
            return
        if _is_form(scope) and _has_nul(body):
            await self._refuse(scope, send, 400, "The form contains a NUL character.")
            return
        await self.app(scope, _replay(body), send)

    async def _read_body(self, scope: Scope, receive: Receive, send: Send) -> bytes | None:
        limit = self.larger_bodies.get(scope["path"], self.max_body)
        declared = dict(scope["headers"]).get(b"content-length", b"0")
        if declared.isdigit() and int(declared) > limit:
            await self._refuse(scope, send, 413, f"The request is larger than {limit // 1024} KiB.")
            return None
        chunks, size = [], 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return None
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > limit:
                await self._refuse(scope, send, 413, f"The request is larger than {limit // 1024} KiB.")
                return None
            chunks.append(chunk)
            if not message.get("more_body", False):
                return b"".join(chunks)

    async def _refuse(self, scope: Scope, send: Send, status: int, message: str) -> None:
        title = "Request too large" if status == 413 else "Bad request"
        response = render_error(Request(scope), status, title, message)
        await response(scope, _no_receive, send)


def _has_nul(data: bytes) -> bool:
    return b"\x00" in data or b"%00" in data


def _is_form(scope: Scope) -> bool:
    content_type: bytes = dict(scope["headers"]).get(b"content-type", b"")
    return content_type.startswith((b"application/x-www-form-urlencoded", b"multipart/form-data", b"text/"))


def _replay(body: bytes) -> Receive:
    sent = False

    async def receive() -> Message:
        nonlocal sent
        if sent:
            return {"type": "http.disconnect"}
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    return receive


async def _no_receive() -> Message:
    return {"type": "http.disconnect"}
