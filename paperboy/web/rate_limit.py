"""Request budgets: the JSON API (/api/…), the search page and search feeds.

Every /api/ request counts against one budget: its account's (`rate_limit_api`) when it carries a
valid API token or session, else its IP address's (`rate_limit_api_ip`). A credential is valid
only when the database says so (services/api_tokens.py, services/accounts.py), remembered for 30
seconds (`Members`): an unknown token or a made-up session cookie counts against the address, so
inventing credentials buys no budget. Searches (/search with a query, /feeds/search.*) count
against `rate_limit_search` per IP address.

Counts are shared by every web process and host through the database without a write per request
(services/api_budget.py says how, and how exact). Every /api/ answer carries the headers of
draft-ietf-httpapi-ratelimit-headers-09, the form huggingface_hub parses and shows in its errors:
`RateLimit-Policy: "api";q=5000;w=3600` and `RateLimit: "api";r=4997;t=1234` (remaining, seconds
to reset). A 429 also carries Retry-After and X-Error-Message (huggingface_hub prints it).

The middleware sits outside the page cache, so cached answers count too.
"""

from __future__ import annotations

import hashlib
import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from functools import lru_cache

from fastapi import Request
from sqlalchemy import Engine
from starlette.concurrency import run_in_threadpool
from starlette.responses import PlainTextResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from paperboy.config import Settings
from paperboy.domain.rates import Rate, parse_rate
from paperboy.services.api_budget import SharedCounts, Verdict
from paperboy.services.api_tokens import authenticate_token
from paperboy.services.rate_limits import RateLimited
from paperboy.services.sessions import viewer_for_token
from paperboy.web.api.errors import api_error_json
from paperboy.web.auth import bearer_token, client_ip, ip_key, session_token

log = logging.getLogger(__name__)

MEMBER_SECONDS = 30.0  # how long a credential's owner (or its absence) is remembered
MAX_MEMBERS = 50_000


class Members:
    """Whose a token or session cookie is (an account id, or None), remembered for a while.
    Keyed by a hash: the plaintext credentials are not kept."""

    def __init__(
        self, engine: Engine, settings: Settings, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.engine = engine
        self.settings = settings
        self.clock = clock
        self._known: OrderedDict[bytes, tuple[float, int | None]] = OrderedDict()  # in expiry order
        self._lock = threading.Lock()  # look-ups run in several worker threads

    def cached(self, kind: str, credential: str) -> tuple[bool, int | None]:
        """(whether the answer is remembered, the account id or None)."""
        found = self._known.get(_digest(kind, credential))
        if found is None or found[0] <= self.clock():
            return False, None
        return True, found[1]

    def look_up(self, kind: str, credential: str) -> int | None:
        """The database's answer (blocking: call it from a worker thread), remembered."""
        member = self._token_owner(credential) if kind == "token" else self._session_owner(credential)
        key, now = _digest(kind, credential), self.clock()
        with self._lock:
            self._known.pop(key, None)
            self._known[key] = (now + MEMBER_SECONDS, member)
            for _ in range(4):  # a few expired entries per new one: no sweep, no pause
                oldest = next(iter(self._known.values()))
                if oldest[0] > now:
                    break
                self._known.popitem(last=False)
            while len(self._known) > MAX_MEMBERS:
                self._known.popitem(last=False)
        return member

    def _token_owner(self, token: str) -> int | None:
        found = authenticate_token(self.engine, token)
        return found.user.id if found is not None else None

    def _session_owner(self, token: str) -> int | None:
        viewer = viewer_for_token(self.engine, self.settings, token)
        return viewer.user.id if viewer.user is not None else None


class Budgets:
    """The budgets of one web process; create_app makes one and closes it at shutdown."""

    def __init__(self, engine: Engine, settings: Settings, *, clock: Callable[[], float] = time.time) -> None:
        self.counts = SharedCounts(engine)
        self.members = Members(engine, settings)
        self.personal = parse_rate(settings.rate_limit_api)
        self.anonymous = parse_rate(settings.rate_limit_api_ip)
        self.search = parse_rate(settings.rate_limit_search)
        self.clock = clock

    def spend(self, bucket: str, rate: Rate) -> Verdict:
        """Count one request; blocking near the limit (services/api_budget.py): a worker thread's."""
        now = self.clock()
        verdict = self.counts.take(bucket, rate, now)
        return verdict if isinstance(verdict, Verdict) else self.counts.count_exactly(bucket, rate, now)

    async def spend_async(self, bucket: str, rate: Rate) -> Verdict:
        now = self.clock()
        verdict = self.counts.take(bucket, rate, now)
        if isinstance(verdict, Verdict):
            return verdict
        try:
            return await run_in_threadpool(self.counts.count_exactly, bucket, rate, now)
        except Exception:  # the database is away: the API stays open rather than closing on everyone
            log.warning("could not count an API request in the database", exc_info=True)
            return Verdict(True, 0, 1)

    def close(self) -> None:
        self.counts.close()


class ApiRateLimit:
    """ASGI middleware for paths under /api/."""

    def __init__(self, app: ASGIApp, *, budgets: Budgets) -> None:
        self.app = app
        self.budgets = budgets

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith("/api/"):
            await self.app(scope, receive, send)
            return
        bucket, rate = await self._budget(scope)
        verdict = await self.budgets.spend_async(bucket, rate)
        headers = [
            (b"ratelimit-policy", f'"api";q={rate.limit};w={rate.seconds}'.encode()),
            (b"ratelimit", f'"api";r={verdict.remaining};t={verdict.reset}'.encode()),
        ]
        if not verdict.admitted:
            await _refusal(scope["path"], headers, verdict.reset)(scope, receive, send)
            return

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", ()), *headers]
            await send(message)

        await self.app(scope, receive, with_headers)

    async def _budget(self, scope: Scope) -> tuple[str, Rate]:
        kind, credential = "token", bearer_token(scope)
        if not credential:
            kind, credential = "session", session_token(scope)
        if credential:
            members = self.budgets.members
            remembered, member = members.cached(kind, credential)
            if not remembered:
                member = await run_in_threadpool(members.look_up, kind, credential)
            if member is not None:
                return f"api:user:{member}", self.budgets.personal
        client = scope.get("client")
        return "api:ip:" + _address(client[0] if client else "unknown"), self.budgets.anonymous


def spend_search_budget(request: Request) -> None:
    """Count a search against its address's budget; RateLimited when spent. Blocking near the
    limit: for the search handlers, which run in the thread pool."""
    budgets: Budgets = request.app.state.budgets
    verdict = budgets.spend("search:ip:" + client_ip(request), budgets.search)
    if not verdict.admitted:
        message = f"Too many searches from your address: try again in {verdict.reset} seconds."
        raise RateLimited(message, verdict.reset)


def search_feed_refusal(request: Request) -> Response | None:
    """`spend_search_budget` for feed readers: a one-line plain-text 429, or None to go on."""
    try:
        spend_search_budget(request)
    except RateLimited as exc:
        headers = {"Retry-After": str(exc.retry_after), "Cache-Control": "no-store"}
        return PlainTextResponse(f"{exc}\n", status_code=429, headers=headers)
    return None


@lru_cache(maxsize=4096)
def _address(host: str) -> str:
    """The client's address as rate limits count it (IPv6 by /64), remembered: parsing costs more
    than the rest of the limiter."""
    return ip_key(host)


def _digest(kind: str, credential: str) -> bytes:
    return hashlib.blake2b(f"{kind}:{credential}".encode(), digest_size=16).digest()


def _refusal(path: str, headers: list[tuple[bytes, bytes]], wait: int) -> Response:
    """The API's one error answer (web/errors.py: the route's shape, X-Error-Message), a 429."""
    message = f"Too many API requests: try again in {wait} seconds (the RateLimit headers tell the budget)."
    extra = {name.decode(): value.decode() for name, value in headers}
    extra |= {"Retry-After": str(wait), "Cache-Control": "no-store"}
    return api_error_json(path, 429, "rate_limited", message, headers=extra)
