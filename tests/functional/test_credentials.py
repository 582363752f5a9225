"""Credentials follow the account: a password reset or change, a ban and "log out everywhere" end
every session and API token; only confirmed accounts make tokens; a feed token opens its feed and
nothing else; settings lists sessions and tokens and ends any or all of them."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from app_client import open_client
from community import PASSWORD, csrf_from, log_in_as, make_member, stored_token
from live_server import live_server
from mail_sink import link_in, outbox_messages

from paperboy.services.api_tokens import create_token

NEW_PASSWORD = "the owner's new secret"
FIREFOX = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"
SAFARI = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 Version/17.0 Safari/605.1"
)


@pytest.fixture
def server(database_url: str, tmp_path: Path) -> Iterator[str]:
    env = {
        "PAPERBOY_DATABASE_URL": database_url,
        "PAPERBOY_DATA_DIR": str(tmp_path / "data"),  # the settings fixture's: its outbox is read here
        "PAPERBOY_CONFIG": str(tmp_path / "absent.toml"),
    }
    with live_server(env, tmp_path / "server.log") as base:
        yield base


def _browser(base: str, user_agent: str = FIREFOX) -> httpx.Client:
    return httpx.Client(base_url=base, headers={"User-Agent": user_agent}, timeout=60)


def _form_post(client: httpx.Client, page: str, action: str, **fields: str | list[str]) -> httpx.Response:
    csrf = csrf_from(client.get(page).text)
    return client.post(action, data={"csrf_token": csrf, **fields})


def _log_in(client: httpx.Client, email: str, password: str) -> None:
    answer = _form_post(client, "/login", "/login", email=email, password=password)
    assert answer.status_code == 303, answer.text


def _make_token(client: httpx.Client, *scopes: str) -> httpx.Response:
    return _form_post(client, "/settings", "/settings/tokens", name="a script", scope=list(scopes))


def _token_in(page: httpx.Response) -> str:
    (token,) = re.findall(r'<code class="token">(pb_[\w-]+)</code>', page.text)
    return token


def _me(base: str, token: str) -> int:
    return httpx.get(
        f"{base}/api/v1/me", headers={"Authorization": f"Bearer {token}"}, timeout=30
    ).status_code


def _logged_in(client) -> bool:  # type: ignore[no-untyped-def]
    return client.get("/settings").status_code == 200  # anonymous: a redirect to /login


def _reset_by_mail(base: str, settings, email: str) -> None:  # type: ignore[no-untyped-def]
    with _browser(base) as owner:
        before = len(outbox_messages(settings))
        requested = _form_post(owner, "/reset-password", "/reset-password", email=email)
        assert requested.status_code == 303
        link = link_in(_next_mail(settings, before), "/reset-password")
        token = link.split("token=", 1)[1]
        done = _form_post(
            owner, link, "/reset-password", token=token, password=NEW_PASSWORD, repeat=NEW_PASSWORD
        )
        assert done.headers["location"] == "/login?done=reset"


def _next_mail(settings, before: int):  # type: ignore[no-untyped-def]
    """The mail after the first `before`: the server writes it after its answer, so wait for it."""
    deadline = time.monotonic() + 30
    while len(messages := outbox_messages(settings)) <= before and time.monotonic() < deadline:
        time.sleep(0.05)
    assert len(messages) > before, "no mail arrived"
    return messages[before]


# --- the story of the issue, against a real server -------------------------------------------------


def test_a_squatter_on_someones_address_gets_no_token_and_loses_the_account_at_the_reset(server, settings):
    """Someone signs up with the victim's address (unconfirmed) and keeps the session; the victim
    later resets the password, which confirms the address. The squatter must hold nothing then."""
    with _browser(server) as squatter:
        signed_up = _form_post(
            squatter, "/signup", "/signup", email="victim@example.org", name="victim", password=PASSWORD
        )
        assert signed_up.status_code == 303
        _log_in(squatter, "victim@example.org", PASSWORD)
        refused = _make_token(squatter, "read", "vote")
        assert refused.status_code == 403
        assert "confirm your e-mail address first" in refused.text
        assert 'class="token"' not in refused.text
        assert "cannot make API tokens" in squatter.get("/settings").text

        _reset_by_mail(server, settings, "victim@example.org")
        assert not _logged_in(squatter)
    with _browser(server) as victim:
        _log_in(victim, "victim@example.org", NEW_PASSWORD)
        assert _me(server, _token_in(_make_token(victim, "read"))) == 200  # confirmed now: allowed


def test_a_reset_revokes_the_tokens_someone_made_with_the_old_password(server, settings, engine):
    make_member(engine, "ada")
    with _browser(server) as intruder:  # knew (phished) the password
        _log_in(intruder, "ada@example.org", PASSWORD)
        token = _token_in(_make_token(intruder, "read", "vote"))
        assert _me(server, token) == 200
        _reset_by_mail(server, settings, "ada@example.org")
        assert _me(server, token) == 401
        assert not _logged_in(intruder)


# --- the other triggers ------------------------------------------------------------------------------


def test_changing_the_password_ends_the_other_sessions_and_every_token(settings, engine):
    ada = make_member(engine, "ada")
    token = create_token(engine, ada, "script", ["read"]).plaintext
    with open_client(settings) as intruder, open_client(settings) as owner:
        log_in_as(intruder, ada)
        csrf = log_in_as(owner, ada)
        fields = {"csrf_token": csrf, "current": PASSWORD, "new": NEW_PASSWORD, "repeat": NEW_PASSWORD}
        assert owner.post("/settings/password", data=fields).headers["location"] == "/settings?done=password"
        assert _logged_in(owner)
        assert not _logged_in(intruder)
        assert owner.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"}).status_code == 401


def test_a_ban_revokes_every_token_for_good(settings, engine):
    ada, mod = make_member(engine, "ada"), make_member(engine, "mod", role="moderator")
    token = create_token(engine, ada, "script", ["read"]).plaintext
    feed = create_token(engine, ada, "feed", ["feed"]).plaintext
    bearer = {"Authorization": f"Bearer {token}"}
    with open_client(settings) as client:
        csrf = log_in_as(client, mod)
        assert client.post("/users/ada/ban", data={"csrf_token": csrf, "reason": "spam"}).status_code == 303
        assert (
            client.post("/users/ada/unban", data={"csrf_token": csrf, "reason": "appeal"}).status_code == 303
        )
        client.cookies.clear()
        assert client.get("/api/v1/me", headers=bearer).status_code == 401  # not back with the unban
        assert client.get(f"/feeds/private/{feed}.rss").status_code == 404


def test_log_out_everywhere_ends_every_session_and_token(settings, engine):
    ada = make_member(engine, "ada")
    token = create_token(engine, ada, "script", ["read"]).plaintext
    with open_client(settings) as phone, open_client(settings) as laptop:
        log_in_as(phone, ada)
        csrf = log_in_as(laptop, ada)
        done = laptop.post("/settings/sessions/end-all", data={"csrf_token": csrf})
        assert done.headers["location"] == "/login?done=everywhere"
        assert "logged out everywhere" in laptop.get(done.headers["location"]).text
        for client in (phone, laptop):
            assert not _logged_in(client)
        assert phone.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"}).status_code == 401


# --- the settings page's lists -------------------------------------------------------------------------


def test_settings_lists_sessions_and_ends_one_of_them(server, engine):
    make_member(engine, "ada")
    with _browser(server, FIREFOX) as laptop, _browser(server, SAFARI) as phone:
        _log_in(laptop, "ada@example.org", PASSWORD)
        _log_in(phone, "ada@example.org", PASSWORD)
        page = laptop.get("/settings").text
        assert "Firefox on Linux" in page
        assert "Safari on iOS" in page
        assert page.count("this session") == 1
        assert re.search(r"Firefox on Linux <span[^>]*>this session", page)
        (phone_session,) = re.findall(
            r"Safari on iOS</td>\s*<td>[^<]*</td>\s*<td>[^<]*</td>\s*<td>[^<]*</td>\s*"
            r'<td>\s*<form method="post" action="(/settings/sessions/[0-9a-f]{64}/end)"',
            page,
        )
        ended = _form_post(laptop, "/settings", phone_session)
        assert ended.headers["location"] == "/settings?done=session-ended#sessions"
        assert not _logged_in(phone)
        assert _logged_in(laptop)
        assert "Safari on iOS" not in laptop.get("/settings").text


def test_settings_revokes_all_tokens_at_once(settings, engine):
    ada = make_member(engine, "ada")
    tokens = [create_token(engine, ada, f"script {n}", ["read"]).plaintext for n in range(3)]
    with open_client(settings) as client:
        csrf = log_in_as(client, ada)
        page = client.get("/settings").text
        assert "Revoke all 3 tokens" in page
        done = client.post("/settings/tokens/revoke-all", data={"csrf_token": csrf})
        assert done.headers["location"] == "/settings?done=tokens-revoked#api-tokens"
        assert _logged_in(client)  # tokens only: this session lives on
        for token in tokens:
            assert client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"}).status_code == 401


# --- feed tokens are single-purpose ----------------------------------------------------------------------


def test_the_feed_scope_cannot_be_combined(settings, engine):
    ada = make_member(engine, "ada")
    with open_client(settings) as client:
        csrf = log_in_as(client, ada)
        answer = client.post(
            "/settings/tokens", data={"csrf_token": csrf, "name": "x", "scope": ["read", "feed"]}
        )
        assert answer.status_code == 400
        assert "stands alone" in answer.text
        assert 'class="token"' not in answer.text


def test_a_feed_token_opens_its_feed_and_no_api_route(settings, engine):
    ada = make_member(engine, "ada")
    feed = create_token(engine, ada, "feed", ["feed"]).plaintext
    with open_client(settings) as client:
        assert client.get(f"/feeds/private/{feed}.rss").status_code == 200
        answer = client.get("/api/v1/me", headers={"Authorization": f"Bearer {feed}"})
        assert answer.status_code == 401


def test_a_combined_token_from_before_no_longer_opens_the_feed(settings, engine):
    ada = make_member(engine, "ada")
    # as the old settings form made it: read, vote and comment with feed
    plaintext = stored_token(engine, ada, "read vote comment feed", "pb_" + "c" * 40)
    with open_client(settings) as client:
        assert client.get(f"/feeds/private/{plaintext}.rss").status_code == 404


def test_ending_this_session_from_the_list_logs_out_here(settings, engine):
    ada = make_member(engine, "ada")
    with open_client(settings) as client:
        csrf = log_in_as(client, ada)
        token = client.cookies["paperboy_session"]
        page = client.get("/settings").text
        (mine,) = re.findall(r'this session.*?action="(/settings/sessions/[0-9a-f]{64}/end)"', page, re.S)
        ended = client.post(mine, data={"csrf_token": csrf})
        assert ended.headers["location"] == "/"
        assert 'paperboy_session=""' in ended.headers["set-cookie"]
        client.cookies.set("paperboy_session", token)  # a copy of the cookie is dead server-side
        assert not _logged_in(client)
