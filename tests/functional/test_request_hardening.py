"""What no handler should have to think about: NUL characters, oversized bodies, caching of
personal pages, proxies that rewrite Host, IPv6 clients and absurd ids."""

from __future__ import annotations

from datetime import timedelta

import pytest
from app_client import open_client
from community import log_in_as, make_member
from conftest import make_record
from sqlalchemy import update
from starlette.requests import Request

from paperboy.storage.engine import now_utc
from paperboy.storage.schema import sessions
from paperboy.storage.transactions import write_transaction
from paperboy.web.auth import client_ip

PAPER = "2506.12229"


@pytest.fixture
def client(settings, add_papers):
    add_papers(make_record(PAPER))
    with open_client(settings.replace(page_cache_mb=0)) as client:
        yield client


@pytest.mark.parametrize(
    ("method", "path", "data"),
    [
        ("GET", "/users/a%00b", None),
        ("GET", "/papers/date/2025-06-12?category=cs.LG%00", None),
        ("POST", "/login", {"email": "ada\x00@example.org", "password": "x", "csrf_token": "t"}),
        ("POST", f"/papers/{PAPER}/comments", {"body": "nul \x00 inside", "csrf_token": "t"}),
    ],
)
def test_nul_characters_are_refused_with_a_reason(client, method, path, data):
    response = client.request(method, path, data=data)
    assert response.status_code == 400
    assert "NUL character" in response.text


def test_an_oversized_body_is_refused_before_any_handler_reads_it(client):
    response = client.post("/login", content=b"a=" + b"x" * 2_000_000, headers={"content-type": "text/plain"})
    assert response.status_code == 413
    assert "larger than 1024 KiB" in response.text


def test_personal_pages_are_never_kept_by_shared_caches(client, engine):
    assert "private" not in client.get(f"/papers/{PAPER}").headers.get("cache-control", "")
    log_in_as(client, make_member(engine, "ada"))
    for path in (f"/papers/{PAPER}", "/papers/date/2025-06-12", "/submit", "/users/ada"):
        assert client.get(path).headers["cache-control"] == "private, no-store", path


def test_a_session_whose_expiry_slides_sends_its_cookie_again(client, engine):
    log_in_as(client, make_member(engine, "ada"))
    assert "set-cookie" not in client.get(f"/papers/{PAPER}").headers
    with write_transaction(engine) as conn:
        conn.execute(update(sessions).values(last_seen_at=now_utc() - timedelta(hours=2)))
    cookie = client.get(f"/papers/{PAPER}").headers["set-cookie"]
    assert cookie.startswith("paperboy_session=")
    assert "Max-Age=2592000" in cookie
    assert "HttpOnly" in cookie


def test_origin_of_the_public_address_passes_behind_a_host_rewriting_proxy(settings, add_papers, engine):
    add_papers(make_record(PAPER))
    public = settings.replace(base_url="https://papers.example.org", page_cache_mb=0)
    with open_client(public) as client:
        token = log_in_as(client, make_member(engine, "ada"))
        data = {"action": "up", "csrf_token": token}
        headers = {"origin": "https://papers.example.org", "accept": "application/json"}
        assert client.post(f"/papers/{PAPER}/vote", data=data, headers=headers).status_code == 200
        headers["origin"] = "https://evil.example"
        assert client.post(f"/papers/{PAPER}/vote", data=data, headers=headers).status_code == 403


def test_a_reply_to_an_impossible_comment_id_is_a_404(client, engine):
    token = log_in_as(client, make_member(engine, "ada"))
    data = {"body": "hello", "parent_id": "9999999999999999999", "csrf_token": token}
    assert client.post(f"/papers/{PAPER}/comments", data=data).status_code == 404


@pytest.mark.parametrize(
    ("peer", "counted_as"),
    [
        ("192.0.2.7", "192.0.2.7"),
        ("2001:db8:1:2:aaaa::1", "2001:db8:1:2::/64"),
        ("2001:db8:1:2:ffff:ffff:ffff:ffff", "2001:db8:1:2::/64"),
        ("::ffff:192.0.2.7", "192.0.2.7"),
        ("testclient", "testclient"),
    ],
)
def test_rate_limits_count_ipv6_clients_by_their_64(peer, counted_as):
    assert client_ip(Request({"type": "http", "client": (peer, 5000), "headers": []})) == counted_as
