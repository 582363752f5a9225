"""The moderation log: one row per moderator action (hide, unhide, ban, unban), never edited."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, insert, select

from paperboy.domain.comments import ModerationEntry
from paperboy.storage.engine import utc
from paperboy.storage.schema import moderation_log, users


def log_actions(
    conn: Connection,
    *,
    moderator_id: int,
    action: str,
    targets: Sequence[tuple[int | None, int | None]],
    reason: str | None,
    now: datetime,
) -> None:
    """One row per (user id, comment id) target, in one statement."""
    rows: list[dict[str, Any]] = [
        {
            "moderator_id": moderator_id,
            "action": action,
            "user_id": user_id,
            "comment_id": comment_id,
            "reason": reason,
            "created_at": now,
        }
        for user_id, comment_id in targets
    ]
    if rows:
        conn.execute(insert(moderation_log), rows)


def recent_actions(conn: Connection, *, limit: int = 50, user_id: int | None = None) -> list[ModerationEntry]:
    """The newest entries, with the moderator's and the affected person's names."""
    moderator, target = users.alias("moderator"), users.alias("target")
    query = (
        select(
            moderation_log,
            moderator.c.name.label("moderator_name"),
            target.c.name.label("user_name"),
        )
        .outerjoin(moderator, moderator.c.id == moderation_log.c.moderator_id)
        .outerjoin(target, target.c.id == moderation_log.c.user_id)
        .order_by(moderation_log.c.id.desc())
        .limit(limit)
    )
    if user_id is not None:
        query = query.where(moderation_log.c.user_id == user_id)
    return [
        ModerationEntry(
            id=row.id,
            action=row.action,
            moderator=row.moderator_name,
            user=row.user_name,
            comment_id=row.comment_id,
            reason=row.reason,
            created_at=utc(row.created_at) or row.created_at,
        )
        for row in conn.execute(query)
    ]
