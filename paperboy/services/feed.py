"""The daily feed: papers listed in a day, week or month, and single papers.

Web pages call these functions; the JSON API and feeds are meant to call the same ones.
Each function opens its own connection: callers never hold one.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime

from sqlalchemy import Connection, Engine

from paperboy.config import SETTINGS, Settings
from paperboy.domain.calendar import Period, PeriodKind, day_period, format_day, is_weekend, period_containing
from paperboy.domain.links import with_all_links
from paperboy.domain.models import NO_COMMUNITY, Community, Listing, Paper
from paperboy.domain.trending import TrendingParams, rank, reference_time, trending_params
from paperboy.services.hydrate import PaperView, PerEngine, hydrate_paper, hydrate_papers, with_reader_state
from paperboy.storage import queries, sync_state, trending_queries
from paperboy.storage.queries import CatalogueCounts, ListedPaper, SyncStatus

TRENDING = "trending"
SORTS = (TRENDING, *queries.SORTS)
DEFAULT_SORT = TRENDING
# Reader-independent parts of feed pages kept per process (a few KB each), and how long a period
# still under way keeps its trending ranking when nothing changed: its ages move on by minutes.
FEED_CACHE_PAGES = 512
RANKING_REUSE_S = 60.0
# The configured defaults, for callers that do not pass the site's own settings.
DEFAULT_TRENDING = trending_params(Settings(**{setting.name: setting.default for setting in SETTINGS}))


class FeedRequestError(ValueError):
    """The reader asked for something malformed (HTTP 400)."""


class FeedPageNotFound(LookupError):
    """The page number is past the last page (HTTP 404)."""


@dataclass(frozen=True, slots=True)
class FeedItem:
    paper: Paper
    # The paper's first listing inside the period (its day and announce type); None on lists
    # that span no period, such as the all-time top.
    listing: Listing | None
    community: Community = NO_COMMUNITY
    score: float | None = None  # the trending score it was ranked by (None: sorted otherwise)


@dataclass(frozen=True, slots=True)
class FeedPage:
    period: Period
    category: str | None
    sort: str
    page: int
    page_size: int
    total: int
    items: list[FeedItem]
    facet: list[tuple[str, int]]  # (category, papers) over the whole period, ignoring the filter
    prev_period: Period | None  # the nearest earlier period that has listings
    next_period: Period | None
    last_listed: date | None  # the last listing day inside the period
    notice: str | None  # why the page is empty, for the reader
    ranked_at: datetime | None = None  # the trending reference time (None: not sorted by trending)
    # What every reader's copy of this page was made from (an opaque object): the same object for
    # as long as the papers, their order and their counts are, whoever is reading. Pages keep
    # what they render from it under it (web/regions.py); None when the page was made alone.
    edition: object | None = None

    @property
    def pages(self) -> int:
        return _page_count(self.total, self.page_size)


@dataclass(frozen=True, slots=True)
class CatalogueStatus:
    counts: CatalogueCounts
    sync: SyncStatus


def feed_for_period(
    engine: Engine,
    period: Period,
    *,
    category: str | None = None,
    sort: str = DEFAULT_SORT,
    page: int = 1,
    page_size: int = 100,
    today: date | None = None,
    viewer_id: int | None = None,
    trending: TrendingParams = DEFAULT_TRENDING,
    now: datetime | None = None,
) -> FeedPage:
    """One page of the papers listed in `period`, trending first by default.

    `viewer_id`: the logged-in reader, whose upvotes the cards show; `now` fakes the clock.
    """
    _check_request(sort, page)
    request = _FeedRequest(category or None, sort, page, max(1, page_size), viewer_id, trending)
    with engine.connect() as conn:
        return _feed(conn, period, request, now or _now(), today)


def latest_feed(
    engine: Engine,
    *,
    category: str | None = None,
    sort: str = DEFAULT_SORT,
    page: int = 1,
    page_size: int = 100,
    today: date | None = None,
    viewer_id: int | None = None,
    trending: TrendingParams = DEFAULT_TRENDING,
    now: datetime | None = None,
) -> FeedPage | None:
    """The feed of the latest listing day; None while the catalogue has no listings."""
    _check_request(sort, page)
    request = _FeedRequest(category or None, sort, page, max(1, page_size), viewer_id, trending)
    with engine.connect() as conn:
        latest = queries.latest_listing_day(conn)
        if latest is None:
            return None
        return _feed(conn, day_period(latest), request, now or _now(), today)


def latest_period(engine: Engine, kind: PeriodKind) -> Period | None:
    """The day, week or month of the latest listing day; None while there are no listings."""
    with engine.connect() as conn:
        latest = queries.latest_listing_day(conn)
    return period_containing(kind, latest) if latest else None


def paper_detail(engine: Engine, arxiv_id: str) -> Paper | None:
    """A paper by canonical arXiv id (no version), with versions, listings and all its links."""
    with engine.connect() as conn:
        paper = queries.paper_by_arxiv_id(conn, arxiv_id)
    return with_all_links(paper) if paper else None


def paper_view(engine: Engine, arxiv_id: str, *, viewer_id: int | None = None) -> PaperView | None:
    """paper_detail, with the community's counts and whether the reader (`viewer_id`) voted."""
    with engine.connect() as conn:
        return hydrate_paper(conn, arxiv_id, viewer_id)


def catalogue_status(engine: Engine) -> CatalogueStatus:
    with engine.connect() as conn:
        return CatalogueStatus(queries.catalogue_counts(conn), queries.sync_status(conn))


def catalogue_version(engine: Engine) -> str:
    """A value that changes with every write that pages show (the page cache's key)."""
    with engine.connect() as conn:
        return sync_state.catalogue_version(conn)


def page_versions(engine: Engine) -> tuple[str, str]:
    """The catalogue and community versions (storage/sync_state.py): with the request, and the
    clock where `moves_with_clock`, all that a feed page's papers, order and counts depend on."""
    with engine.connect() as conn:
        return sync_state.page_versions(conn)


def moves_with_clock(period: Period | None, sort: str, now: datetime | None = None) -> bool:
    """Whether a page's order changes as time passes with nothing written: trending of a period
    that is not over (ranked at now, not at its end), or of the latest period, whichever it is."""
    if sort != TRENDING:
        return False
    moment = now or _now()
    return period is None or reference_time(period.end, moment) == moment


def count_catalogue_papers(engine: Engine) -> int:
    with engine.connect() as conn:
        return queries.count_papers(conn)


def _check_request(sort: str, page: int) -> None:
    if sort not in SORTS:
        raise FeedRequestError(f"unknown sort {sort[:40]!r}: choose one of {', '.join(SORTS)}")
    if page < 1:
        raise FeedRequestError(f"page {page} does not exist: pages are numbered from 1")


def _now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class _FeedRequest:
    category: str | None
    sort: str
    page: int
    size: int
    viewer_id: int | None
    trending: TrendingParams

    @property
    def offset(self) -> int:
        return (self.page - 1) * self.size


@dataclass(frozen=True, slots=True)
class _Selection:
    """The papers of one feed page, in order, and how many the whole period has."""

    total: int
    listed: list[ListedPaper]
    scores: dict[int, float] = field(default_factory=dict)
    ranked_at: datetime | None = None


@dataclass(frozen=True, slots=True, eq=False)
class _Shared:
    """What a feed page shows that is the same for every reader: which papers, in which order,
    with their counts (no reader's votes), the period's facet and the listing days around it.
    Compared by identity: it is the page's `edition`."""

    selection: _Selection
    items: list[FeedItem]
    days: queries.ListingDays
    facet: list[tuple[str, int]]
    made_at: datetime
    ongoing: bool  # ranked by trending at `made_at`: its ages move on with the clock


class FeedCache:
    """The reader-independent part of recent feed pages, per process, for one pair of catalogue
    and community versions (storage/sync_state.page_versions): a page shown again costs one
    small query for the versions (and one for a logged-in reader's votes) instead of seven for
    the ranking, the papers, their counts, the facet and the days. Every vote, comment and
    submission changes the community version (storage/paper_stats.py), so counts kept here are
    never older than the versions they are kept under. A
    period still under way, ranked by trending, is ranked again after `reuse_s` seconds even
    when nothing changed (its papers' ages move on). Thread-safe, least recently used out."""

    def __init__(self, capacity: int = FEED_CACHE_PAGES, reuse_s: float = RANKING_REUSE_S) -> None:
        self.capacity, self.reuse_s = capacity, reuse_s
        self._lock = threading.Lock()
        self._versions: tuple[str, str] | None = None
        self._pages: OrderedDict[tuple[object, ...], _Shared] = OrderedDict()

    def get(self, versions: tuple[str, str], key: tuple[object, ...], now: datetime) -> _Shared | None:
        with self._lock:
            if versions != self._versions:
                self._pages.clear()
                self._versions = versions
                return None
            shared = self._pages.get(key)
            if shared is None or (shared.ongoing and (now - shared.made_at).total_seconds() > self.reuse_s):
                return None
            if now < shared.made_at:  # a clock set back (tests): never rank for a moment to come
                return None
            self._pages.move_to_end(key)
            return shared

    def put(self, versions: tuple[str, str], key: tuple[object, ...], shared: _Shared) -> None:
        with self._lock:
            if versions != self._versions:
                return  # made from data older than what the cache now holds
            self._pages[key] = shared
            self._pages.move_to_end(key)
            while len(self._pages) > self.capacity:
                self._pages.popitem(last=False)


feed_cache = PerEngine(FeedCache)  # this process's feed cache for an engine's database


def _shared(conn: Connection, period: Period, request: _FeedRequest, now: datetime) -> _Shared:
    """The reader-independent part of the page: kept, or made now (and kept). The versions are
    read first, so that what is kept under them is never older than they are."""
    cache = feed_cache(conn.engine)
    versions = sync_state.page_versions(conn)
    key = (period, request.category, request.sort, request.page, request.size, request.trending)
    shared = cache.get(versions, key, now)
    if shared is None:
        selection = _select(conn, period, request, now)
        items = _items(conn, selection)
        days = queries.listing_days_around(conn, period.start, period.end)
        facet = queries.category_facet(conn, period.start, period.end)
        ongoing = request.sort == TRENDING and selection.ranked_at == now
        shared = _Shared(selection, items, days, facet, now, ongoing)
        cache.put(versions, key, shared)
    return shared


def _feed(
    conn: Connection, period: Period, request: _FeedRequest, now: datetime, today: date | None
) -> FeedPage:
    shared = _shared(conn, period, request, now)
    selection, days = shared.selection, shared.days
    feed = FeedPage(
        period=period,
        category=request.category,
        sort=request.sort,
        page=request.page,
        page_size=request.size,
        total=selection.total,
        items=_for_reader(conn, shared.items, request.viewer_id),
        facet=shared.facet,
        prev_period=period_containing(period.kind, days.before) if days.before else None,
        next_period=period_containing(period.kind, days.after) if days.after else None,
        last_listed=days.last,
        notice=None,
        ranked_at=selection.ranked_at,
        edition=shared,
    )
    return replace(feed, notice=explain_empty(feed, days.before, days.after, today or now.date()))


def _select(conn: Connection, period: Period, request: _FeedRequest, now: datetime) -> _Selection:
    if request.sort == TRENDING:
        return _select_trending(conn, period, request, now)
    total = queries.count_listed_papers(conn, period.start, period.end, request.category)
    check_page(request.page, total, request.size, period.label)
    listed = queries.listed_papers(
        conn,
        period.start,
        period.end,
        category=request.category,
        sort=request.sort,
        limit=request.size,
        offset=request.offset,
    )
    return _Selection(total, listed)


def _select_trending(conn: Connection, period: Period, request: _FeedRequest, now: datetime) -> _Selection:
    """The papers with a positive score, ranked in Python; then the rest, which tie at 0 and so
    come newest first, paged by the database. Python handles only the papers with signals (a
    few percent of a month), not every paper of the period."""
    start, end, category = period.start, period.end, request.category
    found = trending_queries.listed_candidates(conn, start, end, category, signalled_only=True)
    total = queries.count_listed_papers(conn, start, end, category)
    check_page(request.page, total, request.size, period.label)
    reference = reference_time(end, now)
    ids, scores = rank((row.candidate for row in found), request.trending, reference)
    ranked = {paper_id: value for paper_id, value in zip(ids, scores, strict=True) if value > 0}
    on_page = list(ranked)[request.offset : request.offset + request.size]
    rest = queries.listed_papers(
        conn,
        start,
        end,
        category=category,
        sort="newest",
        limit=request.size - len(on_page),
        offset=max(0, request.offset - len(ranked)),
        exclude=list(ranked),
    )
    by_id = {row.listed.paper_id: row.listed for row in found}
    listed = [by_id[paper_id] for paper_id in on_page] + rest
    return _Selection(
        total=total,
        listed=listed,
        scores={item.paper_id: ranked.get(item.paper_id, 0.0) for item in listed},
        ranked_at=reference,
    )


def check_page(page: int, total: int, size: int, label: str) -> None:
    """FeedPageNotFound when `page` is past the last page of `total` items."""
    pages = _page_count(total, size)
    if page > pages:
        count = "only 1 page" if pages == 1 else f"only {pages} pages"
        raise FeedPageNotFound(f"page {page} does not exist: {label} has {count}")


def _items(conn: Connection, selection: _Selection) -> list[FeedItem]:
    """One page of listed papers with their counts (no reader's votes), loaded whole in a fixed
    number of queries."""
    listings = {item.paper_id: Listing(item.day, item.announce_type) for item in selection.listed}
    return [
        FeedItem(view.paper, listings[view.paper.id], view.community, selection.scores.get(view.paper.id))
        for view in hydrate_papers(conn, list(listings))
    ]


def _for_reader(conn: Connection, items: list[FeedItem], viewer_id: int | None) -> list[FeedItem]:
    """`items` as the reader (`viewer_id`) sees them: the ones they upvoted, saved or marked not
    interested marked (one query)."""
    if viewer_id is None:
        return items
    ids = [item.paper.id for item in items]
    mine = with_reader_state(conn, {}, viewer_id, ids)
    if not mine:
        return items
    return [
        replace(
            item,
            community=replace(
                item.community,
                voted=theirs.voted,
                saved=theirs.saved,
                not_interested=theirs.not_interested,
                seen=theirs.seen,
            ),
        )
        if (theirs := mine.get(item.paper.id)) is not None
        else item
        for item in items
    ]


def _page_count(total: int, page_size: int) -> int:
    return max(1, -(-total // page_size))  # an empty period still has its page 1


def explain_empty(feed: FeedPage, before: date | None, after: date | None, today: date) -> str | None:
    """Why a feed page shows no papers, in words; None when it shows some."""
    if feed.total:
        return None
    period, phrase = feed.period, _period_phrase(feed.period)
    if feed.category and feed.facet:
        return f"No papers in {feed.category[:40]} were listed {phrase}."
    if before is None and after is None:
        return "The catalogue has no listings yet."
    if period.start > today:
        return f"{period.label} is in the future: arXiv has not announced it yet."
    if period.kind == "day" and is_weekend(period.start):
        return f"No listing on {period.label} — arXiv does not announce on weekends."
    if after is None and before is not None:
        return (
            f"No listing {phrase} yet: it has not been synced. "
            f"The latest listing in the catalogue is {format_day(before)}."
        )
    if before is None and after is not None:
        return f"No listing {phrase}: the catalogue starts on {format_day(after)}."
    if period.kind == "day":
        return f"No listing on {period.label} — arXiv did not announce that day (a holiday)."
    return f"No listings {phrase}: arXiv did not announce papers then."


def _period_phrase(period: Period) -> str:
    return f"on {period.label}" if period.kind == "day" else f"in {period.label}"
