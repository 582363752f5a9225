"""A "For you" page: one page of a period's recommendations as feed items (the papers with their
counts and the reader's own marks), with each paper's reason and what the feed's navigation
needs (the period's category facet, the listing days around it)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import Engine

from paperboy.domain.calendar import Period, PeriodKind, period_containing
from paperboy.domain.models import Listing
from paperboy.domain.recommend_reasons import Reason
from paperboy.domain.trending import TrendingParams
from paperboy.services.feed import DEFAULT_TRENDING, FeedItem, FeedPage, check_page
from paperboy.services.hydrate import hydrate_papers
from paperboy.services.recommend import Recommendations, recommend_papers
from paperboy.services.vector_index import VectorIndex
from paperboy.storage import queries

FOR_YOU = "for-you"  # the sort's name in feed URLs and controls


@dataclass(frozen=True, slots=True)
class ForYouPage:
    feed: FeedPage  # sort "for-you"; items in the reader's order
    reasons: dict[str, Reason]  # by arXiv id
    recommendations: Recommendations

    @property
    def personal_share(self) -> int:
        return self.recommendations.signals.personal_share

    @property
    def cold(self) -> bool:
        return self.recommendations.cold


def for_you_page(
    engine: Engine,
    index: VectorIndex | None,
    user_id: int,
    period: Period,
    *,
    category: str | None = None,
    page: int = 1,
    page_size: int = 100,
    trending: TrendingParams = DEFAULT_TRENDING,
    now: datetime | None = None,
) -> ForYouPage:
    """One page of the period's papers ranked for the member. FeedPageNotFound past the end."""
    found = recommend_papers(engine, index, user_id, period, category=category, trending=trending, now=now)
    check_page(page, found.total, page_size, period.label)
    chosen = found.page((page - 1) * page_size, page_size)
    with engine.connect() as conn:
        views = {v.paper.id: v for v in hydrate_papers(conn, [c.paper_id for c in chosen], user_id)}
        days = queries.listing_days_around(conn, period.start, period.end)
        facet = queries.category_facet(conn, period.start, period.end)
    items = [
        FeedItem(view.paper, _listing(view.paper.first_listed, period), view.community)
        for c in chosen
        if (view := views.get(c.paper_id)) is not None
    ]
    feed = FeedPage(
        period=period,
        category=category,
        sort=FOR_YOU,
        page=page,
        page_size=page_size,
        total=found.total,
        items=items,
        facet=facet,
        prev_period=_around(period.kind, days.before),
        next_period=_around(period.kind, days.after),
        last_listed=days.last,
        notice=None if found.total else f"No papers were listed in {period.label} that you have not seen.",
    )
    return ForYouPage(feed, {c.arxiv_id: c.reason for c in chosen}, found)


def _around(kind: PeriodKind, day: date | None) -> Period | None:
    return period_containing(kind, day) if day else None


def _listing(first_listed: date | None, period: Period) -> Listing | None:
    """The paper's first listing when it falls in the period (its announce type unread here)."""
    if first_listed is None or not period.start <= first_listed <= period.end:
        return None
    return Listing(first_listed, None)
