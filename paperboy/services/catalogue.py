"""Lists of papers beyond a feed period, for the API: a member's submissions, and the whole
catalogue in the order papers were added (paged by a cursor). Each opens its own connection and
loads its page in a fixed number of queries, like the feed pages.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection, Engine

from paperboy.domain.calendar import Period
from paperboy.domain.models import Listing, Paper
from paperboy.domain.users import normalise_name
from paperboy.services.feed import FeedItem
from paperboy.services.hydrate import hydrate_papers
from paperboy.storage import queries
from paperboy.storage.queries import ListedPaper


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
        views = hydrate_papers(conn, ids[:limit])
    items = [FeedItem(view.paper, _first_listing(view.paper), view.community) for view in views]
    return CataloguePage(items, ids[limit - 1] if len(ids) > limit else None)


def _first_listing(paper: Paper) -> Listing | None:
    return Listing(paper.first_listed, None) if paper.first_listed else None


def _items(conn: Connection, listed: list[ListedPaper]) -> list[FeedItem]:
    listings = {item.paper_id: Listing(item.day, item.announce_type) for item in listed}
    return [
        FeedItem(view.paper, listings[view.paper.id], view.community)
        for view in hydrate_papers(conn, list(listings))
    ]
