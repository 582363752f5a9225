"""Concurrent misses of one anonymous HTML page: a single render serves them all when the page may
be kept, and every request is answered, none waiting on a render that never ends, when it may not
(an error page, a page its handler did not opt in). Before the fix, the waiters woken by a render
that was not kept each claimed the key again and the second one's KeyError left an event unset.

The page is one the cache handles ("/"): the API, feeds and exports are passed by
(NEVER_KEPT_PREFIXES), so a burst on them would never reach the waiting code. No sleeps: the first
render holds until every request has reached the cache, which proves the others were waiting."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from paperboy.storage.engine import make_engine
from paperboy.storage.migrate import upgrade
from paperboy.web import page_cache
from paperboy.web.page_cache import CACHEABLE_FLAG, PageCache

PATH = "/"
REQUESTS = 16


class SlowPage:
    """A handler whose first render holds until `arrived` is set; counts its renders."""

    def __init__(self, *, keep: bool) -> None:
        self.keep = keep
        self.renders = 0
        self.arrived = asyncio.Event()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        self.renders += 1
        await self.arrived.wait()
        scope["state"][CACHEABLE_FLAG] = self.keep
        await send(
            {"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/html")]}
        )
        await send({"type": "http.response.body", "body": b"fresh"})


@pytest.fixture
def cache_engine(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    # The version is read once (a thread hop), so each request runs straight to its wait or render.
    monkeypatch.setattr(page_cache, "VERSION_TTL_S", float("inf"))
    engine = make_engine(f"sqlite:///{tmp_path / 'cache.sqlite3'}")
    upgrade(engine)
    yield engine
    engine.dispose()


async def _get(app: ASGIApp) -> list[Message]:
    sent: list[Message] = []

    async def send(message: Message) -> None:
        sent.append(message)

    async def receive() -> Message:
        return {"type": "http.request", "body": b"", "more_body": False}

    scope: Scope = {
        "type": "http",
        "method": "GET",
        "path": PATH,
        "query_string": b"",
        "headers": [],
        "state": {},
    }
    await app(scope, receive, send)
    return sent


async def _burst(cache: PageCache, page: SlowPage) -> list[list[Message]]:
    """REQUESTS concurrent misses; the page renders only once all of them have reached the cache."""
    await cache._current_version()  # read before the burst (see the fixture)
    arrivals = 0

    async def arrive() -> list[Message]:
        nonlocal arrivals
        arrivals += 1
        if arrivals == REQUESTS:
            page.arrived.set()
        return await _get(cache)

    tasks = [asyncio.create_task(arrive()) for _ in range(REQUESTS)]
    return await asyncio.wait_for(asyncio.gather(*tasks), timeout=10)


def test_concurrent_misses_of_a_kept_page_are_rendered_once(cache_engine) -> None:
    page = SlowPage(keep=True)
    cache = PageCache(page, engine=cache_engine, max_bytes=1 << 20)
    answers = asyncio.run(_burst(cache, page))
    assert [messages[-1]["body"] for messages in answers] == [b"fresh"] * REQUESTS
    assert page.renders == 1, "the others waited for the one render"
    assert cache._rendering == {}
    assert len(cache.pages) == 1


def test_concurrent_misses_of_a_page_not_kept_are_all_answered(cache_engine) -> None:
    page = SlowPage(keep=False)
    cache = PageCache(page, engine=cache_engine, max_bytes=1 << 20)
    answers = asyncio.run(_burst(cache, page))
    assert [messages[-1]["body"] for messages in answers] == [b"fresh"] * REQUESTS
    assert page.renders == REQUESTS, "each waiter rendered its own once the first was not kept"
    assert cache._rendering == {}
    assert cache.pages == {}
