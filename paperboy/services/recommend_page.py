"""A "For you" page: one page of a period's recommendations as feed items (the papers with their
counts and the reader's own marks), with each paper's reason and what the feed's navigation
needs (the period's category facet, the listing days around it)."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass, replace
from datetime import date, datetime

from sqlalchemy import Connection, Engine

from paperboy.domain.calendar import Period, PeriodKind, period_containing
from paperboy.domain.models import Listing
from paperboy.domain.recommend_reasons import Reason
from paperboy.domain.trending import TrendingParams
from paperboy.services.feed import DEFAULT_TRENDING, FeedItem, FeedPage, check_page
from paperboy.services.hydrate import PerEngine, hydrate_papers_at
from paperboy.services.recommend import Recommendations, recommend_papers
from paperboy.services.vector_search import Vectors
from paperboy.storage import queries
from paperboy.storage.engine import read_connection

FOR_YOU = "for-you"  # the sort's name in feed URLs and controls
EDITIONS_KEPT = 4096
NAVIGATIONS_KEPT = 256  # periods


class _Editions:
    """One object per reader's page content: the same object while the reader's kept scores,
    the page's papers in their order and their counts are the same, so that the page's cards are
    rendered once and filled with the reader's marks per request (web/regions.py), as the feed's
    shared pages are. Least recently used out. Thread-safe."""

    def __init__(self, capacity: int = EDITIONS_KEPT) -> None:
        self.capacity = capacity
        self._lock = threading.Lock()
        self._objects: OrderedDict[Hashable, object] = OrderedDict()

    def __call__(self, key: Hashable) -> object:
        with self._lock:
            found = self._objects.get(key)
            if found is None:
                found = self._objects[key] = object()
                while len(self._objects) > self.capacity:
                    self._objects.popitem(last=False)
            self._objects.move_to_end(key)
            return found


_editions = PerEngine(_Editions)
Navigation = tuple[queries.ListingDays, list[tuple[str, int]]]


class _Navigation:
    """Each period's listing days around it and category facet, per catalogue version (every
    change of listings changes it): the same for every reader, and two statements that cost
    ~1.5 ms of a kept page's CPU (py-spy). Least recently used out. Thread-safe."""

    def __init__(self, capacity: int = NAVIGATIONS_KEPT) -> None:
        self.capacity = capacity
        self._lock = threading.Lock()
        self._kept: OrderedDict[Hashable, Navigation] = OrderedDict()

    def __call__(self, key: Hashable, make: Callable[[], Navigation]) -> Navigation:
        with self._lock:
            found = self._kept.get(key)
            if found is not None:
                self._kept.move_to_end(key)
                return found
        found = make()
        with self._lock:
            self._kept[key] = found
            while len(self._kept) > self.capacity:
                self._kept.popitem(last=False)
        return found


_navigation = PerEngine(_Navigation)


def _read_navigation(conn: Connection, period: Period) -> Navigation:
    days = queries.listing_days_around(conn, period.start, period.end)
    return days, queries.category_facet(conn, period.start, period.end)


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
    index: Vectors | None,
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
    # One connection for all the page's reads: on PostgreSQL each checkout is round trips of its own.
    with read_connection(engine) as conn:
        found = recommend_papers(
            engine, index, user_id, period, category=category, trending=trending, now=now, conn=conn
        )
        check_page(page, found.total, page_size, period.label)
        chosen = found.page((page - 1) * page_size, page_size)
        ids = [c.paper_id for c in chosen]
        views = {v.paper.id: v for v in hydrate_papers_at(conn, ids, user_id, found.versions)}
        days, facet = _navigation(engine)((period, found.versions[0]), lambda: _read_navigation(conn, period))
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
    # The kept scores' identity stands for the reasons; the versions for the counts.
    key = (user_id, id(found.scored.personal), found.versions, period, category, page, tuple(ids))
    feed = replace(feed, edition=_editions(engine)(key))
    return ForYouPage(feed, {c.arxiv_id: c.reason for c in chosen}, found)


def _around(kind: PeriodKind, day: date | None) -> Period | None:
    return period_containing(kind, day) if day else None


def _listing(first_listed: date | None, period: Period) -> Listing | None:
    """The paper's first listing when it falls in the period (its announce type unread here)."""
    if first_listed is None or not period.start <= first_listed <= period.end:
        return None
    return Listing(first_listed, None)
