"""Failed logins per (account, client address): a counter and the wait it earned, per bucket."""

from __future__ import annotations

from sqlalchemy import Connection, case, delete, update

from paperboy.storage.dialect import insert_into
from paperboy.storage.schema import login_throttle as table


def count_attempt(conn: Connection, bucket: str, now: int, expires_at: int) -> tuple[int, int]:
    """(failures, blocked_until) after counting one attempt, in one statement.

    An attempt made while the bucket is blocked is not counted (it checks no password). On
    PostgreSQL the upsert keeps the row locked until the caller's transaction ends, and SQLite's
    writers take turns, so a concurrent attempt sees the block this one's caller sets.
    """
    open_now = table.c.blocked_until <= now
    statement = insert_into(conn, table).values(
        bucket=bucket, failures=1, blocked_until=0, expires_at=expires_at
    )
    upsert = statement.on_conflict_do_update(
        index_elements=[table.c.bucket],
        set_={
            "failures": case((open_now, table.c.failures + 1), else_=table.c.failures),
            "expires_at": case((open_now, expires_at), else_=table.c.expires_at),
        },
    ).returning(table.c.failures, table.c.blocked_until)
    failures, blocked_until = conn.execute(upsert).one()
    return failures, blocked_until


def block(conn: Connection, bucket: str, until: int) -> None:
    conn.execute(update(table).where(table.c.bucket == bucket).values(blocked_until=until))


def forget(conn: Connection, bucket: str) -> None:
    conn.execute(delete(table).where(table.c.bucket == bucket))


def purge_expired(conn: Connection, now: int) -> int:
    return conn.execute(delete(table).where(table.c.expires_at <= now)).rowcount
