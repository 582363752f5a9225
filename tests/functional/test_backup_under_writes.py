"""`paperboy backup` while a real `paperboy serve` takes votes and comments: the backup, restored
into a fresh data directory (and database), is whole (PRAGMA integrity_check, counters that
match their rows), holds every vote acknowledged before the backup began, and serves: logins,
digest subscriptions (their signed links) and search work on it. Backup files are 0600."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from community import PASSWORD, csrf_from, make_member
from conftest import PG_ADMIN_URL, REPO_ROOT, empty_postgresql_database
from digest_fixtures import catalogue_records
from live_server import live_server
from sqlalchemy import func, select

from paperboy.domain.digest import Preferences
from paperboy.services.sessions import open_session
from paperboy.services.subscriptions import DigestLinks, subscribe_member
from paperboy.storage.backup import integrity_problems, pg_tool
from paperboy.storage.engine import make_engine
from paperboy.storage.schema import comments, paper_stats, papers, sync_state, users, votes

MEMBERS = 12
PAPERS = 24
AFTER_BACKUP = 30  # writes acknowledged after the backup finished, before the writers stop
KEY = "the key every host of this test shares"


@pytest.fixture
def restored_database(tmp_path: Path) -> Iterator[str]:
    """Where the backup is restored: a file in a new data dir, or a new, empty PostgreSQL database."""
    if not PG_ADMIN_URL:
        yield ""
        return
    if pg_tool("pg_dump") is None:
        pytest.skip("pg_dump is not installed")
    with empty_postgresql_database("paperboy_restored") as url:
        yield url


def _env(database_url: str, data_dir: Path, tmp_path: Path) -> dict[str, str]:
    env = {
        "PAPERBOY_DATA_DIR": str(data_dir),
        "PAPERBOY_CONFIG": str(tmp_path / "absent.toml"),
        "PAPERBOY_RATE_LIMIT_VOTE": "100000/minute",
        "PAPERBOY_RATE_LIMIT_COMMENT": "100000/minute",
        "PAPERBOY_RATE_LIMIT_IP_FACTOR": "1",  # every member writes from 127.0.0.1
        # Writes and a backup, not meaning: MiniLM would take the cores embedding the import.
        "PAPERBOY_EMBEDDER": "hashing",
    }
    if database_url:
        env["PAPERBOY_DATABASE_URL"] = database_url
    if database_url.startswith("postgresql"):  # hosts of one PostgreSQL database share a key
        env["PAPERBOY_SECRET_KEY"] = KEY
    return env


def _paperboy(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    child = {k: v for k, v in os.environ.items() if not k.startswith("PAPERBOY_")} | env
    return subprocess.run(
        [sys.executable, "-m", "paperboy", *args], env=child, cwd=REPO_ROOT, capture_output=True, text=True
    )


class Writers:
    """Members voting and commenting through the server, in turn, until stopped; what the server
    acknowledged is recorded in order."""

    def __init__(self, base: str, sessions: list[tuple[int, str, str]], arxiv_ids: list[str]) -> None:
        self.base, self.sessions, self.arxiv_ids = base, sessions, arxiv_ids
        self.acknowledged: list[tuple[int, str]] = []  # (user id, arXiv id) of each vote
        self.comments_acknowledged = 0
        self.failures: list[str] = []
        self.lock = threading.Lock()
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        pairs = [(s, a) for a in self.arxiv_ids for s in self.sessions]
        for number, ((user_id, token, csrf), arxiv_id) in enumerate(pairs):
            if self.stop.is_set():
                return
            with httpx.Client(base_url=self.base, cookies={"paperboy_session": token}, timeout=60) as client:
                headers = {"X-CSRF-Token": csrf, "Accept": "application/json"}
                voted = client.post(f"/papers/{arxiv_id}/vote", data={"action": "up"}, headers=headers)
                if voted.status_code != 200:
                    self.failures.append(f"vote: {voted.status_code} {voted.text[:200]}")
                    return
                with self.lock:
                    self.acknowledged.append((user_id, arxiv_id))
                if number % 3 == 0:
                    said = client.post(
                        f"/papers/{arxiv_id}/comments",
                        data={"body": f"Comment {number} on {arxiv_id}", "csrf_token": csrf},
                        headers={"X-CSRF-Token": csrf},
                        follow_redirects=False,
                    )
                    if said.status_code >= 400:
                        self.failures.append(f"comment: {said.status_code} {said.text[:200]}")
                        return
                    with self.lock:
                        self.comments_acknowledged += 1
        self.failures.append("the writers ran out of pairs before the backup ended")

    def count(self) -> int:
        with self.lock:
            return len(self.acknowledged)


def test_a_backup_taken_under_writes_restores_whole_and_serves(
    database_url, engine, settings, add_papers, restored_database, tmp_path
):
    data_dir = tmp_path / "data"
    env = _env(database_url, data_dir, tmp_path)
    live_settings = settings.replace(secret_key=env.get("PAPERBOY_SECRET_KEY", ""))
    records = catalogue_records(PAPERS)
    add_papers(*records)
    members = [make_member(engine, f"writer{n}") for n in range(MEMBERS)]
    sessions = []
    for member in members:
        session = open_session(engine, live_settings, member)
        sessions.append((member.id, session.token, session.csrf_token))
    subscriber = members[0]
    subscription = subscribe_member(engine, subscriber, Preferences(categories=("cs.CV",)))
    manage_url = DigestLinks(engine, live_settings).manage_url(subscription)

    backup = tmp_path / "backup"
    with live_server(env, tmp_path / "server.log", workers=2) as base:
        writers = Writers(base, sessions, [r.arxiv_id for r in records])
        writers.thread.start()
        while writers.count() < 20 and writers.thread.is_alive():  # writes under way
            writers.thread.join(0.05)
        before = list(writers.acknowledged)  # acknowledged before the backup began
        made = _paperboy("backup", str(backup), env=env)
        target = writers.count() + AFTER_BACKUP
        while writers.count() < target and writers.thread.is_alive():
            writers.thread.join(0.05)
        writers.stop.set()
        writers.thread.join(120)
    assert writers.failures == []
    assert made.returncode == 0, made.stderr
    assert len(writers.acknowledged) > len(before)  # writes went on while it ran
    assert writers.comments_acknowledged > 0

    files = sorted(backup.iterdir())
    assert stat.S_IMODE(backup.stat().st_mode) == 0o700
    assert {path.name: stat.S_IMODE(path.stat().st_mode) for path in files} == {
        path.name: 0o600 for path in files
    }

    restored_dir = tmp_path / "restored"
    restored_env = _env(restored_database, restored_dir, tmp_path)
    done = _paperboy("restore", str(backup), env=restored_env)
    assert done.returncode == 0, done.stderr
    restored_url = restored_database or f"sqlite:///{restored_dir / 'paperboy.sqlite3'}"
    if not restored_database:
        assert integrity_problems(restored_dir / "paperboy.sqlite3") == []
    _check_restored_rows(restored_url, before, writers.acknowledged)

    with live_server(restored_env, tmp_path / "restored.log") as base:
        _check_restored_site(base, manage_url.replace(live_settings.public_url, base), records[0].title)


def _check_restored_rows(
    url: str, before: list[tuple[int, str]], acknowledged: list[tuple[int, str]]
) -> None:
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            stored = set(conn.execute(select(votes.c.user_id, papers.c.arxiv_id).join(papers)).all())
            per_paper_votes = dict(
                conn.execute(select(votes.c.paper_id, func.count()).group_by(votes.c.paper_id)).all()
            )
            per_paper_comments = dict(
                conn.execute(select(comments.c.paper_id, func.count()).group_by(comments.c.paper_id)).all()
            )
            stats = conn.execute(
                select(paper_stats.c.paper_id, paper_stats.c.upvotes, paper_stats.c.comments)
            )
            counters = {
                row.paper_id: (row.upvotes, row.comments) for row in stats if row.upvotes or row.comments
            }
            keys = set(conn.execute(select(sync_state.c.key)).scalars())
            accounts = conn.execute(select(func.count()).select_from(users)).scalar_one()
    finally:
        engine.dispose()
    assert set(before) <= stored  # every vote the backup's moment includes
    assert stored <= set(acknowledged)  # and none that was never acknowledged
    assert counters == {  # nothing half-written: every counter matches its rows
        paper: (per_paper_votes.get(paper, 0), per_paper_comments.get(paper, 0))
        for paper in set(per_paper_votes) | set(per_paper_comments)
    }
    assert accounts == MEMBERS
    assert not any("secret" in key for key in keys)  # the signing key is not in the database


def _check_restored_site(base: str, manage_url: str, title: str) -> None:
    with httpx.Client(base_url=base, timeout=60) as client:
        csrf = csrf_from(client.get("/login").text)
        login = {"csrf_token": csrf, "email": "writer1@example.org", "password": PASSWORD, "next": ""}
        logged_in = client.post("/login", data=login)
        assert (logged_in.status_code, logged_in.headers["location"]) == (303, "/")
        assert 'class="me">writer1</a>' in client.get("/").text
        managed = client.get(manage_url)  # a link signed before the backup still opens it
        assert managed.status_code == 200, managed.text[:500]
        assert "writer0@example.org" in managed.text
        found = client.get("/search", params={"q": title})
        assert found.status_code == 200
        assert title in found.text
