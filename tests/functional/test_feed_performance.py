"""Pages run a fixed, small number of SQL statements, however many papers they show."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from app_client import counted_statements, listed_ids, open_client
from conftest import make_record

from paperboy.domain.models import Listing

MAX_STATEMENTS = {"/": 10, "day": 9, "week": 9, "month": 9, "paper": 7}
WEEK_DAYS = [date(2025, 6, 9) + timedelta(days=n) for n in range(5)]  # Mon 9 - Fri 13 June 2025


def add_week_of_papers(add_papers, count):
    """`count` papers spread over a week; every third one listed twice; authors, links, 3 categories."""
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


def statements_per_page(settings, add_papers, papers):
    add_week_of_papers(add_papers, papers)
    pages = {
        "/": "/",
        "day": "/papers/date/2025-06-12",
        "week": "/papers/week/2025-W24?category=cs.CV",
        "month": "/papers/month/2025-06",
        "paper": "/papers/2506.00003",
    }
    counts = {}
    with open_client(settings.replace(page_size=200, page_cache_mb=0)) as client:  # measure rendering
        client.get("/healthz")  # the first connection's set-up is not a page's cost
        for name, path in pages.items():
            with counted_statements(client) as statements:
                response = client.get(path)
            assert response.status_code == 200, path
            counts[name] = len(statements)
        assert len(listed_ids(client.get(pages["week"]).text)) == papers
    return counts


@pytest.mark.parametrize("papers", [10, 150])
def test_statement_counts_are_capped(settings, add_papers, papers):
    counts = statements_per_page(settings, add_papers, papers)
    for name, count in counts.items():
        assert count <= MAX_STATEMENTS[name], (name, count)


def test_statement_counts_do_not_grow_with_the_papers_shown(settings, add_papers):
    few = statements_per_page(settings, add_papers, 10)
    many = statements_per_page(settings, add_papers, 150)  # the same pages, now showing 15 times more
    assert few == many
