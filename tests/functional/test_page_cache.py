"""Rendered public pages are reused until the catalogue changes, and only for anonymous GETs."""

from __future__ import annotations

import gzip
from datetime import date

from app_client import counted_statements, listed_ids, open_client
from conftest import make_record

from paperboy.domain.models import Listing

DAY = "/papers/date/2025-06-12"


def test_second_request_is_served_from_cache_until_the_catalogue_changes(settings, add_papers, monkeypatch):
    monkeypatch.setattr("paperboy.web.page_cache.VERSION_TTL_S", 0)  # ask for the version every time
    add_papers(make_record("2506.00001"))
    with open_client(settings) as client:
        first = client.get(DAY)
        with counted_statements(client) as statements:
            again = client.get(DAY)
        assert again.text == first.text
        assert len(statements) == 1  # only the catalogue version

        add_papers(make_record("2506.00002", listings=(Listing(date(2025, 6, 12), "new"),)))
        fresh = client.get(DAY)
        assert sorted(listed_ids(fresh.text)) == ["2506.00001", "2506.00002"]


def test_cached_page_is_sent_gzipped_to_clients_that_accept_it(settings, add_papers):
    add_papers(make_record("2506.00001"))
    with open_client(settings) as client:
        plain = client.get(DAY, headers={"Accept-Encoding": "identity"}).text
        response = client.get(DAY, headers={"Accept-Encoding": "gzip"})
    assert response.headers["content-encoding"] == "gzip"
    assert response.text == plain  # httpx decompressed it
    # One Vary header: the encoding, and the cookie a logged-in page depends on (web/cache_policy.py).
    assert response.headers["vary"] == "Accept-Encoding, Cookie"


def test_logged_in_requests_and_error_pages_bypass_the_cache(settings, add_papers):
    add_papers(make_record("2506.00001"))
    with open_client(settings) as client:
        # A frozen clock: the cached page and version stay fresh however slow the machine.
        _page_cache(client.app).clock = lambda: 1000.0
        client.get(DAY)
        with counted_statements(client) as statements:
            client.get(DAY, headers={"Cookie": "other=1; paperboy_session=abc"})
        assert len(statements) > 1  # the session look-up and the page's own queries
        with counted_statements(client) as statements:
            client.get(DAY, headers={"Cookie": "paperboy_csrf=abc"})  # not personal: still cached
        assert statements == []
        client.get("/papers/2506.99999")
        with counted_statements(client) as statements:
            assert client.get("/papers/2506.99999").status_code == 404
        assert any("FROM papers" in statement for statement in statements)  # looked up again


def test_cache_evicts_least_recently_used_pages_within_its_bound(engine):
    import asyncio

    from paperboy.web.page_cache import PageCache

    async def page_app(scope, receive, send):
        scope["state"]["page_cacheable"] = True
        body = scope["path"].encode() * 500  # ~9 KB, distinct per path
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": body})

    cache = PageCache(page_app, engine=engine, max_bytes=100_000)

    async def get(path):
        scope = {
            "type": "http",
            "method": "GET",
            "path": path,
            "query_string": b"",
            "headers": [],
            "state": {},
        }

        async def send(message):
            pass

        await cache(scope, None, send)

    for n in range(40):
        asyncio.run(get(f"/papers/2506.{n:05d}"))
    paths = [key[0] for key in cache.pages]
    assert 0 < cache.used <= 100_000
    assert cache.used == sum(page.size for page in cache.pages.values())
    assert paths[-1] == "/papers/2506.00039"
    assert "/papers/2506.00000" not in paths


def _page_cache(app):
    from paperboy.web.page_cache import PageCache

    stack = app.middleware_stack
    while not isinstance(stack, PageCache):
        stack = stack.app
    return stack


def test_gzip_body_matches(settings, add_papers):
    add_papers(make_record("2506.00001"))
    with open_client(settings) as client:
        client.get(DAY)
        cache = _page_cache(client.app)
        (page,) = cache.pages.values()
        assert gzip.decompress(page.gzipped) == page.body


def test_hits_within_a_second_run_no_query(settings, add_papers):
    add_papers(make_record("2506.00001"))
    with open_client(settings) as client:
        # A frozen clock: the second request comes within the second, however slow the machine.
        _page_cache(client.app).clock = lambda: 1000.0
        client.get(DAY)
        with counted_statements(client) as statements:
            client.get(DAY)
        assert statements == []


class _GatedPages:
    """An ASGI app whose renders hold until `release` is set; `started` is set when one begins.
    Counts its renders. No sleeps: the test decides when a render ends."""

    def __init__(self) -> None:
        import asyncio

        self.renders = 0
        self.started = asyncio.Event()
        self.release = asyncio.Event()

    async def __call__(self, scope, receive, send):
        self.renders += 1
        number = self.renders
        self.started.set()
        await self.release.wait()
        scope["state"]["page_cacheable"] = True
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": f"render {number}".encode()})


def _scope(path="/papers/date/2025-06-12"):
    return {"type": "http", "method": "GET", "path": path, "query_string": b"", "headers": [], "state": {}}


async def _get(cache) -> str:
    bodies = []

    async def send(message):
        if message["type"] == "http.response.body":
            bodies.append(message["body"])

    await cache(_scope(), None, send)
    return b"".join(bodies).decode()


def test_readers_arriving_during_a_render_wait_for_it_instead_of_rendering(engine):
    import asyncio

    from paperboy.web.page_cache import PageCache

    app = _GatedPages()
    cache = PageCache(app, engine=engine, max_bytes=100_000, clock=lambda: 0.0)

    async def ten_readers():
        await cache._current_version()  # read once (a thread hop): each reader then runs straight on
        readers = [asyncio.create_task(_get(cache)) for _ in range(10)]
        await app.started.wait()  # the first reader renders; the nine started after it are waiting
        assert app.renders == 1
        app.release.set()
        return await asyncio.wait_for(asyncio.gather(*readers), timeout=10)

    assert asyncio.run(ten_readers()) == ["render 1"] * 10
    assert app.renders == 1


def test_a_stale_page_is_served_while_one_reader_renders_it_again(engine):
    import asyncio

    from paperboy.web.page_cache import PageCache

    app = _GatedPages()
    now = [0.0]
    cache = PageCache(app, engine=engine, max_bytes=100_000, max_age=10.0, clock=lambda: now[0])

    async def scenario():
        app.release.set()
        assert await _get(cache) == "render 1"
        now[0] = 9.9
        assert await _get(cache) == "render 1"  # fresh: no render
        assert app.renders == 1
        now[0] = 10.0  # now stale
        app.release.clear()
        app.started.clear()
        refresher = asyncio.create_task(_get(cache))
        await app.started.wait()  # it renders again, held until released
        during = await asyncio.wait_for(asyncio.gather(*(_get(cache) for _ in range(5))), timeout=10)
        app.release.set()
        assert await refresher == "render 2"
        return during, await _get(cache)

    during, after = asyncio.run(scenario())
    assert during == ["render 1"] * 5  # served at once, stale, while the render was held
    assert after == "render 2"
    assert app.renders == 2
