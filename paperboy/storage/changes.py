"""Papers in the order paperboy last changed them, for the API's incremental sync."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection, and_, or_, select

from paperboy.storage.engine import utc
from paperboy.storage.schema import papers


def changed_paper_ids(
    conn: Connection, after: tuple[datetime, int] | None, limit: int
) -> list[tuple[int, datetime]]:
    """Up to `limit` (id, changed_at) of papers changed after the cursor (changed_at, id),
    ordered by changed_at then id; ix_papers_changed_at serves it."""
    query = select(papers.c.id, papers.c.changed_at)
    if after is not None:
        moment, paper_id = after
        query = query.where(
            or_(papers.c.changed_at > moment, and_(papers.c.changed_at == moment, papers.c.id > paper_id))
        )
    query = query.order_by(papers.c.changed_at, papers.c.id).limit(limit)
    return [(row.id, utc(row.changed_at) or row.changed_at) for row in conn.execute(query)]
