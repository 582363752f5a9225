"""Per-paper community counters (upvotes, visible comments), changed in the same transaction as
the votes and comments they count. An UPDATE … SET n = n + delta is atomic on both databases, so
concurrent voters never lose a count."""

from __future__ import annotations

from sqlalchemy import Connection, select

from paperboy.storage.dialect import insert_into
from paperboy.storage.engine import now_utc
from paperboy.storage.schema import paper_stats
from paperboy.storage.transactions import mark_community_changed


def add_to_stats(conn: Connection, paper_id: int, *, upvotes: int = 0, comments: int = 0) -> None:
    """Change a paper's counters (inside a write_transaction, which then bumps the community
    version)."""
    mark_community_changed(conn)
    now = now_utc()
    statement = insert_into(conn, paper_stats).values(
        paper_id=paper_id, upvotes=max(upvotes, 0), comments=max(comments, 0), updated_at=now
    )
    conn.execute(
        statement.on_conflict_do_update(
            index_elements=[paper_stats.c.paper_id],
            set_={
                "upvotes": paper_stats.c.upvotes + upvotes,
                "comments": paper_stats.c.comments + comments,
                "updated_at": now,
            },
        )
    )


def stats_of(conn: Connection, paper_id: int) -> tuple[int, int]:
    """(upvotes, visible comments) of one paper."""
    row = conn.execute(
        select(paper_stats.c.upvotes, paper_stats.c.comments).where(paper_stats.c.paper_id == paper_id)
    ).first()
    return (row.upvotes, row.comments) if row else (0, 0)
