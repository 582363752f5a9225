"""The real 74,728-paper corpus: imported once, listed exactly as listings.tsv.gz says,
and imported again without a single change."""

from __future__ import annotations

import gzip
import re
from collections import defaultdict

from app_client import listed_ids, open_client
from conftest import dump_database, shared_path
from sqlalchemy import func, select

from paperboy.services.ingest import import_files
from paperboy.storage.schema import listings, papers

DAY = "2025-06-12"


def _tsv_days(path):
    by_day = defaultdict(set)
    with gzip.open(path, "rt") as rows:
        next(rows)
        for row in rows:
            day, arxiv_id = row.rstrip("\n").split("\t")
            by_day[day].add(arxiv_id)
    return by_day


_NEXT_PAGE = re.compile(r'<a rel="next" href="([^"]+page=\d+[^"]*)">')


def _walk_day(client, url):
    """Every card of a day, following the page navigation to the end."""
    ids = []
    while url:
        response = client.get(url)
        assert response.status_code == 200
        ids += listed_ids(response.text)
        next_page = _NEXT_PAGE.search(response.text)
        url = next_page.group(1).replace("&amp;", "&") if next_page else None
    return ids


def test_full_corpus_import_lists_each_day_exactly(engine, settings):
    corpus = shared_path("data", "arxiv", "papers.jsonl.gz")
    listings_tsv = shared_path("data", "arxiv", "listings.tsv.gz")
    report = import_files(engine, [corpus], listings_path=listings_tsv, batch_size=2000)
    assert report.written.inserted == 74_728
    assert report.error_count == 0
    by_day = _tsv_days(listings_tsv)
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(papers)).scalar_one() == 74_728
        n_listings = conn.execute(select(func.count()).select_from(listings)).scalar_one()
    assert n_listings == sum(len(ids) for ids in by_day.values())

    with open_client(settings) as client:
        shown = _walk_day(client, f"/papers/date/{DAY}")
    assert len(shown) == len(set(shown))
    assert set(shown) == by_day[DAY]

    before = dump_database(engine)
    again = import_files(engine, [corpus], listings_path=listings_tsv, batch_size=2000)
    assert (again.written.inserted, again.written.updated, again.written.unchanged) == (0, 0, 74_728)
    assert dump_database(engine) == before
