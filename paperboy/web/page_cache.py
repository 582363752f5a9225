"""A cache of rendered public pages, for anonymous readers.

Feed and paper pages are the same for every anonymous reader until the catalogue changes, so
each web process keeps the finished bytes (plain and gzip-compressed) of recent pages, keyed by
URL, the catalogue version (storage/sync_state.py: every write that pages show changes it) and
today's date (empty-state messages depend on it). Votes and comments do not change the version:
a page is rendered again at most `max_age` seconds after it was made, so community counts seen
by anonymous readers lag by at most that (logged-in readers always see live counts). A hit costs
at most one small query (the version, read at most once a second) instead of a page's worth of
queries, rendering and compression. Logged-in requests (a session cookie) bypass it, and handlers
opt pages in by setting `request.state.page_cacheable`.
"""

from __future__ import annotations

import asyncio
import gzip
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime

from sqlalchemy import Engine
from starlette.concurrency import run_in_threadpool
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from paperboy.services.feed import catalogue_version
from paperboy.web.auth import is_personal
from paperboy.web.paper_exports import prefers_markdown

CacheKey = tuple[str, bytes, str, date]
CACHEABLE_FLAG = "page_cacheable"
VERSION_TTL_S = 1.0
# The JSON API, feeds and paper exports answer conditional GETs themselves (web/conditional.py)
# and never ask to be kept: passing them by spares their readers the single-flight wait.
NEVER_KEPT_PREFIXES = ("/api/", "/feeds/", "/openapi.json", "/docs")
NEVER_KEPT_SUFFIXES = (".md", ".bib", ".ris")


@dataclass(frozen=True, slots=True)
class CachedPage:
    headers: list[tuple[bytes, bytes]]
    body: bytes
    gzipped: bytes
    made: float  # the cache's clock (time.monotonic) when rendered

    @property
    def size(self) -> int:
        return len(self.body) + len(self.gzipped)


class PageCache:
    """ASGI middleware; `max_bytes` bounds the memory of one process (0 turns it off)."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        engine: Engine,
        max_bytes: int,
        max_age: float = 10.0,
        today: Callable[[], date] | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.app = app
        self.engine = engine
        self.max_bytes = max_bytes
        self.max_age = max_age
        self.today = today or (lambda: datetime.now(UTC).date())
        self.clock = clock  # ages pages and the catalogue version
        self.pages: OrderedDict[CacheKey, CachedPage] = OrderedDict()
        self._version: tuple[str, float] | None = None  # (version, when it was read)
        self._rendering: dict[CacheKey, asyncio.Event] = {}  # misses being rendered
        self._refreshing: set[CacheKey] = set()  # stale pages being rendered again
        self.used = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if not self._applies(scope):
            await self.app(scope, receive, send)
            return
        version = await self._current_version()
        key = (scope["path"], scope["query_string"], version, self.today())
        page = self.pages.get(key)
        if page is None:
            await self._render_once(key, scope, receive, send)
            return
        self.pages.move_to_end(key)
        if self.clock() - page.made >= self.max_age and key not in self._refreshing:
            # Stale (community counts may have moved): this request renders it again while the
            # others keep getting the stale copy, so no reader queues behind a render.
            self._refreshing.add(key)
            try:
                await self._render_and_keep(key, scope, receive, send)
            finally:
                self._refreshing.discard(key)
            return
        await _replay(page, _accepts_gzip(scope), send)

    async def _render_once(self, key: CacheKey, scope: Scope, receive: Receive, send: Send) -> None:
        """A miss: one request renders the page; the others asking for it meanwhile wait for that
        render instead of all rendering it at once (after every catalogue change, say)."""
        pending = self._rendering.get(key)
        if pending is not None:
            await pending.wait()
            page = self.pages.get(key)
            if page is not None:
                await _replay(page, _accepts_gzip(scope), send)
            else:  # that answer was not kept (a feed, an error): each waiter gets its own
                await self._render_and_keep(key, scope, receive, send)
            return
        done = self._rendering[key] = asyncio.Event()
        try:
            await self._render_and_keep(key, scope, receive, send)
        finally:
            # Only this render's own mark: the waiters it wakes must never find the key taken
            # by another, nor an event that nobody will set (they would wait forever).
            if self._rendering.get(key) is done:
                del self._rendering[key]
            done.set()

    def _applies(self, scope: Scope) -> bool:
        if scope["type"] != "http" or scope["method"] != "GET" or self.max_bytes <= 0:
            return False
        if scope["path"].startswith(NEVER_KEPT_PREFIXES) or scope["path"].endswith(NEVER_KEPT_SUFFIXES):
            return False  # answers with their own ETags: a miss here would only queue readers
        accept = next((value for name, value in scope["headers"] if name == b"accept"), b"")
        if prefers_markdown(accept.decode("latin-1")):
            return False  # /papers/{id} as Markdown: another answer at the same address
        return not is_personal(scope)

    async def _current_version(self) -> str:
        """The catalogue version, asked of the database at most once per VERSION_TTL_S: a hit
        then costs no query at all, and a change shows within that second."""
        now = self.clock()
        if self._version is None or now - self._version[1] >= VERSION_TTL_S:
            self._version = (await run_in_threadpool(self._read_version), now)
        return self._version[0]

    def _read_version(self) -> str:
        return catalogue_version(self.engine)

    async def _render_and_keep(self, key: CacheKey, scope: Scope, receive: Receive, send: Send) -> None:
        """Buffer the page (rendered whole anyway), keep it if the handler allowed, then send it
        the way a hit would be sent, so that it is compressed once, not again by GZipMiddleware."""
        messages: list[Message] = []
        await self.app(scope, receive, _append_to(messages))
        # Compressing a 250 KB page takes milliseconds: not on the event loop, which serves hits.
        page = await run_in_threadpool(_finished_page, scope, messages, self.clock())
        if page is None:
            for message in messages:
                await send(message)
            return
        self._store(key, page)
        await _replay(page, _accepts_gzip(scope), send)

    def _store(self, key: CacheKey, page: CachedPage) -> None:
        if page.size > self.max_bytes // 4:
            return  # sent, not kept: one page must not crowd out the rest
        if key in self.pages:  # stale: replaced
            self.used -= self.pages.pop(key).size
        self.pages[key] = page
        self.used += page.size
        while self.used > self.max_bytes:
            _, evicted = self.pages.popitem(last=False)
            self.used -= evicted.size


def _finished_page(scope: Scope, messages: list[Message], made: float) -> CachedPage | None:
    """The response as a page to keep (compressed once), or None when the handler did not allow
    it. A page sent with `Cache-Control: no-store` is never kept, whatever the flag says: pages
    reached by a signed link (/digest/...) are their owner's alone."""
    start = next((m for m in messages if m["type"] == "http.response.start"), {})
    if start.get("status") != 200 or not scope.get("state", {}).get(CACHEABLE_FLAG):
        return None
    if any(n.lower() == b"cache-control" and b"no-store" in v.lower() for n, v in start["headers"]):
        return None
    body = b"".join(m.get("body", b"") for m in messages if m["type"] == "http.response.body")
    headers = [(n, v) for n, v in start["headers"] if n.lower() not in (b"content-length", b"set-cookie")]
    return CachedPage(headers, body, gzip.compress(body, compresslevel=6), made)


def _append_to(messages: list[Message]) -> Send:
    async def append(message: Message) -> None:
        messages.append(message)

    return append


def _accepts_gzip(scope: Scope) -> bool:
    return any(name == b"accept-encoding" and b"gzip" in value for name, value in scope["headers"])


async def _replay(page: CachedPage, gzipped: bool, send: Send) -> None:
    body = page.gzipped if gzipped else page.body
    headers = [*page.headers, (b"content-length", str(len(body)).encode()), (b"vary", b"Accept-Encoding")]
    if gzipped:
        headers.append((b"content-encoding", b"gzip"))
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": body})
