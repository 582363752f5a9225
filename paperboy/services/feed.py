"""The daily feed: papers listed in a day, week or month, and single papers.

Web pages call these functions; the JSON API and feeds are meant to call the same ones.
Each function opens its own connection: callers never hold one.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from urllib.parse import quote

from sqlalchemy import Connection, Engine

from paperboy.domain.arxiv_ids import abs_url, pdf_url
from paperboy.domain.calendar import Period, day_period, format_day, is_weekend, period_containing
from paperboy.domain.models import Link, Listing, Paper
from paperboy.storage import queries
from paperboy.storage.queries import CatalogueCounts, SyncStatus

SORTS = queries.SORTS
DEFAULT_SORT = "newest"


class FeedRequestError(ValueError):
    """The reader asked for something malformed (HTTP 400)."""


class FeedPageNotFound(LookupError):
    """The page number is past the last page (HTTP 404)."""


@dataclass(frozen=True, slots=True)
class FeedItem:
    paper: Paper
    listing: Listing  # the paper's first listing inside the period: its day and announce type


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
) -> FeedPage:
    """One page of the papers listed in `period`, newest first by default."""
    _check_request(sort, page)
    with engine.connect() as conn:
        return _feed(conn, period, category or None, sort, page, max(1, page_size), today or _today())


def latest_feed(
    engine: Engine,
    *,
    category: str | None = None,
    sort: str = DEFAULT_SORT,
    page: int = 1,
    page_size: int = 100,
    today: date | None = None,
) -> FeedPage | None:
    """The feed of the latest listing day; None while the catalogue has no listings."""
    _check_request(sort, page)
    with engine.connect() as conn:
        latest = queries.latest_listing_day(conn)
        if latest is None:
            return None
        period = day_period(latest)
        return _feed(conn, period, category or None, sort, page, max(1, page_size), today or _today())


def paper_detail(engine: Engine, arxiv_id: str) -> Paper | None:
    """A paper by canonical arXiv id (no version), with versions, listings and all its links."""
    with engine.connect() as conn:
        paper = queries.paper_by_arxiv_id(conn, arxiv_id)
    return with_all_links(paper) if paper else None


def catalogue_status(engine: Engine) -> CatalogueStatus:
    with engine.connect() as conn:
        return CatalogueStatus(queries.catalogue_counts(conn), queries.sync_status(conn))


def count_catalogue_papers(engine: Engine) -> int:
    with engine.connect() as conn:
        return queries.count_papers(conn)


def with_all_links(paper: Paper) -> Paper:
    """arXiv abstract and PDF first, then code and project links (stored, then Hugging Face's), then DOI."""
    links = [Link("abs", abs_url(paper.arxiv_id)), Link("pdf", pdf_url(paper.arxiv_id)), *paper.links]
    if paper.hf and paper.hf.github_repo:
        links.append(Link("code", paper.hf.github_repo))
    if paper.hf and paper.hf.project_page:
        links.append(Link("project", paper.hf.project_page))
    if paper.doi:
        links.append(Link("doi", "https://doi.org/" + quote(paper.doi, safe="/:;()[]._-+")))
    seen: set[str] = set()
    paper.links = []
    for link in links:
        key = link.url.rstrip("/").lower()  # the same repository is often linked twice
        # Upstream data is hostile: a javascript: URL must never become an href.
        if key not in seen and key.startswith(("https://", "http://")):
            seen.add(key)
            paper.links.append(link)
    return paper


def _check_request(sort: str, page: int) -> None:
    if sort not in SORTS:
        raise FeedRequestError(f"unknown sort {sort[:40]!r}: choose one of {', '.join(SORTS)}")
    if page < 1:
        raise FeedRequestError(f"page {page} does not exist: pages are numbered from 1")


def _today() -> date:
    return datetime.now(UTC).date()


def _feed(
    conn: Connection, period: Period, category: str | None, sort: str, page: int, size: int, today: date
) -> FeedPage:
    total = queries.count_listed_papers(conn, period.start, period.end, category)
    if page > _page_count(total, size):
        pages = _page_count(total, size)
        count = "only 1 page" if pages == 1 else f"only {pages} pages"
        raise FeedPageNotFound(f"page {page} does not exist: {period.label} has {count}")
    days = queries.listing_days_around(conn, period.start, period.end)
    feed = FeedPage(
        period=period,
        category=category,
        sort=sort,
        page=page,
        page_size=size,
        total=total,
        items=_items(conn, period, category, sort, limit=size, offset=(page - 1) * size),
        facet=queries.category_facet(conn, period.start, period.end),
        prev_period=period_containing(period.kind, days.before) if days.before else None,
        next_period=period_containing(period.kind, days.after) if days.after else None,
        last_listed=days.last,
        notice=None,
    )
    return replace(feed, notice=explain_empty(feed, days.before, days.after, today))


def _items(
    conn: Connection, period: Period, category: str | None, sort: str, *, limit: int, offset: int
) -> list[FeedItem]:
    """One page of listed papers, loaded whole in a fixed number of queries."""
    listed = queries.listed_papers(
        conn, period.start, period.end, category=category, sort=sort, limit=limit, offset=offset
    )
    papers = {paper.id: paper for paper in queries.papers_by_ids(conn, [item.paper_id for item in listed])}
    return [
        FeedItem(with_all_links(papers[item.paper_id]), Listing(item.day, item.announce_type))
        for item in listed
        if item.paper_id in papers  # deleted since the page query ran
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
