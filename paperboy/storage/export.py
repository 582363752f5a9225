"""Reading the whole catalogue in batches, for `paperboy export`: papers by id (keyset pages,
so that batch N costs the same as batch 1), with their versions and listings."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from sqlalchemy import Connection, select

from paperboy.domain.models import Listing, Paper, Version
from paperboy.storage.engine import utc
from paperboy.storage.queries import id_in, papers_by_ids
from paperboy.storage.schema import listings, paper_versions, papers


def paper_batches(conn: Connection, batch_size: int) -> Iterator[list[Paper]]:
    """Every paper in id order (the order they were first stored), `batch_size` at a time, each
    with its versions and listings; a fixed number of queries per batch."""
    after = 0
    while True:
        query = select(papers.c.id).where(papers.c.id > after).order_by(papers.c.id).limit(batch_size)
        ids = list(conn.execute(query).scalars())
        if not ids:
            return
        batch = papers_by_ids(conn, ids)
        _attach_versions_and_listings(conn, batch)
        yield batch
        after = ids[-1]


def _attach_versions_and_listings(conn: Connection, batch: Sequence[Paper]) -> None:
    by_id = {paper.id: paper for paper in batch}
    ids = list(by_id)
    version_rows = conn.execute(
        select(paper_versions)
        .where(id_in(paper_versions.c.paper_id, ids))
        .order_by(paper_versions.c.paper_id, paper_versions.c.version)
    )
    for row in version_rows:
        by_id[row.paper_id].versions.append(Version(row.version, utc(row.created_at), row.size))
    listing_rows = conn.execute(
        select(listings).where(id_in(listings.c.paper_id, ids)).order_by(listings.c.paper_id, listings.c.day)
    )
    for row in listing_rows:
        by_id[row.paper_id].listings.append(Listing(row.day, row.announce_type))
