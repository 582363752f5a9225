"""Submissions: a member puts a recent paper on a day's feed. One per paper (the primary key),
so two members racing to submit the same paper end with one submission."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import Connection, exists, select
from sqlalchemy.exc import DBAPIError

from paperboy.storage.dialect import insert_into
from paperboy.storage.engine import utc
from paperboy.storage.schema import listings, papers, submissions, users

SUBMITTED = "submitted"  # the announce_type of the listing a submission adds


@dataclass(frozen=True, slots=True)
class SubmissionTarget:
    """What deciding on a submission needs to know about a catalogue paper."""

    paper_id: int
    published_at: datetime | None  # v1 submitted to arXiv
    on_feed: bool  # listed on some day already, or already submitted


@dataclass(frozen=True, slots=True)
class Submission:
    paper_id: int
    user_id: int
    user_name: str
    day: date
    submitted_at: datetime


def submission_target(conn: Connection, arxiv_id: str, *, lock: bool = False) -> SubmissionTarget | None:
    """The paper with this canonical id, in one query; `lock` holds its row until commit
    (PostgreSQL: concurrent submitters of one paper take turns; SQLite writers always do)."""
    listed = exists().where(listings.c.paper_id == papers.c.id)
    submitted = exists().where(submissions.c.paper_id == papers.c.id)
    query = select(papers.c.id, papers.c.published_at, (listed | submitted).label("on_feed")).where(
        papers.c.arxiv_id == arxiv_id
    )
    row = conn.execute(query.with_for_update(of=papers) if lock else query).first()
    if row is None:
        return None
    return SubmissionTarget(row.id, utc(row.published_at), bool(row.on_feed))


def insert_submission(conn: Connection, paper_id: int, user_id: int, day: date, now: datetime) -> bool:
    """Record the submission; False when the paper already has one (nothing written)."""
    statement = (
        insert_into(conn, submissions)
        .values(paper_id=paper_id, user_id=user_id, day=day, submitted_at=now)
        .on_conflict_do_nothing(index_elements=[submissions.c.paper_id])
        .returning(submissions.c.paper_id)
    )
    return conn.execute(statement).first() is not None


def submission_of(conn: Connection, paper_id: int) -> Submission | None:
    """Who submitted the paper, and to which day's feed."""
    query = (
        select(submissions, users.c.name)
        .join_from(submissions, users, users.c.id == submissions.c.user_id)
        .where(submissions.c.paper_id == paper_id)
    )
    row = conn.execute(query).first()
    if row is None:
        return None
    submitted_at = utc(row.submitted_at) or row.submitted_at
    return Submission(row.paper_id, row.user_id, row.name, row.day, submitted_at)


def lost_a_race(exc: DBAPIError) -> bool:
    """A unique violation, deadlock or serialization failure (PostgreSQL): a concurrent writer
    got there first, and the transaction can simply run again to see what it wrote."""
    return getattr(exc.orig, "sqlstate", None) in ("23505", "40P01", "40001")
