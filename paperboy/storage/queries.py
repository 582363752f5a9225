"""Every read query the pages (and later the API) run, in SQLAlchemy Core for SQLite and PostgreSQL.

Lists are built in a fixed number of statements: one query finds the page's paper ids, then
`papers_by_ids` loads those papers and their children with one IN query per table.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    BindParameter,
    ColumnElement,
    Connection,
    Row,
    Select,
    Table,
    bindparam,
    distinct,
    exists,
    func,
    select,
)

from paperboy.domain.models import Community, HfSignal, Link, Listing, Paper, Version
from paperboy.storage.engine import now_utc, utc
from paperboy.storage.schema import (
    hf_papers,
    listings,
    paper_authors,
    paper_categories,
    paper_links,
    paper_stats,
    paper_versions,
    papers,
    submissions,
    sync_state,
    users,
)
from paperboy.storage.sync_state import (
    INTERRUPTED,
    RUNNING_GOES_STALE,
    SYNC_MESSAGE_KEY,
    SYNC_STATE_KEY,
)


@dataclass(frozen=True, slots=True)
class ListedPaper:
    """A paper on a feed page, with its first listing inside the period."""

    paper_id: int
    day: date
    announce_type: str | None


@dataclass(frozen=True, slots=True)
class ListingDays:
    """Listing days around and inside a period, for navigation and empty-page messages."""

    before: date | None  # the last listing day before the period
    last: date | None  # the last listing day inside it
    after: date | None  # the first listing day after it


@dataclass(frozen=True, slots=True)
class CatalogueCounts:
    papers: int
    listing_days: int
    first_day: date | None
    last_day: date | None


@dataclass(frozen=True, slots=True)
class SyncStatus:
    state: str | None  # None: no sync has ever recorded its state
    message: str | None
    updated_at: datetime | None


# --- listing days -------------------------------------------------------------------------


def latest_listing_day(conn: Connection) -> date | None:
    day: date | None = conn.execute(select(func.max(listings.c.day))).scalar()
    return day


def listing_days_around(conn: Connection, start: date, end: date) -> ListingDays:
    """One statement of three index look-ups on the listings primary key (day, paper_id)."""
    day = listings.c.day
    before = select(func.max(day)).where(day < start).scalar_subquery()
    last = select(func.max(day)).where(day.between(start, end)).scalar_subquery()
    after = select(func.min(day)).where(day > end).scalar_subquery()
    row = conn.execute(select(before.label("before"), last.label("last"), after.label("after"))).one()
    return ListingDays(row.before, row.last, row.after)


# --- papers listed in a period ------------------------------------------------------------


def _in_category(category: str) -> ColumnElement[bool]:
    """The listed paper is filed under `category`, as primary or cross-list.

    An EXISTS probe of the paper_categories primary key (paper_id, category) per listing: joining
    instead lets SQLite start from every paper of the category (tens of thousands) and go slow.
    """
    return exists().where(
        paper_categories.c.paper_id == listings.c.paper_id, paper_categories.c.category == category
    )


def period_filter(start: date, end: date, category: str | None) -> list[ColumnElement[bool]]:
    """Listings inside [start, end], of papers filed under `category` when one is given."""
    conditions: list[ColumnElement[bool]] = [listings.c.day.between(start, end)]
    if category is not None:
        conditions.append(_in_category(category))
    return conditions


def count_listed_papers(conn: Connection, start: date, end: date, category: str | None = None) -> int:
    """Distinct papers listed in the period: a paper listed on two days counts once."""
    query = select(func.count(distinct(listings.c.paper_id))).where(*period_filter(start, end, category))
    count: int = conn.execute(query).scalar_one()
    return count


def _newest_first(query: Select[Any]) -> Select[Any]:
    # arXiv ids grow with submission time, so they order papers within a listing day. With LIMIT,
    # the databases walk the listings index backwards by day and sort only within the last days.
    return query.order_by(listings.c.day.desc(), papers.c.arxiv_id.desc())


# A sort the database can do orders the period's first listings joined to their papers (columns
# of `listings` and `papers`). Trending is not one of them: its score needs floating-point powers
# and logarithms that SQLite may lack, so storage/trending_queries.py returns the signals of the
# period's papers and domain/trending.py ranks them. Papers scoring 0 tie, and ties go newest
# first: that tail of a trending list is this "newest" order, paged here.
ORDERINGS: dict[str, Callable[[Select[Any]], Select[Any]]] = {"newest": _newest_first}
SORTS: tuple[str, ...] = tuple(ORDERINGS)


def first_listing_in_period(start: date) -> ColumnElement[bool]:
    """The listing is the paper's first one from `start` on: a paper listed twice in a period
    appears once, at its first listing there."""
    earlier = listings.alias("earlier")
    return ~exists().where(
        earlier.c.paper_id == listings.c.paper_id, earlier.c.day >= start, earlier.c.day < listings.c.day
    )


def listed_papers(
    conn: Connection,
    start: date,
    end: date,
    *,
    category: str | None = None,
    sort: str = "newest",
    limit: int = 100,
    offset: int = 0,
    exclude: Sequence[int] = (),
) -> list[ListedPaper]:
    """One page of the distinct papers listed in [start, end], each with its first listing there,
    leaving out the papers `exclude` names (those the trending sort placed already)."""
    if sort not in ORDERINGS:
        raise ValueError(f"unknown sort {sort!r}; expected one of {', '.join(SORTS)}")
    query = (
        select(listings.c.paper_id, listings.c.day, listings.c.announce_type)
        .join_from(listings, papers, papers.c.id == listings.c.paper_id)
        .where(*period_filter(start, end, category), first_listing_in_period(start))
    )
    if exclude:
        query = query.where(~id_in(listings.c.paper_id, exclude))
    rows = conn.execute(ORDERINGS[sort](query).limit(limit).offset(offset))
    return [ListedPaper(row.paper_id, row.day, row.announce_type) for row in rows]


def category_facet(conn: Connection, start: date, end: date) -> list[tuple[str, int]]:
    """(category, distinct papers listed in the period under it), most papers first.

    Papers are made distinct first (IN a subquery), so no count(DISTINCT …) sort is needed.
    """
    listed = select(listings.c.paper_id).where(listings.c.day.between(start, end))
    papers_count = func.count().label("papers")
    query = (
        select(paper_categories.c.category, papers_count)
        .where(paper_categories.c.paper_id.in_(listed))
        .group_by(paper_categories.c.category)
        .order_by(papers_count.desc(), paper_categories.c.category)
    )
    return [(row.category, row.papers) for row in conn.execute(query)]


# --- papers with everything a card or a paper page shows -----------------------------------

_PAPER_COLUMNS = [c for c in papers.c if c.name not in ("content_hash", "source_hash", "changed_at")]


def id_in(column: ColumnElement[Any], ids: Sequence[int]) -> ColumnElement[bool]:
    """column IN (1, 2, ...) with the integers written into the SQL text.

    With one bound parameter per id, psycopg re-parses a long query text on every page (about a
    millisecond per query); integers are safe to inline, and SQLite runs both forms alike.
    """
    values = [int(value) for value in ids]
    return column.in_(bindparam("ids", values, expanding=True, literal_execute=True))


def papers_by_ids(conn: Connection, ids: Sequence[int]) -> list[Paper]:
    """Papers in the order of `ids` (unknown ids skipped), in five queries whatever their number."""
    if not ids:
        return []
    rows = conn.execute(_PAPERS_BY_IDS, {"ids": [int(value) for value in ids]}).all()
    by_id = {paper.id: paper for paper in _papers_from_rows(conn, rows)}
    return [by_id[pid] for pid in ids if pid in by_id]


def paper_by_arxiv_id(conn: Connection, arxiv_id: str) -> Paper | None:
    """One paper with its versions and every listing, in seven queries."""
    row = conn.execute(_PAPER_BY_ARXIV_ID, {"arxiv_id": arxiv_id}).first()
    if row is None:
        return None
    paper = _papers_from_rows(conn, [row])[0]
    for version in _children(conn, paper_versions, [paper.id], paper_versions.c.version)[paper.id]:
        paper.versions.append(Version(version.version, utc(version.created_at), version.size))
    for listing in _children(conn, listings, [paper.id], listings.c.day)[paper.id]:
        paper.listings.append(Listing(listing.day, listing.announce_type))
    return paper


def paper_ids_by_arxiv_ids(conn: Connection, arxiv_ids: Collection[str]) -> dict[str, int]:
    """The row id of each paper with one of these canonical arXiv ids (no version), by arXiv id;
    ids not in the catalogue are left out."""
    if not arxiv_ids:
        return {}
    query = select(papers.c.arxiv_id, papers.c.id).where(papers.c.arxiv_id.in_(list(arxiv_ids)))
    return {row.arxiv_id: row.id for row in conn.execute(query)}


def paper_id_by_arxiv_id(conn: Connection, arxiv_id: str) -> int | None:
    """The row id of the paper with this canonical arXiv id (no version)."""
    return paper_ids_by_arxiv_ids(conn, [arxiv_id]).get(arxiv_id)


def _papers_from_rows(conn: Connection, rows: Sequence[Row[Any]]) -> list[Paper]:
    ids = [row.id for row in rows]
    authors = _children(conn, paper_authors, ids, paper_authors.c.position)
    categories = _children(conn, paper_categories, ids, paper_categories.c.position)
    links = _children(conn, paper_links, ids, paper_links.c.position)
    signals = _hf_signals(conn, rows)
    out = []
    for row in rows:
        paper = _paper_from_row(row)
        paper.authors = [author.name for author in authors[row.id]]
        paper.categories = [category.category for category in categories[row.id]]
        paper.links = [Link(link.kind, link.url) for link in links[row.id]]
        paper.hf = signals.get(row.id)
        out.append(paper)
    return out


def _paper_from_row(row: Row[Any]) -> Paper:
    return Paper(
        id=row.id,
        arxiv_id=row.arxiv_id,
        title=row.title,
        abstract=row.abstract,
        comment=row.comment,
        journal_ref=row.journal_ref,
        doi=row.doi,
        license=row.license,
        submitter=row.submitter,
        published_at=utc(row.published_at),
        updated_at=utc(row.updated_at),
        latest_version=row.latest_version,
        first_listed=row.first_listed,
    )


def _children(
    conn: Connection, table: Table, ids: Sequence[int], order: ColumnElement[Any]
) -> defaultdict[int, list[Row[Any]]]:
    grouped: defaultdict[int, list[Row[Any]]] = defaultdict(list)
    query = _CHILDREN.get((table.name, order.key))
    if query is None:
        # Ordered by paper first: rows come straight off the primary key index, no sort needed.
        query = select(table).where(table.c.paper_id.in_(_IDS)).order_by(table.c.paper_id, order)
        _CHILDREN[(table.name, order.key)] = query
    for row in conn.execute(query, {"ids": [int(value) for value in ids]}):
        grouped[row.paper_id].append(row)
    return grouped


# Statements a paper's loading runs, built once (as _COMMUNITY_OF): building one anew cost about
# as much CPU as running it, and a paper page not yet kept loads its paper and its ten similar
# papers with twelve of them. The ids are written into the SQL text as id_in does.
_IDS: BindParameter[Any] = bindparam("ids", expanding=True, literal_execute=True)
_PAPERS_BY_IDS = select(*_PAPER_COLUMNS).where(papers.c.id.in_(_IDS))
_PAPER_BY_ARXIV_ID = select(*_PAPER_COLUMNS).where(papers.c.arxiv_id == bindparam("arxiv_id"))
_CHILDREN: dict[tuple[str, str | None], Select[Any]] = {}  # by table and order, built on first use
_HF_SIGNALS = select(hf_papers).where(hf_papers.c.paper_id.in_(_IDS))


def _hf_signals(conn: Connection, paper_rows: Sequence[Row[Any]]) -> dict[int, HfSignal]:
    arxiv_ids = {row.id: row.arxiv_id for row in paper_rows}
    return {
        row.paper_id: HfSignal(
            arxiv_id=arxiv_ids[row.paper_id],
            upvotes=row.upvotes,
            submitted_on_daily_at=utc(row.submitted_on_daily_at),
            submitted_by=row.submitted_by,
            github_repo=row.github_repo,
            github_stars=row.github_stars,
            project_page=row.project_page,
            num_comments=row.num_comments,
        )
        for row in conn.execute(_HF_SIGNALS, {"ids": list(arxiv_ids)})
    }


# --- the community around a page's papers: one query each, whatever their number --------


def _community_query() -> Select[Any]:
    joined = (
        papers.outerjoin(paper_stats, paper_stats.c.paper_id == papers.c.id)
        .outerjoin(submissions, submissions.c.paper_id == papers.c.id)
        .outerjoin(users, users.c.id == submissions.c.user_id)
    )
    query = select(
        papers.c.id, paper_stats.c.upvotes, paper_stats.c.comments, users.c.name.label("submitter")
    ).select_from(joined)
    return query.where(papers.c.id.in_(bindparam("ids", expanding=True, literal_execute=True)))


# Built once: making this statement anew took longer than running it (every page runs it).
_COMMUNITY_OF = _community_query()


def community_of(conn: Connection, ids: Sequence[int]) -> dict[int, Community]:
    """Upvotes, visible comments and submitter of each paper, in one query."""
    if not ids:
        return {}
    return {
        row.id: Community(row.upvotes or 0, row.comments or 0, row.submitter)
        for row in conn.execute(_COMMUNITY_OF, {"ids": [int(i) for i in ids]})
    }


# --- catalogue and sync status ------------------------------------------------------------


def count_papers(conn: Connection, after: int = 0) -> int:
    """Papers in the catalogue (those with an id greater than `after`, for a run resuming there)."""
    query = select(func.count()).select_from(papers)
    return int(conn.execute(query.where(papers.c.id > after) if after else query).scalar_one())


def catalogue_counts(conn: Connection) -> CatalogueCounts:
    """Papers, listing days and the listed range, in one statement."""
    row = conn.execute(
        select(
            select(func.count()).select_from(papers).scalar_subquery().label("papers"),
            select(func.count(distinct(listings.c.day))).scalar_subquery().label("days"),
            select(func.min(listings.c.day)).scalar_subquery().label("first_day"),
            select(func.max(listings.c.day)).scalar_subquery().label("last_day"),
        )
    ).one()
    return CatalogueCounts(row.papers, row.days, row.first_day, row.last_day)


def sync_status(conn: Connection) -> SyncStatus:
    rows = conn.execute(
        select(sync_state).where(sync_state.c.key.in_([SYNC_STATE_KEY, SYNC_MESSAGE_KEY]))
    ).all()
    by_key = {row.key: row for row in rows}
    state, message = by_key.get(SYNC_STATE_KEY), by_key.get(SYNC_MESSAGE_KEY)
    status = SyncStatus(
        state=state.value if state else None,
        message=message.value if message else None,
        updated_at=utc(state.updated_at) if state else None,
    )
    if status.state == "running" and status.updated_at and now_utc() - status.updated_at > RUNNING_GOES_STALE:
        return SyncStatus(state="failed", message=INTERRUPTED, updated_at=status.updated_at)
    return status


# --- the API's lists beyond the feed periods ------------------------------------------------


def submitted_by(
    conn: Connection, user_name: str, start: date | None, end: date | None, *, limit: int, offset: int
) -> tuple[int, list[ListedPaper]]:
    """One page of the papers member `user_name` submitted (to days in [start, end] when given),
    newest submission first, and how many there are in all: one query (two past the last page)."""
    conditions = [users.c.name == user_name]
    if start is not None and end is not None:
        conditions.append(submissions.c.day.between(start, end))
    joined = submissions.join(users, users.c.id == submissions.c.user_id)
    query = (
        select(submissions.c.paper_id, submissions.c.day, func.count().over().label("total"))
        .select_from(joined)
        .where(*conditions)
        .order_by(submissions.c.submitted_at.desc(), submissions.c.paper_id.desc())
    )
    rows = conn.execute(query.limit(limit).offset(offset)).all()
    if rows:
        total = rows[0].total
    elif offset == 0:
        total = 0
    else:
        total = conn.execute(select(func.count()).select_from(joined).where(*conditions)).scalar_one()
    return total, [ListedPaper(row.paper_id, row.day, "submitted") for row in rows]


def paper_ids_after(conn: Connection, after: int, limit: int) -> list[int]:
    """The catalogue in the order papers were added: up to `limit` ids greater than `after`."""
    query = select(papers.c.id).where(papers.c.id > after).order_by(papers.c.id).limit(limit)
    return list(conn.execute(query).scalars())
