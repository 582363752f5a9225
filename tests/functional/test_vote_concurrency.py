"""200 members upvote one paper at the same instant through the real server (`paperboy serve`,
two worker processes): every request succeeds and the count is exactly 200, on SQLite (writers
take turns) and on PostgreSQL (row locks)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from community import make_member
from conftest import make_record
from live_server import live_server, site_env
from sqlalchemy import func, select

from paperboy.services.sessions import open_session
from paperboy.storage.paper_stats import stats_of
from paperboy.storage.schema import papers, votes

PAPER = "2506.12229"
VOTERS = 200


@pytest.fixture
def server(database_url: str, tmp_path: Path) -> Iterator[str]:
    """The real app with two workers over this test's database; stopped by its PID afterwards."""
    env = {
        **site_env(database_url, tmp_path),
        "PAPERBOY_RATE_LIMIT_VOTE": "100000/minute",
        "PAPERBOY_RATE_LIMIT_IP_FACTOR": "1",  # every voter comes from 127.0.0.1
    }
    with live_server(env, tmp_path / "server.log", workers=2) as base:
        yield base


def _sessions(engine, settings, count: int) -> list[tuple[str, str]]:
    """(session cookie token, CSRF token) of `count` new verified members."""
    out = []
    for number in range(count):
        session = open_session(engine, settings, make_member(engine, f"voter{number}"))
        out.append((session.token, session.csrf_token))
    return out


def test_two_hundred_simultaneous_upvotes_count_exactly(server, engine, settings, add_papers):
    add_papers(make_record(PAPER))
    sessions = _sessions(engine, settings, VOTERS)
    barrier = threading.Barrier(VOTERS)
    statuses: list[int | str] = []

    def vote(token: str, csrf: str) -> None:
        with httpx.Client(base_url=server, cookies={"paperboy_session": token}, timeout=120) as client:
            barrier.wait()
            try:
                response = client.post(
                    f"/papers/{PAPER}/vote",
                    data={"action": "up"},
                    headers={"X-CSRF-Token": csrf, "Accept": "application/json"},
                )
                statuses.append(response.status_code if response.status_code == 200 else response.text)
            except httpx.HTTPError as exc:  # reported by the assertion below
                statuses.append(repr(exc))

    threads = [threading.Thread(target=vote, args=pair) for pair in sessions]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=180)

    assert statuses == [200] * VOTERS
    with engine.connect() as conn:
        paper_id = conn.execute(select(papers.c.id).where(papers.c.arxiv_id == PAPER)).scalar_one()
        rows = conn.execute(select(func.count()).select_from(votes).where(votes.c.paper_id == paper_id))
        assert rows.scalar_one() == VOTERS
        assert stats_of(conn, paper_id)[0] == VOTERS
    page = httpx.get(f"{server}/papers/{PAPER}", cookies={"paperboy_session": sessions[0][0]}, timeout=30)
    assert page.status_code == 200
    assert f'<span class="vote-count">{VOTERS}</span>' in page.text
