"""A member's feedback on papers, for themselves alone: one row per (account, paper) with its
signal ("not_interested")."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection, delete, func, select

from paperboy.storage.dialect import insert_into
from paperboy.storage.schema import paper_feedback

NOT_INTERESTED = "not_interested"
SIGNALS = (NOT_INTERESTED,)


def set_signal(conn: Connection, user_id: int, paper_id: int, signal: str, now: datetime) -> None:
    """Record the account's `signal` for the paper (replacing another one)."""
    statement = insert_into(conn, paper_feedback).values(
        user_id=user_id, paper_id=paper_id, signal=signal, created_at=now
    )
    conn.execute(
        statement.on_conflict_do_update(
            index_elements=[paper_feedback.c.user_id, paper_feedback.c.paper_id],
            set_={"signal": signal, "created_at": now},
        )
    )


def clear_signal(conn: Connection, user_id: int, paper_id: int) -> bool:
    """Forget the account's feedback on the paper; False when there was none."""
    statement = delete(paper_feedback).where(
        paper_feedback.c.user_id == user_id, paper_feedback.c.paper_id == paper_id
    )
    return conn.execute(statement).rowcount > 0


def latest_with_signal(conn: Connection, user_id: int, signal: str, limit: int) -> tuple[list[int], int]:
    """The account's papers with `signal`, the latest first (up to `limit`), and how many in all."""
    where = (paper_feedback.c.user_id == user_id, paper_feedback.c.signal == signal)
    ids = conn.execute(
        select(paper_feedback.c.paper_id)
        .where(*where)
        .order_by(paper_feedback.c.created_at.desc(), paper_feedback.c.paper_id.desc())
        .limit(limit)
    ).scalars()
    total = conn.execute(select(func.count()).select_from(paper_feedback).where(*where)).scalar_one()
    return list(ids), int(total)
