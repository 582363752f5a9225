"""A member's library: one row per (account, saved paper). The primary key makes a second save a
no-op, and the functions that change it say whether a row really changed."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, delete, func, select

from paperboy.storage.dialect import insert_into
from paperboy.storage.schema import library_items


@dataclass(frozen=True, slots=True)
class Saved:
    paper_id: int
    saved_at: datetime


def insert_saved(conn: Connection, user_id: int, paper_id: int, now: datetime) -> bool:
    """Save the paper to the account's library; False when it was there already."""
    statement = (
        insert_into(conn, library_items)
        .values(user_id=user_id, paper_id=paper_id, saved_at=now)
        .on_conflict_do_nothing(index_elements=[library_items.c.user_id, library_items.c.paper_id])
        .returning(library_items.c.paper_id)
    )
    return conn.execute(statement).first() is not None


def delete_saved(conn: Connection, user_id: int, paper_id: int) -> bool:
    """Remove the paper from the account's library; False when it was not there."""
    statement = delete(library_items).where(
        library_items.c.user_id == user_id, library_items.c.paper_id == paper_id
    )
    return conn.execute(statement).rowcount > 0


def count_saved(conn: Connection, user_id: int) -> int:
    query = select(func.count()).select_from(library_items).where(library_items.c.user_id == user_id)
    return int(conn.execute(query).scalar_one())


def saved_papers(conn: Connection, user_id: int, *, limit: int, offset: int = 0) -> list[Saved]:
    """The account's saved papers, the latest saved first (ties: the newer row id first)."""
    query = (
        select(library_items.c.paper_id, library_items.c.saved_at)
        .where(library_items.c.user_id == user_id)
        .order_by(library_items.c.saved_at.desc(), library_items.c.paper_id.desc())
        .limit(limit)
        .offset(offset)
    )
    return [Saved(row.paper_id, row.saved_at) for row in conn.execute(query)]
