"""Read queries of a user's profile page: what they submitted, upvoted and wrote, newest first.

Each list is one query whatever its length: `count(*) OVER ()` brings the list's full size
along with the capped rows, so a page can say "30 of 112" without a second query.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Generic, TypeVar

from sqlalchemy import Connection, Select, func, select

from paperboy.domain.models import PaperActivity
from paperboy.storage.engine import utc
from paperboy.storage.schema import comments, papers, submissions, votes

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class CommentActivity:
    comment_id: int
    arxiv_id: str
    paper_title: str
    body: str  # Markdown as written: the profile shows a plain-text excerpt
    created_at: datetime
    deleted: bool
    hidden: bool


@dataclass(frozen=True, slots=True)
class Capped(Generic[T]):
    """The first rows of a list, and how many the whole list has."""

    items: list[T]
    total: int


def submitted_papers(conn: Connection, user_id: int, limit: int) -> Capped[PaperActivity]:
    at = submissions.c.submitted_at
    query = _paper_activity(at).join_from(submissions, papers, papers.c.id == submissions.c.paper_id)
    return _papers(conn, query.where(submissions.c.user_id == user_id).order_by(at.desc()).limit(limit))


def upvoted_papers(conn: Connection, user_id: int, limit: int) -> Capped[PaperActivity]:
    at = votes.c.created_at
    query = _paper_activity(at).join_from(votes, papers, papers.c.id == votes.c.paper_id)
    return _papers(conn, query.where(votes.c.user_id == user_id).order_by(at.desc()).limit(limit))


def user_comments(
    conn: Connection, user_id: int, limit: int, *, include_removed: bool
) -> Capped[CommentActivity]:
    """The user's comments; deleted and hidden ones only when `include_removed` (moderators)."""
    query = (
        select(
            comments.c.id,
            papers.c.arxiv_id,
            papers.c.title,
            comments.c.body,
            comments.c.created_at,
            comments.c.deleted_at,
            comments.c.hidden_at,
            _total(),
        )
        .join_from(comments, papers, papers.c.id == comments.c.paper_id)
        .where(comments.c.user_id == user_id)
        .order_by(comments.c.created_at.desc(), comments.c.id.desc())
        .limit(limit)
    )
    if not include_removed:
        query = query.where(comments.c.deleted_at.is_(None), comments.c.hidden_at.is_(None))
    rows = conn.execute(query).all()
    items = [_comment(row) for row in rows]
    return Capped(items, rows[0].total if rows else 0)


def _paper_activity(at: Any) -> Select[Any]:
    return select(papers.c.arxiv_id, papers.c.title, at.label("at"), _total())


def _total() -> Any:
    return func.count().over().label("total")


def _papers(conn: Connection, query: Select[Any]) -> Capped[PaperActivity]:
    rows = conn.execute(query).all()
    items = [PaperActivity(row.arxiv_id, row.title, utc(row.at) or row.at) for row in rows]
    return Capped(items, rows[0].total if rows else 0)


def _comment(row: Any) -> CommentActivity:
    return CommentActivity(
        comment_id=row.id,
        arxiv_id=row.arxiv_id,
        paper_title=row.title,
        body=row.body,
        created_at=utc(row.created_at) or row.created_at,
        deleted=row.deleted_at is not None,
        hidden=row.hidden_at is not None,
    )
