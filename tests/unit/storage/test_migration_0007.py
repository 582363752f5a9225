"""Migration 0007 on a database with accounts and tokens made before it: combined feed tokens
lose `feed`, tokens of unverified accounts are revoked, sessions gain their new columns."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import text

from paperboy.storage.engine import make_engine
from paperboy.storage.migrate import upgrade

WHEN = datetime(2026, 11, 30, tzinfo=UTC)


@pytest.fixture
def old_engine(tmp_path):  # type: ignore[no-untyped-def]
    engine = make_engine(f"sqlite:///{tmp_path / 'old.sqlite3'}")
    upgrade(engine, "0006")
    yield engine
    engine.dispose()


def _user(conn, user_id: int, *, verified: bool) -> None:  # type: ignore[no-untyped-def]
    conn.execute(
        text(
            "INSERT INTO users (id, email, name, password_hash, role, email_verified_at, created_at, "
            "password_changed_at) VALUES (:id, :email, :name, 'x', 'member', :verified, :now, :now)"
        ),
        {
            "id": user_id,
            "email": f"u{user_id}@example.org",
            "name": f"u{user_id}",
            "verified": WHEN if verified else None,
            "now": WHEN,
        },
    )


def _token(conn, token_id: int, user_id: int, scopes: str) -> None:  # type: ignore[no-untyped-def]
    conn.execute(
        text(
            "INSERT INTO api_tokens (id, user_id, name, token_hash, prefix, scopes, created_at) "
            "VALUES (:id, :user, 't', :hash, 'pb_x', :scopes, :now)"
        ),
        {"id": token_id, "user": user_id, "hash": f"{token_id:064d}", "scopes": scopes, "now": WHEN},
    )


def test_0007_demotes_combined_feed_tokens_and_revokes_unverified_ones(old_engine):
    with old_engine.begin() as conn:
        _user(conn, 1, verified=True)
        _user(conn, 2, verified=False)
        _token(conn, 1, 1, "read vote comment feed")
        _token(conn, 2, 1, "feed")
        _token(conn, 3, 1, "read vote")
        _token(conn, 4, 2, "read")
    upgrade(old_engine)
    with old_engine.connect() as conn:
        rows = conn.execute(
            text("SELECT id, scopes, revoked_at IS NOT NULL FROM api_tokens ORDER BY id")
        ).all()
        columns = {row[1] for row in conn.execute(text("PRAGMA table_info(sessions)"))}
    assert [tuple(row) for row in rows] == [
        (1, "read vote comment", 0),  # keeps its other powers; its feed URL stops working
        (2, "feed", 0),
        (3, "read vote", 0),
        (4, "read", 1),  # an unverified account holds no token
    ]
    assert {"user_agent", "client_ip"} <= columns
