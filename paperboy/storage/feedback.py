"""A member's feedback on papers, for themselves alone: one row per (account, paper) with its
signal ("not_interested")."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, bindparam, delete, func, select

from paperboy.storage.dialect import insert_into
from paperboy.storage.schema import paper_feedback, papers

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


@dataclass(frozen=True, slots=True)
class MarkedPaper:
    arxiv_id: str
    title: str


def latest_with_signal(
    conn: Connection, user_id: int, signal: str, limit: int
) -> tuple[list[MarkedPaper], int]:
    """The account's papers with `signal`, the latest first (up to `limit`), and how many in all:
    one statement (the count a window over the same rows), made once."""
    found = conn.execute(_LATEST, {"user_id": user_id, "signal": signal, "limit": limit}).all()
    return [MarkedPaper(row.arxiv_id, row.title) for row in found], int(found[0].total) if found else 0


_LATEST = (
    select(papers.c.arxiv_id, papers.c.title, func.count().over().label("total"))
    .select_from(paper_feedback.join(papers, papers.c.id == paper_feedback.c.paper_id))
    .where(paper_feedback.c.user_id == bindparam("user_id"), paper_feedback.c.signal == bindparam("signal"))
    .order_by(paper_feedback.c.created_at.desc(), paper_feedback.c.paper_id.desc())
    .limit(bindparam("limit"))
)
