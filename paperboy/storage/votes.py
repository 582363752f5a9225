"""Upvotes: one row per (paper, account). The primary key makes a second vote a no-op, and the
functions that change votes say whether a row really changed, so that the caller moves the
paper_stats counter in the same transaction only then: the counter stays exact however many
voters click at once."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import Connection, delete, func, select

from paperboy.storage.dialect import insert_into
from paperboy.storage.queries import id_in
from paperboy.storage.schema import votes


def insert_vote(conn: Connection, paper_id: int, user_id: int, now: datetime) -> bool:
    """Record the account's upvote; False when it had already voted (nothing written)."""
    statement = (
        insert_into(conn, votes)
        .values(paper_id=paper_id, user_id=user_id, created_at=now)
        .on_conflict_do_nothing(index_elements=[votes.c.paper_id, votes.c.user_id])
        .returning(votes.c.paper_id)
    )
    return conn.execute(statement).first() is not None


def delete_vote(conn: Connection, paper_id: int, user_id: int) -> bool:
    """Withdraw the account's upvote; False when there was none."""
    statement = delete(votes).where(votes.c.paper_id == paper_id, votes.c.user_id == user_id)
    return conn.execute(statement).rowcount > 0


def has_voted(conn: Connection, paper_id: int, user_id: int) -> bool:
    query = select(votes.c.paper_id).where(votes.c.paper_id == paper_id, votes.c.user_id == user_id)
    return conn.execute(query).first() is not None


def voted_among(conn: Connection, user_id: int, paper_ids: Sequence[int]) -> set[int]:
    """Which of these papers (row ids) the account has upvoted, in one query."""
    if not paper_ids:
        return set()
    query = select(votes.c.paper_id).where(votes.c.user_id == user_id, id_in(votes.c.paper_id, paper_ids))
    return set(conn.execute(query).scalars())


def count_votes(conn: Connection, paper_id: int) -> int:
    """Upvotes counted from the rows themselves (the truth paper_stats.upvotes mirrors)."""
    query = select(func.count()).select_from(votes).where(votes.c.paper_id == paper_id)
    return int(conn.execute(query).scalar_one())
