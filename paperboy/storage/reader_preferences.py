"""A member's "For you" settings: one row per member who changed one (none: the defaults)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection

from paperboy.storage.dialect import insert_into
from paperboy.storage.schema import reader_preferences

DEFAULT_PERSONAL_SHARE = 75  # percent of the order that is the reader's own relevance


def set_personal_share(conn: Connection, user_id: int, share: int, now: datetime) -> None:
    _upsert(conn, user_id, now, personal_share=share)


def set_reset_at(conn: Connection, user_id: int, now: datetime) -> None:
    """From `now` on, signals given before it no longer train the member's model."""
    _upsert(conn, user_id, now, reset_at=now)


def _upsert(conn: Connection, user_id: int, now: datetime, **values: object) -> None:
    row = {"user_id": user_id, "personal_share": DEFAULT_PERSONAL_SHARE, "updated_at": now, **values}
    statement = insert_into(conn, reader_preferences).values(**row)
    conn.execute(
        statement.on_conflict_do_update(
            index_elements=[reader_preferences.c.user_id], set_={"updated_at": now, **values}
        )
    )
