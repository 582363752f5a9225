"""arXiv answering 503 with Retry-After: 600 must not hold requests: fifty members submit unknown
papers at once to a real `paperboy serve` (two workers); each gets a clear "arXiv is busy; try
again in N s" at once, arXiv is asked a handful of times at most, and /healthz and a paper page
answer meanwhile. The fake arXiv is a real HTTP server on 127.0.0.1."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from community import make_member
from conftest import make_record
from fixture_server import fixture_server
from live_server import live_server, site_env
from sqlalchemy import func, select

from paperboy.services.sessions import open_session
from paperboy.storage.schema import submissions

MEMBERS = 50
KNOWN = "2506.12229"
WORKERS = 2


@pytest.fixture
def busy_arxiv() -> Iterator[tuple[str, list[str]]]:
    def respond(path: str, query: dict[str, list[str]]) -> tuple[int, dict[str, str], bytes]:
        return 503, {"Retry-After": "600", "Content-Type": "text/plain"}, b"Service Unavailable"

    with fixture_server(respond) as (base, requests):
        yield f"{base}/api/query", requests


@pytest.fixture
def server(database_url: str, tmp_path: Path, busy_arxiv) -> Iterator[str]:
    env = {
        **site_env(database_url, tmp_path),
        "PAPERBOY_ARXIV_API_URL": busy_arxiv[0],
        # every member submits from 127.0.0.1: the per-IP limit would answer 429 before arXiv
        "PAPERBOY_RATE_LIMIT_SUBMIT": "1000/hour",
    }
    with live_server(env, tmp_path / "server.log", workers=WORKERS) as base:
        yield base


def _submit(base: str, number: int, token: str, csrf: str) -> httpx.Response:
    paper = f"2612.{10000 + number}"  # unknown to the catalogue: arXiv must be asked
    with httpx.Client(base_url=base, cookies={"paperboy_session": token}, timeout=60) as client:
        if number % 2:
            return client.post("/api/v1/submissions", json={"paper": paper}, headers={"X-CSRF-Token": csrf})
        return client.post("/submit", data={"paper": paper, "csrf_token": csrf})


def test_fifty_submissions_against_a_busy_arxiv_are_answered_at_once(
    server, busy_arxiv, engine, settings, add_papers
):
    add_papers(make_record(KNOWN))
    sessions = [open_session(engine, settings, make_member(engine, f"m{n}")) for n in range(MEMBERS)]
    barrier = threading.Barrier(MEMBERS + 1)
    answers: dict[int, httpx.Response | str] = {}

    def submit(number: int) -> None:
        barrier.wait()
        try:
            answers[number] = _submit(server, number, sessions[number].token, sessions[number].csrf_token)
        except httpx.HTTPError as exc:  # reported by the assertion below
            answers[number] = repr(exc)

    threads = [threading.Thread(target=submit, args=(n,)) for n in range(MEMBERS)]
    for thread in threads:
        thread.start()
    barrier.wait()
    # meanwhile, the site answers (generous timeouts: no timing is asserted)
    for _ in range(5):
        assert httpx.get(f"{server}/healthz", timeout=30).status_code == 200
        assert httpx.get(f"{server}/papers/{KNOWN}", timeout=30).status_code == 200
    for thread in threads:
        thread.join(timeout=120)

    assert sorted(answers) == list(range(MEMBERS)), "every submission got an answer"
    for number, answer in answers.items():
        assert isinstance(answer, httpx.Response), answer
        assert answer.status_code == 503, answer.text[:300]
        assert 1 <= int(answer.headers["retry-after"]) <= 600
        if number % 2:
            assert answer.json()["error"]["code"] == "arxiv_busy"
            assert "arXiv is busy; try again in" in answer.json()["error"]["message"]
        else:
            assert "arXiv is busy; try again in" in answer.text
    assert len(busy_arxiv[1]) <= WORKERS, busy_arxiv[1]  # one question per worker process at most
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(submissions)).scalar_one() == 0
