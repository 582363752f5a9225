"""The papers each member has seen: opened or mailed (saved ones count through library_items,
storage/reader_marks.py reads both), and the member's "hide seen" choice."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import Connection, func, select, update

from paperboy.storage.dialect import insert_into
from paperboy.storage.schema import seen_papers, users

OPENED, MAILED = "opened", "mailed"


def insert_seen(
    conn: Connection, user_id: int, paper_ids: Sequence[int], now: datetime, how: str = OPENED
) -> None:
    """Mark the papers seen by the member (one statement); a paper seen already keeps the first
    time and way it was."""
    if not paper_ids:
        return
    rows = [
        {"user_id": user_id, "paper_id": paper_id, "seen_at": now, "how": how}
        for paper_id in dict.fromkeys(paper_ids)
    ]
    statement = insert_into(conn, seen_papers).on_conflict_do_nothing(
        index_elements=[seen_papers.c.user_id, seen_papers.c.paper_id]
    )
    conn.execute(statement, rows)


def count_seen(conn: Connection, user_id: int) -> int:
    statement = select(func.count()).select_from(seen_papers).where(seen_papers.c.user_id == user_id)
    return int(conn.execute(statement).scalar_one())


def set_hide_seen(conn: Connection, user_id: int, hide: bool) -> None:
    conn.execute(update(users).where(users.c.id == user_id).values(hide_seen=hide))
