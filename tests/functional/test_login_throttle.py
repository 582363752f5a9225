"""Login throttling against a real server (`paperboy serve`, two workers, behind a trusted proxy
that names each client's address in X-Forwarded-For): a stranger's wrong guesses never lock the
owner out from another address, and concurrent guesses never get past the limit."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from community import PASSWORD, csrf_from, make_member
from live_server import live_server, site_env

from paperboy.services.sessions import open_session

ATTACKER, OWNER = "203.0.113.66", "198.51.100.7"
FREE_FAILURES = 5  # the default PAPERBOY_LOGIN_FAILURES_ACCOUNT, 5/15minutes


@pytest.fixture
def server(database_url: str, tmp_path: Path) -> Iterator[str]:
    env = {
        **site_env(database_url, tmp_path),
        "PAPERBOY_TRUSTED_PROXIES": "127.0.0.1",  # the test plays the proxy, naming each client
    }
    with live_server(env, tmp_path / "server.log", workers=2) as base:
        yield base


def _log_in(base: str, password: str, ip: str) -> httpx.Response:
    """The login form as a browser at `ip` fills it in (a fresh client: its own CSRF cookie)."""
    headers = {"X-Forwarded-For": ip}
    with httpx.Client(base_url=base, headers=headers, timeout=60) as client:
        csrf = csrf_from(client.get("/login").text)
        return client.post(
            "/login", data={"csrf_token": csrf, "email": "ada@example.org", "password": password}
        )


def _concurrently(count: int, action) -> list[int]:  # type: ignore[no-untyped-def]
    barrier = threading.Barrier(count)
    statuses: list[int] = []

    def run(number: int) -> None:
        barrier.wait()
        statuses.append(action(number))

    threads = [threading.Thread(target=run, args=(n,)) for n in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return sorted(statuses)


def test_a_strangers_wrong_guesses_do_not_lock_the_owner_out(server, engine):
    make_member(engine, "ada")
    for _ in range(FREE_FAILURES):
        assert _log_in(server, "wrong password", ATTACKER).status_code == 401
    throttled = _log_in(server, "wrong password", ATTACKER)
    assert throttled.status_code == 429
    assert 0 < int(throttled.headers["retry-after"]) <= 30
    assert "Too many failed logins" in throttled.text
    assert _log_in(server, PASSWORD, ATTACKER).status_code == 429  # the guessing address waits
    owner = _log_in(server, PASSWORD, OWNER)
    assert owner.status_code == 303, owner.text
    assert "paperboy_session" in owner.cookies


def test_concurrent_wrong_guesses_never_pass_the_limit(server, engine):
    make_member(engine, "ada")
    statuses = _concurrently(16, lambda n: _log_in(server, f"wrong guess {n}", ATTACKER).status_code)
    assert statuses == [401] * FREE_FAILURES + [429] * (16 - FREE_FAILURES)


def test_a_stolen_session_cannot_guess_the_password_in_parallel(server, engine, settings):
    """The settings form asks for the current password: a thief holding a session fires many
    guesses at once. Each is counted before it is checked, so no more than the free ones are."""
    session = open_session(engine, settings, make_member(engine, "ada"))

    def guess(number: int) -> int:
        cookies = {"paperboy_session": session.token}
        with httpx.Client(base_url=server, cookies=cookies, timeout=60) as client:
            data = {"current": f"guess {number}", "new": "a new long secret", "repeat": "a new long secret"}
            headers = {"X-CSRF-Token": session.csrf_token, "X-Forwarded-For": ATTACKER}
            return client.post("/settings/password", data=data, headers=headers).status_code

    statuses = _concurrently(12, guess)
    assert statuses == [400] * FREE_FAILURES + [429] * (12 - FREE_FAILURES)
    assert _log_in(server, PASSWORD, OWNER).status_code == 303  # the owner is not locked out
