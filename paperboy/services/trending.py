"""Trending, explained: the all-time top list and a paper's "why is this here" breakdown.

The feeds themselves rank by trending in services/feed.py; these are the pages around them.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime

from sqlalchemy import Connection, Engine

from paperboy.domain.calendar import Period, day_period, period_containing
from paperboy.domain.models import NO_COMMUNITY, Community, Paper
from paperboy.domain.trending import (
    Breakdown,
    Signals,
    TrendingParams,
    rank,
    reference_time,
    score,
)
from paperboy.services.feed import (
    DEFAULT_TRENDING,
    FeedItem,
    FeedRequestError,
    check_page,
)
from paperboy.services.hydrate import hydrate_papers
from paperboy.storage import queries, trending_queries
from paperboy.storage.trending_queries import ListedCandidate

TOP_LABEL = "The all-time top list"


@dataclass(frozen=True, slots=True)
class TopPage:
    """Papers with any community or Hugging Face signal, by points alone (gravity 0)."""

    category: str | None
    page: int
    page_size: int
    total: int
    items: list[FeedItem]

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.page_size))

    @property
    def period(self) -> None:
        """Cards ask their list for its period; this list spans none."""
        return None

    @property
    def sort(self) -> str:
        return "points"


@dataclass(frozen=True, slots=True)
class Placement:
    """Where a paper ranks on one feed, and the breakdown of its score there."""

    period: Period
    breakdown: Breakdown
    rank: int  # from 1
    total: int  # papers on that feed


@dataclass(frozen=True, slots=True)
class Explanation:
    paper: Paper
    community: Community
    params: TrendingParams
    breakdown: Breakdown  # on the day the paper first appeared (as of now when it never did)
    placements: list[Placement]  # that day, then its week; empty when the paper was never listed


def top_papers(
    engine: Engine,
    *,
    category: str | None = None,
    page: int = 1,
    page_size: int = 100,
    viewer_id: int | None = None,
    trending: TrendingParams = DEFAULT_TRENDING,
) -> TopPage:
    """One page of the all-time top list: trending points with gravity 0, so age does not count."""
    if page < 1:
        raise FeedRequestError(f"page {page} does not exist: pages are numbered from 1")
    size = max(1, page_size)
    with engine.connect() as conn:
        found = trending_queries.top_candidates(conn, category or None)
        check_page(page, len(found), size, TOP_LABEL)
        ids, scores = rank(found, replace(trending, gravity=0.0), datetime.now(UTC))
        window = slice((page - 1) * size, page * size)
        items = _top_items(conn, ids[window], scores[window], viewer_id)
    return TopPage(category or None, page, size, len(found), items)


def _top_items(
    conn: Connection, ids: list[int], scores: list[float], viewer_id: int | None
) -> list[FeedItem]:
    points = dict(zip(ids, scores, strict=True))
    return [
        FeedItem(view.paper, None, view.community, points[view.paper.id])
        for view in hydrate_papers(conn, ids, viewer_id)
    ]


def explain_paper(
    engine: Engine,
    arxiv_id: str,
    *,
    trending: TrendingParams = DEFAULT_TRENDING,
    now: datetime | None = None,
) -> Explanation | None:
    """Every number behind a paper's trending score, and its rank on its first day and week."""
    now = now or datetime.now(UTC)
    with engine.connect() as conn:
        paper = queries.paper_by_arxiv_id(conn, arxiv_id)
        if paper is None:
            return None
        community = queries.community_of(conn, [paper.id]).get(paper.id, NO_COMMUNITY)
        placements = _placements(conn, paper, trending, now)
    if placements:
        breakdown = placements[0].breakdown
    else:
        breakdown = score(_unlisted_signals(paper, community, now), trending, now)
    return Explanation(paper, community, trending, breakdown, placements)


def _placements(conn: Connection, paper: Paper, trending: TrendingParams, now: datetime) -> list[Placement]:
    if not paper.listings:
        return []
    first_day = min(listing.day for listing in paper.listings)
    periods = [day_period(first_day), period_containing("week", first_day)]
    return [place for period in periods if (place := _placement(conn, paper.id, period, trending, now))]


def _placement(
    conn: Connection, paper_id: int, period: Period, trending: TrendingParams, now: datetime
) -> Placement | None:
    found = trending_queries.listed_candidates(conn, period.start, period.end)
    reference = reference_time(period.end, now)
    ids, _ = rank((row.candidate for row in found), trending, reference)
    mine = _find(found, paper_id)
    if mine is None:  # deleted from the listing since the paper was read
        return None
    breakdown = score(mine.candidate.signals, trending, reference)
    return Placement(period, breakdown, ids.index(paper_id) + 1, len(ids))


def _find(found: list[ListedCandidate], paper_id: int) -> ListedCandidate | None:
    return next((row for row in found if row.listed.paper_id == paper_id), None)


def _unlisted_signals(paper: Paper, community: Community, now: datetime) -> Signals:
    """A paper on no feed is scored as of now, as if it had just appeared."""
    return Signals(
        upvotes=community.upvotes,
        comments=community.comments,
        hf_upvotes=paper.hf.upvotes if paper.hf else 0,
        github_stars=(paper.hf.github_stars or 0) if paper.hf else 0,
        appeared_at=now,
    )
