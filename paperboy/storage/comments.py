"""Comments: written by services/comments.py and services/moderation.py, inside their write
transactions, which also keep paper_stats.comments (visible comments) exact."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Select, bindparam, func, insert, select, update

from paperboy.domain.comments import Comment
from paperboy.storage.engine import utc
from paperboy.storage.schema import comments, papers, users

_VISIBLE = (comments.c.deleted_at.is_(None), comments.c.hidden_at.is_(None))


def _comments_query() -> Select[Any]:
    """Comments with their paper's arXiv id and their author: one row each, no N+1."""
    return (
        select(
            comments,
            papers.c.arxiv_id,
            users.c.name.label("author"),
            users.c.role.label("author_role"),
            users.c.banned_at.label("author_banned_at"),
        )
        .join_from(comments, users, users.c.id == comments.c.user_id)
        .join(papers, papers.c.id == comments.c.paper_id)
    )


def _comment(row: Any) -> Comment:
    return Comment(
        id=row.id,
        paper_id=row.paper_id,
        arxiv_id=row.arxiv_id,
        user_id=row.user_id,
        author=row.author,
        author_role=row.author_role,
        author_banned=row.author_banned_at is not None,
        parent_id=row.parent_id,
        body=row.body,
        body_html=row.body_html,
        created_at=utc(row.created_at) or row.created_at,
        edited_at=utc(row.edited_at),
        deleted_at=utc(row.deleted_at),
        hidden_at=utc(row.hidden_at),
        hidden_by=row.hidden_by,
    )


def insert_comment(
    conn: Connection,
    *,
    paper_id: int,
    user_id: int,
    parent_id: int | None,
    body: str,
    body_html: str,
    now: datetime,
) -> int:
    values = {
        "paper_id": paper_id,
        "user_id": user_id,
        "parent_id": parent_id,
        "body": body,
        "body_html": body_html,
        "created_at": now,
    }
    comment_id: int = conn.execute(insert(comments).values(**values).returning(comments.c.id)).scalar_one()
    return comment_id


def comment_by_id(conn: Connection, comment_id: int, *, for_update: bool = False) -> Comment | None:
    """One comment; for_update locks its row on PostgreSQL (SQLite's writer lock covers it)
    so that two moderators, or a moderator and the author, change it one after the other."""
    query = _comments_query().where(comments.c.id == comment_id)
    if for_update:
        query = query.with_for_update(of=comments)
    row = conn.execute(query).first()
    return _comment(row) if row else None


# Built once: every paper page runs it, and building it cost more than running it.
_PAPER_COMMENTS = (
    _comments_query().where(comments.c.paper_id == bindparam("paper_id")).order_by(comments.c.id)
)


def paper_comments(conn: Connection, paper_id: int) -> list[Comment]:
    """Every comment of a paper, deleted and hidden ones too, oldest first: one query."""
    return [_comment(row) for row in conn.execute(_PAPER_COMMENTS, {"paper_id": paper_id})]


def comments_by_user(
    conn: Connection, user_id: int, *, limit: int = 20, before: int | None = None
) -> list[Comment]:
    """A person's visible comments, newest first (their profile page); `before` pages by id."""
    query = _comments_query().where(comments.c.user_id == user_id, *_VISIBLE)
    if before is not None:
        query = query.where(comments.c.id < before)
    rows = conn.execute(query.order_by(comments.c.id.desc()).limit(limit))
    return [_comment(row) for row in rows]


def count_visible(conn: Connection, *, paper_id: int | None = None, user_id: int | None = None) -> int:
    """Visible comments of a paper or of a person, counted from the rows (the truth behind
    paper_stats.comments)."""
    query = select(func.count()).select_from(comments).where(*_VISIBLE)
    if paper_id is not None:
        query = query.where(comments.c.paper_id == paper_id)
    if user_id is not None:
        query = query.where(comments.c.user_id == user_id)
    count: int = conn.execute(query).scalar_one()
    return count


def set_body(conn: Connection, comment_id: int, *, body: str, body_html: str, now: datetime) -> None:
    conn.execute(
        update(comments)
        .where(comments.c.id == comment_id)
        .values(body=body, body_html=body_html, edited_at=now)
    )


def mark_deleted(conn: Connection, comment_id: int, now: datetime) -> None:
    conn.execute(update(comments).where(comments.c.id == comment_id).values(deleted_at=now))


def set_hidden(conn: Connection, comment_ids: Sequence[int], *, now: datetime | None, by: int | None) -> None:
    """Hide comments (now and by set) or show them again (both None)."""
    if comment_ids:
        conn.execute(
            update(comments).where(comments.c.id.in_(list(comment_ids))).values(hidden_at=now, hidden_by=by)
        )


def visible_comments_of(conn: Connection, user_id: int) -> list[tuple[int, int]]:
    """(comment id, paper id) of a person's visible comments, locked for hiding them all."""
    query = select(comments.c.id, comments.c.paper_id).where(comments.c.user_id == user_id, *_VISIBLE)
    return [(row.id, row.paper_id) for row in conn.execute(query.order_by(comments.c.id).with_for_update())]
