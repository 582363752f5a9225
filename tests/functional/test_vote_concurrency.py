"""200 members upvote one paper at the same instant through the real server (`paperboy serve`,
two worker processes): every request succeeds and the count is exactly 200, on SQLite (writers
take turns) and on PostgreSQL (row locks)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from community import make_member
from conftest import make_record
from sqlalchemy import func, select

from paperboy.services.accounts import open_session
from paperboy.storage.paper_stats import stats_of
from paperboy.storage.schema import papers, votes

PAPER = "2506.12229"
VOTERS = 200
START_TIMEOUT_S = 60


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def server(database_url: str, tmp_path: Path) -> Iterator[str]:
    """The real app on a free port, over this test's database; stopped by its PID afterwards."""
    port = _free_port()
    env = {
        **{name: value for name, value in os.environ.items() if not name.startswith("PAPERBOY_")},
        "PAPERBOY_DATABASE_URL": database_url,
        "PAPERBOY_DATA_DIR": str(tmp_path / "data"),
        "PAPERBOY_CONFIG": str(tmp_path / "absent.toml"),
        "PAPERBOY_SYNC_ON_EMPTY": "0",
        "PAPERBOY_SYNC_INTERVAL_HOURS": "0",
        "PAPERBOY_RATE_LIMIT_VOTE": "100000/minute",
        "PAPERBOY_RATE_LIMIT_IP_FACTOR": "1",  # every voter comes from 127.0.0.1
    }
    command = [sys.executable, "-m", "paperboy", "serve", "--workers", "2", "--port", str(port)]
    log_path = tmp_path / "server.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [*command, "--host", "127.0.0.1"], env=env, stdout=log, stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_until_healthy(base, process, log_path)
        yield base
    finally:
        _stop(process)
    assert "database is locked" not in log_path.read_text(errors="replace")


def _wait_until_healthy(base: str, process: subprocess.Popen[bytes], log_path: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"paperboy serve exited with {process.returncode}:\n{log_path.read_text()}")
        try:
            if httpx.get(f"{base}/healthz", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    pytest.fail(f"paperboy serve did not answer /healthz within {START_TIMEOUT_S} s:\n{log_path.read_text()}")


def _stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)  # the server and the workers it started
        process.wait(timeout=30)


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
