"""Concurrent misses of a page the cache may not keep (a feed, an API answer): every request is
answered, none waits on a render that never ends. Before the fix, the waiters woken by such a
render each claimed the key again and the second one's KeyError left an event unset forever."""

from __future__ import annotations

import asyncio
from pathlib import Path

from starlette.types import Message, Receive, Scope, Send

from paperboy.storage.engine import make_engine
from paperboy.storage.migrate import upgrade
from paperboy.web.page_cache import PageCache


def _scope() -> Scope:
    return {
        "type": "http",
        "method": "GET",
        "path": "/feeds/day.rss",
        "query_string": b"",
        "headers": [],
        "state": {},
    }


async def _slow_uncacheable(scope: Scope, receive: Receive, send: Send) -> None:
    await asyncio.sleep(0.02)
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/plain")]})
    await send({"type": "http.response.body", "body": b"fresh"})


def test_many_concurrent_misses_of_an_uncacheable_page_are_all_answered(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'cache.sqlite3'}")
    upgrade(engine)
    cache = PageCache(_slow_uncacheable, engine=engine, max_bytes=1 << 20)

    async def one() -> list[Message]:
        sent: list[Message] = []

        async def send(message: Message) -> None:
            sent.append(message)

        async def receive() -> Message:
            return {"type": "http.request", "body": b"", "more_body": False}

        await cache(_scope(), receive, send)
        return sent

    async def burst() -> list[list[Message]]:
        first = [asyncio.create_task(one()) for _ in range(8)]
        await asyncio.sleep(0.01)  # more requests arrive while the first renders are running
        later = [asyncio.create_task(one()) for _ in range(8)]
        return await asyncio.wait_for(asyncio.gather(*first, *later), timeout=10)

    answers = asyncio.run(burst())
    assert len(answers) == 16
    assert all(messages[-1]["body"] == b"fresh" for messages in answers)
    assert cache._rendering == {}
    engine.dispose()
