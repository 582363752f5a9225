"""Lists of papers beyond a feed period, for the API: a member's submissions, and the whole
catalogue in the order papers were added (paged by a cursor). Each opens its own connection and
loads its page in a fixed number of queries, like the feed pages.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection, Engine

from paperboy.domain.calendar import Period
from paperboy.domain.models import Listing
from paperboy.domain.users import normalise_name
from paperboy.services.feed import FeedItem, community_of, with_all_links
from paperboy.storage import queries
from paperboy.storage.queries import NO_COMMUNITY, ListedPaper


@dataclass(frozen=True, slots=True)
class SubmittedPage:
    total: int  # the member's submissions in the period (or in all)
    items: list[FeedItem]  # each listed on the day it was submitted to


@dataclass(frozen=True, slots=True)
class CataloguePage:
    items: list[FeedItem]  # listing: the paper's first listing, if any
    cursor: int | None  # pass as `after` for the next page; None: this was the last page


def submitted_papers(
    engine: Engine, user_name: str, period: Period | None, *, page: int, page_size: int
) -> SubmittedPage:
    """Page `page` (from 1) of the papers member `user_name` submitted, newest first; only
    those submitted to a day of `period` when one is given. An unknown name has none."""
    name = normalise_name(user_name)[:64]
    start, end = (period.start, period.end) if period else (None, None)
    offset = (page - 1) * page_size
    with engine.connect() as conn:
        total, listed = queries.submitted_by(conn, name, start, end, limit=page_size, offset=offset)
        return SubmittedPage(total, _items(conn, listed))


def catalogue_page(engine: Engine, *, after: int, limit: int) -> CataloguePage:
    """Up to `limit` papers added after the paper whose id is `after` (0: from the start)."""
    with engine.connect() as conn:
        ids = queries.paper_ids_after(conn, after, limit + 1)  # one more: is there a next page?
        papers = queries.papers_by_ids(conn, ids[:limit])
        community = community_of(conn, [paper.id for paper in papers], None)
    items = [
        FeedItem(
            with_all_links(paper),
            Listing(paper.first_listed, None) if paper.first_listed else None,
            community.get(paper.id, NO_COMMUNITY),
        )
        for paper in papers
    ]
    return CataloguePage(items, ids[limit - 1] if len(ids) > limit else None)


def _items(conn: Connection, listed: list[ListedPaper]) -> list[FeedItem]:
    ids = [item.paper_id for item in listed]
    papers = {paper.id: paper for paper in queries.papers_by_ids(conn, ids)}
    community = community_of(conn, ids, None)
    return [
        FeedItem(
            with_all_links(papers[item.paper_id]),
            Listing(item.day, item.announce_type),
            community.get(item.paper_id, NO_COMMUNITY),
        )
        for item in listed
        if item.paper_id in papers
    ]
