"""Rate limits of the JSON API (/api/…), counted in this process's memory.

Every /api/ request counts against one budget: its API token's or session's (`rate_limit_api`),
or its IP address's when it carries neither (`rate_limit_api_ip`). The budget is a fixed window;
past it the answer is 429 with Retry-After. Every /api/ answer carries the IETF draft headers
(draft-ietf-httpapi-ratelimit-headers): `RateLimit-Policy: 5000;w=3600` and
`RateLimit: limit=5000, remaining=4997, reset=1234`.

Why memory and not the database's shared counters (services/rate_limits.py, used for votes and
sign-ups): a counter write per GET would make every API read a write transaction, and on SQLite
writers take turns, so reads would queue behind each other. Measured on one core: about 6 µs
per request here, against about 0.7 to 1 ms for a counter's write transaction on SQLite, one
at a time. The price: with `serve --workers N` each worker counts alone, so a client may get up
to N times the budget; docs/api.md says so. The middleware sits outside the
page cache, so cached answers count too. Credentials are keyed by a hash of the token or
session cookie, without a database look-up (an unknown token is refused by the viewer's check).
"""

from __future__ import annotations

import hashlib
import math
import time
from collections.abc import Callable
from functools import lru_cache

import orjson
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from paperboy.config import Settings
from paperboy.domain.rates import Rate, parse_rate
from paperboy.web.auth import bearer_token, ip_key, session_token

_MAX_KEYS = 100_000  # past this many clients in one window, ended windows are swept out


class ApiRateLimit:
    """ASGI middleware for paths under /api/; `clock` fakes time in tests."""

    def __init__(self, app: ASGIApp, *, settings: Settings, clock: Callable[[], float] = time.time) -> None:
        self.app = app
        self.personal = parse_rate(settings.rate_limit_api)
        self.anonymous = parse_rate(settings.rate_limit_api_ip)
        self.clock = clock
        self.windows: dict[str, tuple[int, int]] = {}  # key -> (window start, hits)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith("/api/"):
            await self.app(scope, receive, send)
            return
        key, rate = self._budget(scope)
        now = self.clock()
        hits, reset = self._count(key, rate, now)
        remaining = max(0, rate.limit - hits)
        headers = [
            (b"ratelimit-policy", f"{rate.limit};w={rate.seconds}".encode()),
            (b"ratelimit", f"limit={rate.limit}, remaining={remaining}, reset={reset}".encode()),
        ]
        if hits > rate.limit:
            await _refuse(send, headers, reset)
            return

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", ()), *headers]
            await send(message)

        await self.app(scope, receive, with_headers)

    def _budget(self, scope: Scope) -> tuple[str, Rate]:
        credential = bearer_token(scope)
        if credential is None:
            credential = session_token(scope)
        if credential:
            return "who:" + hashlib.blake2b(credential.encode(), digest_size=12).hexdigest(), self.personal
        client = scope.get("client")
        return "ip:" + _address(client[0] if client else "unknown"), self.anonymous

    def _count(self, key: str, rate: Rate, now: float) -> tuple[int, int]:
        """Count one request; (hits in the window so far, seconds until the window ends)."""
        start = int(now // rate.seconds * rate.seconds)
        window = self.windows.get(key)
        hits = window[1] + 1 if window is not None and window[0] == start else 1
        if window is None and len(self.windows) >= _MAX_KEYS:
            self._sweep(now)
        self.windows[key] = (start, hits)
        return hits, max(1, math.ceil(start + rate.seconds - now))

    def _sweep(self, now: float) -> None:
        longest = max(self.personal.seconds, self.anonymous.seconds)
        self.windows = {k: v for k, v in self.windows.items() if v[0] + longest > now}


@lru_cache(maxsize=4096)
def _address(host: str) -> str:
    """The client's address as rate limits count it (IPv6 by /64), remembered: parsing costs more
    than the rest of the limiter."""
    return ip_key(host)


async def _refuse(send: Send, headers: list[tuple[bytes, bytes]], wait: int) -> None:
    message = f"Too many API requests: try again in {wait} seconds (the RateLimit headers tell the budget)."
    body = orjson.dumps({"error": {"code": "rate_limited", "message": message}})
    raw = [
        *headers,
        (b"retry-after", str(wait).encode()),
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
    ]
    await send({"type": "http.response.start", "status": 429, "headers": raw})
    await send({"type": "http.response.body", "body": body})
