"""Request budgets that cannot be dodged or multiplied (web/rate_limit.py, services/api_budget.py):
made-up credentials count against the address, a member's tokens share one budget, every worker
process shares one count, searches have a budget; huggingface_hub reads the headers and the 429."""

from __future__ import annotations

import secrets
import threading
from collections.abc import Iterator
from pathlib import Path

import httpx
import httpx2
import pytest
from app_client import open_client
from community import make_member
from huggingface_hub.errors import HfHubHTTPError
from huggingface_hub.utils import hf_raise_for_status, parse_ratelimit_headers
from live_server import live_server, site_env

from paperboy.services.api_tokens import create_token
from paperboy.services.sessions import open_session

API = "/api/v1/papers"


def _spend(client, count: int, **kwargs) -> list[int]:
    return [client.get(API, **kwargs).status_code for _ in range(count)]


def test_made_up_tokens_and_cookies_count_against_the_address(settings):
    limited = settings.replace(page_cache_mb=0, rate_limit_api_ip="3/hour", rate_limit_api="100/hour")
    with open_client(limited) as client:
        assert _spend(client, 3) == [200, 200, 200]
        assert client.get(API).status_code == 429
        for _ in range(3):  # each a fresh "credential": none buys a budget of its own
            bearer = {"Authorization": f"Bearer pb_{secrets.token_urlsafe(24)}"}
            assert client.get(API, headers=bearer).status_code == 429
            refused = client.get(API, headers={"Cookie": f"paperboy_session={secrets.token_urlsafe(24)}"})
            assert refused.status_code == 429
            assert refused.headers["ratelimit-policy"] == '"api";q=3;w=3600'


def test_a_members_tokens_and_sessions_share_one_budget_apart_from_the_address(settings, engine):
    member = make_member(engine, "ada")
    tokens = [create_token(engine, member, f"t{n}", ["read"]).plaintext for n in range(2)]
    session = open_session(engine, settings, member).token
    limited = settings.replace(page_cache_mb=0, rate_limit_api_ip="2/hour", rate_limit_api="4/hour")
    with open_client(limited) as client:
        assert _spend(client, 3) == [200, 200, 429]  # the address's budget is spent
        first, second = ({"Authorization": f"Bearer {token}"} for token in tokens)
        assert _spend(client, 2, headers=first) == [200, 200]
        assert _spend(client, 1, headers=second) == [200]
        assert client.get(API, headers={"Cookie": f"paperboy_session={session}"}).status_code == 200
        refused = client.get(API, headers=second)
        assert refused.status_code == 429
        assert refused.headers["ratelimit"].startswith('"api";r=0;')


def test_huggingface_hub_reads_the_headers_and_explains_the_429(settings):
    limited = settings.replace(page_cache_mb=0, rate_limit_api_ip="1/minute")
    with open_client(limited) as client:
        info = parse_ratelimit_headers(client.get("/api/daily_papers").headers)
        assert info is not None
        assert (info.limit, info.window_seconds, info.remaining) == (1, 60, 0)
        refused = client.get("/api/daily_papers")
    assert refused.status_code == 429
    request = httpx2.Request("GET", str(refused.url))  # huggingface_hub's own HTTP client's types
    response = httpx2.Response(429, headers=refused.headers.raw, content=refused.content, request=request)
    with pytest.raises(HfHubHTTPError) as raised:
        hf_raise_for_status(response)
    text = str(raised.value)
    assert "you have reached your 'api' rate limit" in text
    assert "(0/1 requests remaining in current 60s window)" in text
    assert "Too many API requests: try again in" in text
    assert "{" not in text  # the server's message as a sentence, not a dictionary's repr


def test_searches_have_a_budget_per_address(settings, add_papers):
    limited = settings.replace(page_cache_mb=0, rate_limit_search="2/minute")
    with open_client(limited) as client:
        assert client.get("/search", params={"q": "graph"}).status_code == 200
        assert client.get("/feeds/search.rss", params={"q": "graph"}).status_code == 200
        page = client.get("/search", params={"q": "other"})
        feed = client.get("/feeds/search.atom", params={"q": "other"})
        assert client.get("/search").status_code == 200  # the empty form searches nothing
    assert page.status_code == 429
    assert "Too many searches" in page.text
    assert int(page.headers["retry-after"]) >= 1
    assert feed.status_code == 429
    assert feed.headers["content-type"].startswith("text/plain")
    assert feed.text.startswith("Too many searches from your address: try again in")
    assert int(feed.headers["retry-after"]) >= 1


# --- several worker processes -----------------------------------------------------------------

LIMIT = 200


@pytest.fixture
def two_workers(database_url: str, tmp_path: Path) -> Iterator[str]:
    env = {
        **site_env(database_url, tmp_path),
        "PAPERBOY_RATE_LIMIT_API_IP": f"{LIMIT}/hour",
    }
    with live_server(env, tmp_path / "server.log", workers=2) as base:
        yield base


def test_two_workers_share_one_budget_within_one_percent(two_workers):
    """Eight clients, each opening a new connection per request (so both workers answer), until
    every client has been refused a few times: about LIMIT pass, not LIMIT per worker."""
    statuses: list[int] = []
    lock = threading.Lock()

    def client() -> None:
        refusals = 0
        while refusals < 5:
            status = httpx.get(two_workers + API, timeout=30).status_code
            with lock:
                statuses.append(status)
            refusals += status == 429
            assert status in (200, 429)

    threads = [threading.Thread(target=client) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)
    admitted = statuses.count(200)
    assert LIMIT - LIMIT // 100 <= admitted <= LIMIT + LIMIT // 100, (admitted, len(statuses))
