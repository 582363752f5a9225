"""What members follow: one row per (member, kind, value). The unique key makes a second follow a
no-op; the functions that change it say whether a row really changed."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Row, bindparam, delete, func, select

from paperboy.domain.follows import Follow, FollowKind, follow_kind
from paperboy.storage.dialect import insert_into
from paperboy.storage.engine import utc
from paperboy.storage.queries import id_in
from paperboy.storage.schema import follows, paper_categories


def _follow(row: Row[Any]) -> Follow:
    return Follow(row.id, follow_kind(row.kind), row.value, row.label, utc(row.created_at) or row.created_at)


def insert_follow(
    conn: Connection, user_id: int, kind: FollowKind, value: str, label: str, now: datetime
) -> Follow | None:
    """Follow; None when the member followed it already."""
    statement = (
        insert_into(conn, follows)
        .values(user_id=user_id, kind=kind, value=value, label=label, created_at=now)
        .on_conflict_do_nothing(index_elements=[follows.c.user_id, follows.c.kind, follows.c.value])
        .returning(follows.c.id)
    )
    row = conn.execute(statement).first()
    return None if row is None else Follow(row.id, kind, value, label, now)


def find_follow(conn: Connection, user_id: int, kind: FollowKind, value: str) -> Follow | None:
    query = select(follows).where(
        follows.c.user_id == user_id, follows.c.kind == kind, follows.c.value == value
    )
    row = conn.execute(query).first()
    return None if row is None else _follow(row)


def delete_follow(conn: Connection, user_id: int, follow_id: int) -> bool:
    """Unfollow by id; False when the member has no such follow (someone else's id included)."""
    statement = delete(follows).where(follows.c.user_id == user_id, follows.c.id == follow_id)
    return conn.execute(statement).rowcount > 0


def delete_follow_of(conn: Connection, user_id: int, kind: FollowKind, value: str) -> bool:
    statement = delete(follows).where(
        follows.c.user_id == user_id, follows.c.kind == kind, follows.c.value == value
    )
    return conn.execute(statement).rowcount > 0


def count_follows(conn: Connection, user_id: int) -> int:
    query = select(func.count()).select_from(follows).where(follows.c.user_id == user_id)
    return int(conn.execute(query).scalar_one())


def follows_of(conn: Connection, user_id: int, kinds: Sequence[FollowKind] | None = None) -> list[Follow]:
    """The member's follows, the latest first (each with its kind and normalised value)."""
    if kinds is None:  # "For you" asks on every page: the statement made once
        return [_follow(row) for row in conn.execute(_ALL_FOLLOWS, {"user_id": user_id})]
    query = select(follows).where(follows.c.user_id == user_id, follows.c.kind.in_(list(kinds)))
    query = query.order_by(follows.c.created_at.desc(), follows.c.id.desc())
    return [_follow(row) for row in conn.execute(query)]


def follows_of_members(conn: Connection, user_ids: Sequence[int]) -> dict[int, list[Follow]]:
    """`follows_of` for each of these members, in one statement (members without any absent)."""
    if not user_ids:
        return {}
    query = select(follows).where(id_in(follows.c.user_id, user_ids))
    query = query.order_by(follows.c.user_id, follows.c.created_at.desc(), follows.c.id.desc())
    found: dict[int, list[Follow]] = {}
    for row in conn.execute(query):
        found.setdefault(int(row.user_id), []).append(_follow(row))
    return found


_ALL_FOLLOWS = (
    select(follows)
    .where(follows.c.user_id == bindparam("user_id"))
    .order_by(follows.c.created_at.desc(), follows.c.id.desc())
)


def followed_values(
    conn: Connection, user_id: int, kind: FollowKind, values: Sequence[str]
) -> dict[str, int]:
    """Of these values, the ones the member follows: value -> follow id (for buttons' state)."""
    if not values:
        return {}
    query = select(follows.c.value, follows.c.id).where(
        follows.c.user_id == user_id, follows.c.kind == kind, follows.c.value.in_(list(values))
    )
    return {row.value: row.id for row in conn.execute(query)}


def category_known(conn: Connection, category: str) -> bool:
    """Whether any paper of the catalogue is in the category (ix_paper_categories_category)."""
    query = select(paper_categories.c.paper_id).where(paper_categories.c.category == category).limit(1)
    return conn.execute(query).first() is not None
