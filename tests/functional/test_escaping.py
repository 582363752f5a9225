"""Upstream text is hostile: titles, abstracts, comments and links are shown, never executed."""

from __future__ import annotations

from datetime import date

import pytest
from app_client import open_client
from conftest import make_record
from sqlalchemy import insert, select

from paperboy.domain.models import Listing
from paperboy.storage.engine import now_utc
from paperboy.storage.schema import hf_papers, papers

SCRIPT = "<script>alert(1)</script>"
IMG = "<img src=x onerror=alert(1)>"


@pytest.fixture
def client(settings):
    with open_client(settings) as client:
        yield client


@pytest.fixture
def hostile(add_papers, engine):
    add_papers(
        make_record(
            "2506.00666",
            title=SCRIPT,
            abstract=f"Look {IMG} here. " + "Padding words. " * 40,
            authors=('"><svg onload=alert(1)>',),
            comment=f"Accepted {SCRIPT}",
            journal_ref=IMG,
            license="javascript:alert(1)",
            listings=(Listing(date(2025, 6, 12), "new"),),
        )
    )
    with engine.begin() as conn:
        paper_id = conn.execute(select(papers.c.id)).scalar_one()
        conn.execute(
            insert(hf_papers).values(
                paper_id=paper_id,
                upvotes=1,
                github_repo="javascript:alert(1)",
                project_page="https://example.org/?q=<b>",
                fetched_at=now_utc(),
            )
        )


@pytest.mark.parametrize(
    "path", ["/", "/papers/date/2025-06-12", "/papers/week/2025-W24", "/papers/2506.00666"]
)
def test_hostile_text_is_escaped_everywhere(client, hostile, path):
    html = client.get(path).text
    assert SCRIPT not in html
    assert IMG not in html
    assert "<svg" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert 'href="javascript:' not in html


def test_hostile_query_values_are_escaped(client, hostile):
    html = client.get("/papers/date/2025-06-12", params={"category": SCRIPT}).text
    assert SCRIPT not in html
    assert "&lt;script&gt;" in html
    html = client.get("/papers/date/2025-06-12", params={"page": SCRIPT}).text
    assert SCRIPT not in html


def test_hostile_paths_are_escaped_in_error_pages(client):
    for path in ["/papers/<script>alert(1)<%2Fscript>", "/nowhere/<script>", "/papers/date/<script>"]:
        response = client.get(path)
        assert response.status_code == 404
        assert "<script>" not in response.text
