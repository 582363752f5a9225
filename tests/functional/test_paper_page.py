"""The paper page: /papers/{arxiv_id}, old-style ids, version redirects and 404s."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from app_client import open_client
from conftest import make_record

from paperboy.domain.models import Listing, Version


@pytest.fixture
def client(settings):
    with open_client(settings) as client:
        yield client


@pytest.fixture
def paper(add_papers):
    add_papers(
        make_record(
            "2506.12229",
            title="Attention\n  Is Still All You Need",
            abstract="First paragraph about $\\alpha$-attention\nwrapped across lines.\n  Second paragraph.",
            authors=tuple(f"Author {n}" for n in range(1, 9)),
            categories=("cs.CL", "cs.LG"),
            comment="12 pages. Code: https://github.com/ada/attention",
            journal_ref="J. Attn. 1 (2025) 1-12",
            doi="10.1000/xyz123",
            license="http://creativecommons.org/licenses/by/4.0/",
            versions=(
                Version(1, datetime(2025, 6, 11, 17, 0, tzinfo=UTC), "1.2 MB"),
                Version(2, datetime(2025, 6, 20, 9, 30, tzinfo=UTC)),
            ),
            listings=(Listing(date(2025, 6, 12), "new"), Listing(date(2025, 6, 23), "replace")),
        )
    )


def test_paper_page_shows_everything_the_catalogue_knows(client, paper):
    response = client.get("/papers/2506.12229")
    html = response.text
    assert response.status_code == 200
    assert "<h1>Attention Is Still All You Need</h1>" in html
    authors = ", ".join(f'<a href="/authors/Author%20{n}">Author {n}</a>' for n in range(1, 9))
    assert authors in html  # every author, each a link to their page
    assert (
        "<p>First paragraph about <math><mrow><mi>α</mi></mrow></math>-attention wrapped across lines.</p>"
        in html
    )
    assert "<p>Second paragraph.</p>" in html
    assert "<strong>cs.CL</strong> <span" in html
    assert "(primary)" in html
    assert "v1: 11 Jun 2025, 17:00 UTC (1.2 MB)" in html
    assert "v2: 20 Jun 2025, 09:30 UTC" in html
    assert (
        '<a href="/papers/date/2025-06-12">Thursday, 12 June 2025</a> <span class="badge badge-new">new'
        in html
    )
    assert '<a href="/papers/date/2025-06-23">Monday, 23 June 2025</a>' in html
    assert "J. Attn. 1 (2025) 1-12" in html
    assert 'href="https://doi.org/10.1000/xyz123"' in html
    assert 'href="http://creativecommons.org/licenses/by/4.0/"' in html
    assert 'href="https://github.com/ada/attention"' in html
    assert 'href="https://arxiv.org/abs/2506.12229"' in html
    assert 'href="https://arxiv.org/pdf/2506.12229"' in html


def test_old_style_ids_keep_their_slash(client, add_papers):
    add_papers(make_record("hep-th/9901001", title="Strings from the nineties"))
    response = client.get("/papers/hep-th/9901001")
    assert response.status_code == 200
    assert "Strings from the nineties" in response.text
    assert 'href="https://arxiv.org/abs/hep-th/9901001"' in response.text


@pytest.mark.parametrize(
    ("path", "target"),
    [
        ("/papers/2506.12229v2", "/papers/2506.12229"),
        ("/papers/arXiv:2506.12229", "/papers/2506.12229"),
        ("/papers/2506.12229/", "/papers/2506.12229"),
        ("/papers/hep-th/9901001v3", "/papers/hep-th/9901001"),
    ],
)
def test_other_spellings_redirect_permanently_to_the_canonical_page(client, path, target):
    response = client.get(path)
    assert response.status_code in (301, 308)
    assert response.headers["location"] == target


def test_feed_cards_link_to_the_paper_page(client, paper):
    assert 'href="/papers/2506.12229"' in client.get("/papers/date/2025-06-12").text


@pytest.mark.parametrize("bad_id", ["not-an-id", "2506.1222", "2513.12229", "hep-th/99010", "2506.12229v0"])
def test_malformed_ids_get_a_404_page_with_the_reason(client, bad_id):
    response = client.get(f"/papers/{bad_id}")
    assert response.status_code == 404
    assert "<h1>Not an arXiv id</h1>" in response.text
    assert "arXiv" in response.text


def test_unknown_valid_id_is_not_in_this_catalogue(client):
    response = client.get("/papers/2506.99999")
    assert response.status_code == 404
    assert "arXiv paper 2506.99999 is not in this catalogue." in response.text
    assert 'href="https://arxiv.org/abs/2506.99999"' in response.text


def test_header_leads_to_the_feeds_of_the_first_listing(client, add_papers):
    add_papers(make_record("2506.00007", listings=(Listing(date(2025, 6, 12), "new"),)))
    html = client.get("/papers/2506.00007").text
    nav = html[html.index('<nav class="tabs"') : html.index("</nav>")]
    assert 'href="/papers/date/2025-06-12"' in nav
    assert 'href="/papers/week/2025-W24"' in nav
    assert 'href="/papers/month/2025-06"' in nav
