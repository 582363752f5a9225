"""Pages run a fixed, small number of SQL statements, however many papers they show."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from app_client import counted_statements, listed_ids, open_client
from community import log_in_as, make_member
from conftest import make_record
from sqlalchemy import delete, insert, select

from paperboy.domain.models import Listing
from paperboy.integrations.embedder import make_embedder
from paperboy.services.search_index import embed_papers
from paperboy.storage.engine import now_utc
from paperboy.storage.schema import hf_papers, paper_stats, papers, votes

# Trending feed pages (the default): the catalogue and community versions, the signals of the
# period's papers that have any, the count, the rest of the page in "newest" order (they all score
# 0), the listing days around, the catalogue version and five to load the page's papers, the
# category facet and the community counts. Sorting by newest needs no signals. "/" first finds the
# latest day.
MAX_STATEMENTS = {
    "/": 14,
    "day": 13,
    "day newest": 12,
    "week": 13,
    "month": 13,
    # The catalogue version (read once, for the paper and its similar papers alike), six for
    # the paper, one for its community counts, one for its discussion, and five to load its
    # similar papers (their vectors are in memory) and one for their counts.
    "paper": 15,
    "why": 10,  # the paper, its community counts, and the signals of its day and of its week
    "top": 8,  # the signals of every paper that has any, six to load the page, the counts
    "about": 0,
}
# Shown again while neither version changes, a feed page's ranking, facet and days come from the
# process's feed cache and its papers from the paper cache (services/feed.py, services/hydrate.py):
# the two versions, the catalogue version again (the papers' cache) and the community counts.
MAX_STATEMENTS_AGAIN = {
    "/": 4,  # and the latest listing day
    "day": 3,
    "day newest": 3,
    "week": 3,
    "month": 3,
    # The catalogue version (once) and the counts for the paper (kept per catalogue version,
    # services/hydrate.py), its discussion, and the counts for its similar papers (their
    # neighbours kept per vectors snapshot, services/neighbour_cache.py).
    "paper": 4,
    "why": 10,
    "top": 3,
    "about": 0,
}
# A logged-in reader costs the session look-up (with the header's count of their unseen alerts in
# the same statement: storage/users.session_user) and, on lists and paper pages, one query for
# which of the page's papers they upvoted (on paper pages, one more for the similar papers, one
# for their follow of the paper and one for their collections, note and read mark:
# storage/collections.keeping; on a category's listing, one for their follow of the category).
MEMBER_EXTRA = 2
MEMBER_EXTRA_PAPER = 5
WEEK_DAYS = [date(2025, 6, 9) + timedelta(days=n) for n in range(5)]  # Mon 9 - Fri 13 June 2025
PAGES = {
    "/": "/",
    "day": "/papers/date/2025-06-12",
    "day newest": "/papers/date/2025-06-12?sort=newest",
    "week": "/papers/week/2025-W24?category=cs.CV",
    "month": "/papers/month/2025-06",
    "paper": "/papers/2506.00003",
    "why": "/papers/2506.00003/why",
    "top": "/papers/top",
    "about": "/about/trending",
}


def add_week_of_papers(add_papers, engine, count):
    """`count` papers spread over a week; every third one listed twice; authors, links, 3 categories;
    every second one with Hugging Face upvotes and every third one with upvotes here."""
    records = []
    for n in range(count):
        days = [WEEK_DAYS[n % 5]] + ([WEEK_DAYS[(n + 1) % 5]] if n % 3 == 0 else [])
        records.append(
            make_record(
                f"2506.{n + 1:05d}",
                authors=tuple(f"Author {k}" for k in range(n % 7 + 1)),
                categories=("cs.CV", "cs.LG", f"cs.X{n % 4}"),
                comment=f"Code: https://github.com/lab/repo{n}",
                listings=tuple(Listing(day, "new") for day in sorted(days)),
            )
        )
    add_papers(*records)
    _add_signals(engine)


def _add_signals(engine):
    with engine.begin() as conn:
        ids = conn.execute(select(papers.c.id).order_by(papers.c.id)).scalars().all()
        now = now_utc()
        hf = [
            {"paper_id": pid, "upvotes": pid % 17, "github_stars": pid * 10, "fetched_at": now}
            for pid in ids[::2]
        ]
        stats = [
            {"paper_id": pid, "upvotes": pid % 5, "comments": pid % 3, "updated_at": now} for pid in ids[::3]
        ]
        conn.execute(delete(hf_papers))  # a second call refills the same papers
        conn.execute(delete(paper_stats))
        conn.execute(insert(hf_papers), hf)
        conn.execute(insert(paper_stats), stats)


def statements_per_page(settings, add_papers, engine, papers, *, member=False):
    add_week_of_papers(add_papers, engine, papers)
    embed_papers(engine, make_embedder("hashing"), batch_size=256)  # paper pages list similar papers
    counts = {}
    # The app searches those hashing vectors; 200 a page and no page cache: measure rendering.
    with open_client(settings.replace(embedder="hashing", page_size=200, page_cache_mb=0)) as client:
        if member:
            user = make_member(engine, "reader")
            log_in_as(client, user)
            with engine.begin() as conn:  # the reader upvoted the first paper
                conn.execute(insert(votes).values(paper_id=1, user_id=user.id, created_at=now_utc()))
        client.get("/healthz")  # the first connection's set-up is not a page's cost
        for name, path in PAGES.items():
            for label in (name, f"{name} again"):  # the second time, its papers are cached
                with counted_statements(client) as statements:
                    response = client.get(path)
                assert response.status_code == 200, path
                counts[label] = len(statements)
        assert len(listed_ids(client.get(PAGES["week"]).text)) == papers
        assert 'class="similar-list"' in client.get(PAGES["paper"]).text  # measured with them
    return counts


@pytest.mark.parametrize("papers", [10, 150])
def test_statement_counts_are_capped(settings, add_papers, engine, papers):
    counts = statements_per_page(settings, add_papers, engine, papers)
    for name, count in counts.items():
        assert count <= _cap(name), (name, count)


def _cap(name: str) -> int:
    page = name.removesuffix(" again")
    return MAX_STATEMENTS[page] if name == page else MAX_STATEMENTS_AGAIN[page]


def test_statement_counts_do_not_grow_with_the_papers_shown(settings, add_papers, engine):
    few = statements_per_page(settings, add_papers, engine, 10)
    many = statements_per_page(settings, add_papers, engine, 150)  # the same pages, now showing 15 times more
    assert few == many


def test_a_logged_in_reader_costs_a_fixed_number_more(settings, add_papers, engine):
    counts = statements_per_page(settings, add_papers, engine, 150, member=True)
    for name, count in counts.items():
        extra = MEMBER_EXTRA_PAPER if name.startswith("paper") else MEMBER_EXTRA
        extra += "category=" in PAGES.get(name, "")
        assert count <= _cap(name) + extra, (name, count)
