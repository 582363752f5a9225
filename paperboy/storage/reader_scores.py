"""A member's stored "For you" scores (services/recommend_store.py): one row per member and
scope, read by version, replaced when the version changes."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection, bindparam, select

from paperboy.storage.dialect import insert_into
from paperboy.storage.schema import reader_scores

# Made once: read on every first page of a member in a process (its construction is ~0.2 ms).
_STORED = select(reader_scores.c.scores).where(
    reader_scores.c.user_id == bindparam("user_id"),
    reader_scores.c.scope == bindparam("scope"),
    reader_scores.c.version == bindparam("version"),
)


def stored_scores(conn: Connection, user_id: int, scope: str, version: str) -> bytes | None:
    """The member's scores of `scope` made at `version`; None when there are none (yet)."""
    found = conn.execute(_STORED, {"user_id": user_id, "scope": scope, "version": version}).scalar()
    return None if found is None else bytes(found)


def store_scores(
    conn: Connection, user_id: int, scope: str, version: str, scores: bytes, now: datetime
) -> None:
    """Keep the member's scores of `scope`, replacing those of any other version."""
    statement = insert_into(conn, reader_scores).values(
        user_id=user_id, scope=scope, version=version, scores=scores, made_at=now
    )
    conn.execute(
        statement.on_conflict_do_update(
            index_elements=[reader_scores.c.user_id, reader_scores.c.scope],
            set_={"version": version, "scores": scores, "made_at": now},
        )
    )
