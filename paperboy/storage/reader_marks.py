"""What one reader did with a page's papers (upvoted, saved, marked not interested, seen), read in one
statement: a logged-in page costs one query for all of it, not one per kind."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import ColumnElement, Connection, bindparam, literal, select, union_all

from paperboy.storage.feedback import NOT_INTERESTED
from paperboy.storage.schema import library_items, paper_feedback, seen_papers, votes


@dataclass(frozen=True, slots=True)
class ReaderMarks:
    voted: set[int] = field(default_factory=set)
    saved: set[int] = field(default_factory=set)
    not_interested: set[int] = field(default_factory=set)
    seen: set[int] = field(default_factory=set)  # opened or mailed; saved papers count as seen too

    def any(self) -> set[int]:
        return self.voted | self.saved | self.not_interested | self.seen


def reader_marks(conn: Connection, user_id: int, paper_ids: Sequence[int]) -> ReaderMarks:
    """Which of these papers (row ids) the account upvoted, saved and marked not interested."""
    marks = ReaderMarks()
    if not paper_ids:
        return marks
    values = [int(value) for value in paper_ids]

    def among(column: ColumnElement[Any], name: str) -> ColumnElement[bool]:
        # Integers written into the SQL text, as storage/queries.id_in does (one name per use).
        return column.in_(bindparam(f"ids_{name}", values, expanding=True, literal_execute=True))

    statement = union_all(
        select(literal("voted").label("kind"), votes.c.paper_id).where(
            votes.c.user_id == user_id, among(votes.c.paper_id, "voted")
        ),
        select(literal("saved").label("kind"), library_items.c.paper_id).where(
            library_items.c.user_id == user_id, among(library_items.c.paper_id, "saved")
        ),
        select(literal("not_interested").label("kind"), paper_feedback.c.paper_id).where(
            paper_feedback.c.user_id == user_id,
            paper_feedback.c.signal == NOT_INTERESTED,
            among(paper_feedback.c.paper_id, "hidden"),
        ),
        select(literal("seen").label("kind"), seen_papers.c.paper_id).where(
            seen_papers.c.user_id == user_id, among(seen_papers.c.paper_id, "seen")
        ),
    )
    for kind, paper_id in conn.execute(statement):
        getattr(marks, kind).add(paper_id)
    marks.seen.update(marks.saved)
    return marks
