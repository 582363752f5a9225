"""Fixed-window counters in the database, so that every web process shares one count."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import Connection, delete, update

from paperboy.storage.dialect import insert_into
from paperboy.storage.schema import rate_counters

_BATCH = 500  # rows per statement: 2,000 bound parameters, well under SQLite's limit


def add_hit(conn: Connection, bucket: str, window_start: int, expires_at: int) -> int:
    """Count one event in (bucket, window); the window's count after it, atomically."""
    statement = insert_into(conn, rate_counters).values(
        bucket=bucket, window_start=window_start, hits=1, expires_at=expires_at
    )
    upsert = statement.on_conflict_do_update(
        index_elements=[rate_counters.c.bucket, rate_counters.c.window_start],
        set_={"hits": rate_counters.c.hits + 1},
    ).returning(rate_counters.c.hits)
    hits: int = conn.execute(upsert).scalar_one()
    return hits


def remove_hit(conn: Connection, bucket: str, window_start: int) -> None:
    conn.execute(
        update(rate_counters)
        .where(
            rate_counters.c.bucket == bucket,
            rate_counters.c.window_start == window_start,
            rate_counters.c.hits > 0,
        )
        .values(hits=rate_counters.c.hits - 1)
    )


def purge_expired(conn: Connection, now: int) -> int:
    return conn.execute(delete(rate_counters).where(rate_counters.c.expires_at <= now)).rowcount


def add_hits(conn: Connection, rows: Sequence[tuple[str, int, int, int]]) -> dict[tuple[str, int], int]:
    """Add many counts at once, each row (bucket, window_start, hits to add, expires_at); the
    windows' totals after the addition, by (bucket, window_start). Rows name distinct windows."""
    totals: dict[tuple[str, int], int] = {}
    for first in range(0, len(rows), _BATCH):
        values = [
            {"bucket": bucket, "window_start": start, "hits": hits, "expires_at": expires}
            for bucket, start, hits, expires in rows[first : first + _BATCH]
        ]
        statement = insert_into(conn, rate_counters).values(values)
        upsert = statement.on_conflict_do_update(
            index_elements=[rate_counters.c.bucket, rate_counters.c.window_start],
            set_={"hits": rate_counters.c.hits + statement.excluded.hits},
        ).returning(rate_counters.c.bucket, rate_counters.c.window_start, rate_counters.c.hits)
        for bucket, start, hits in conn.execute(upsert):
            totals[(bucket, start)] = hits
    return totals
