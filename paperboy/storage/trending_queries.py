"""The trending signals of many papers, each set in one statement: the database joins the
counters, domain/trending.py scores and ranks in Python (see queries.ORDERINGS for why)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import Connection, Row, exists, or_, select, union

from paperboy.domain.trending import Candidate, Signals, appeared_at
from paperboy.storage.engine import utc
from paperboy.storage.queries import ListedPaper, first_listing_in_period, period_filter
from paperboy.storage.schema import (
    hf_papers,
    listings,
    paper_categories,
    paper_stats,
    papers,
    submissions,
)

AnyRow = Row[*tuple[Any, ...]]  # a row of any columns
# Papers never listed still need a day for the tie-break of the all-time list.
NEVER_LISTED = date(1, 1, 1)


@dataclass(frozen=True, slots=True)
class ListedCandidate:
    listed: ListedPaper  # the paper's first listing inside the period
    candidate: Candidate


_SIGNAL_COLUMNS = (
    papers.c.arxiv_id,
    paper_stats.c.upvotes,
    paper_stats.c.comments,
    hf_papers.c.upvotes.label("hf_upvotes"),
    hf_papers.c.github_stars,
)


def listed_candidates(
    conn: Connection, start: date, end: date, category: str | None = None, *, signalled_only: bool = False
) -> list[ListedCandidate]:
    """Every paper first listed in [start, end] (under `category`), with its trending signals;
    with `signalled_only`, only those with a community or Hugging Face record (others score 0).

    A submitted paper appears from its submission time, on the day it was submitted to; on any
    other listing day it appears at that day's midnight like every other paper.
    """
    # The signal tables come before papers, so that `signalled_only` skips the wide papers rows.
    joined = (
        listings.outerjoin(paper_stats, paper_stats.c.paper_id == listings.c.paper_id)
        .outerjoin(hf_papers, hf_papers.c.paper_id == listings.c.paper_id)
        .join(papers, papers.c.id == listings.c.paper_id)
        .outerjoin(
            submissions,
            (submissions.c.paper_id == listings.c.paper_id) & (submissions.c.day == listings.c.day),
        )
    )
    query = (
        select(
            listings.c.paper_id,
            listings.c.day,
            listings.c.announce_type,
            submissions.c.submitted_at,
            *_SIGNAL_COLUMNS,
        )
        .select_from(joined)
        .where(*period_filter(start, end, category), first_listing_in_period(start))
    )
    if signalled_only:
        query = query.where(or_(paper_stats.c.paper_id.is_not(None), hf_papers.c.paper_id.is_not(None)))
    return [_listed_candidate(row) for row in conn.execute(query)]


def _listed_candidate(row: AnyRow) -> ListedCandidate:
    submitted = utc(row.submitted_at) if row.submitted_at is not None else None
    signals = _signals(row, appeared_at(row.day, submitted))
    listed = ListedPaper(row.paper_id, row.day, row.announce_type)
    return ListedCandidate(listed, Candidate(row.paper_id, row.arxiv_id, row.day, signals))


def top_candidates(conn: Connection, category: str | None = None) -> list[Candidate]:
    """Every paper with a community or Hugging Face signal (under `category`), with its signals.

    The ids come from the two small signal tables first, so the papers table is read by key only.
    """
    with_signals = union(
        select(paper_stats.c.paper_id).where(or_(paper_stats.c.upvotes > 0, paper_stats.c.comments > 0)),
        select(hf_papers.c.paper_id).where(or_(hf_papers.c.upvotes > 0, hf_papers.c.github_stars > 0)),
    )
    joined = papers.outerjoin(paper_stats, paper_stats.c.paper_id == papers.c.id).outerjoin(
        hf_papers, hf_papers.c.paper_id == papers.c.id
    )
    query = (
        select(papers.c.id, papers.c.first_listed, *_SIGNAL_COLUMNS)
        .select_from(joined)
        .where(papers.c.id.in_(with_signals))
    )
    if category is not None:
        query = query.where(
            exists().where(
                paper_categories.c.paper_id == papers.c.id, paper_categories.c.category == category
            )
        )
    return [_top_candidate(row) for row in conn.execute(query)]


def _top_candidate(row: AnyRow) -> Candidate:
    day = row.first_listed or NEVER_LISTED
    return Candidate(row.id, row.arxiv_id, day, _signals(row, appeared_at(day)))


def _signals(row: AnyRow, appeared: datetime) -> Signals:
    return Signals(
        upvotes=row.upvotes or 0,
        comments=row.comments or 0,
        hf_upvotes=row.hf_upvotes or 0,
        github_stars=row.github_stars or 0,
        appeared_at=appeared,
    )
