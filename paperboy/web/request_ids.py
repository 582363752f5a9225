"""Each request's id: taken from X-Request-ID when the `trust_request_id` setting says a proxy
sets it, else made here; sent back in the answer's X-Request-ID header and set in
`paperboy.logs.REQUEST_ID` while the request is answered, so every log line of it carries it.
With `log_format = json`, one access line per request too (`paperboy.access`)."""

from __future__ import annotations

import logging
import os
import re
import time

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from paperboy.logs import ACCESS_LOGGER, REQUEST_ID
from paperboy.web.route_names import route_name
from paperboy.web.warm_pages import WARMING

HEADER = b"x-request-id"
# What an id from a proxy may look like: nginx's $request_id (32 hex), UUIDs, and the like.
_VALID = re.compile(rb"[A-Za-z0-9._-]{1,128}")
access_log = logging.getLogger(ACCESS_LOGGER)


def request_id_from(scope: Scope, trusted: bool) -> str:
    if trusted:
        for name, value in scope["headers"]:
            if name == HEADER and _VALID.fullmatch(value):
                return str(value.decode("ascii"))
    return os.urandom(16).hex()  # as random as uuid4, without building a UUID


class RequestIds:
    def __init__(self, app: ASGIApp, *, trust_header: bool) -> None:
        self.app = app
        self.trust_header = trust_header

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = request_id_from(scope, self.trust_header)
        header = (HEADER, request_id.encode("ascii"))
        token = REQUEST_ID.set(request_id)
        started = time.perf_counter()
        status = 500  # what the client gets when the app fails before it answers

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message = {**message, "headers": [*message.get("headers", ()), header]}
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            if access_log.isEnabledFor(logging.INFO) and WARMING not in scope:
                _log_access(scope, status, time.perf_counter() - started)
            REQUEST_ID.reset(token)


def _log_access(scope: Scope, status: int, seconds: float) -> None:
    client = scope.get("client")
    access_log.info(
        "%s %s %d",
        scope["method"],
        scope["path"],
        status,
        extra={
            "method": scope["method"],
            "path": scope["path"],
            "route": route_name(scope),
            "status": status,
            "duration_ms": round(seconds * 1000, 2),
            "client": client[0] if client else None,
        },
    )
