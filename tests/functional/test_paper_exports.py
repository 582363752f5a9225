"""/papers/{id}.md, .bib and .ris, and BibTeX / RIS of period lists, through HTTP."""

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
def papers(add_papers):
    add_papers(
        make_record(
            "2506.12229",
            title="Attention *Is* [Still] All_You Need",
            abstract="First about $\\alpha$-attention & 50% of <b>it</b>.\n  Second paragraph.",
            authors=("Ada Lovelace", "Alan Turing"),
            categories=("cs.CL", "cs.LG"),
            comment="12 pages. Code: https://github.com/ada/attention",
            journal_ref="J. Attn. 1 (2025) 1-12",
            doi="10.1000/xyz123",
            versions=(
                Version(1, datetime(2025, 6, 11, 17, 0, tzinfo=UTC)),
                Version(2, datetime(2025, 6, 20, 9, 30, tzinfo=UTC)),
            ),
            listings=(Listing(date(2025, 6, 12), "new"),),
        ),
        make_record(
            "hep-th/9901001",
            title="Strings {unbalanced",
            authors=("Édouard Brézin",),
            categories=("hep-th",),
            versions=(Version(1, datetime(1999, 1, 4, tzinfo=UTC)),),
            listings=(Listing(date(1999, 1, 5), "new"),),
        ),
    )


def test_markdown_has_title_authors_links_categories_dates_and_abstract(client, papers):
    response = client.get("/papers/2506.12229.md")
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/markdown; charset=utf-8"
    text = response.text
    assert text.startswith("# Attention \\*Is\\* \\[Still\\] All\\_You Need\n")
    assert "**Authors:** Ada Lovelace, Alan Turing" in text
    assert "**Categories:** cs.CL \\(primary\\), cs.LG" in text
    assert "**Submitted:** 2025-06-11 (v1)" in text
    assert "**Updated:** 2025-06-20 (v2)" in text
    assert "**First listed:** 2025-06-12" in text
    assert "[arXiv](https://arxiv.org/abs/2506.12229)" in text
    assert "[Code](https://github.com/ada/attention)" in text
    assert "[DOI](https://doi.org/10.1000/xyz123)" in text
    assert "[On this site](http://127.0.0.1:8000/papers/2506.12229)" in text
    assert (
        "## Abstract\n\nFirst about $\\\\alpha$-attention & 50% of \\<b\\>it\\</b\\>.\n\nSecond paragraph.\n"
        in text
    )
    assert response.headers["etag"]


def test_bibtex_and_ris_of_a_paper(client, papers):
    bib = client.get("/papers/2506.12229.bib")
    assert bib.status_code == 200
    assert bib.headers["content-type"] == "application/x-bibtex; charset=utf-8"
    assert bib.text.startswith("@article{lovelace2025attention,\n")
    assert "  journal = {J. Attn. 1 (2025) 1-12}," in bib.text
    assert "  eprint = {2506.12229}," in bib.text
    ris = client.get("/papers/2506.12229.ris")
    assert ris.headers["content-type"] == "application/x-research-info-systems; charset=utf-8"
    assert ris.text.startswith("TY  - JOUR\r\nAU  - Ada Lovelace\r\nAU  - Alan Turing\r\n")
    assert "DO  - 10.1000/xyz123\r\n" in ris.text
    assert ris.text.endswith("ER  - \r\n")


def test_old_style_ids_keep_their_slash(client, papers):
    bib = client.get("/papers/hep-th/9901001.bib").text
    assert bib.startswith("@misc{brezin1999strings,")
    assert "title = {{Strings \\textbraceleft{}unbalanced}}" in bib  # BibTeX counts \\{ as a brace
    assert client.get("/papers/hep-th/9901001.md").text.startswith("# Strings \\{unbalanced")
    assert client.get("/papers/hep-th/9901001.ris").status_code == 200
    assert client.get("/papers/hep-th/9901001").status_code == 200  # the page itself still answers


def test_other_spellings_redirect_and_unknown_papers_are_404(client, papers):
    response = client.get("/papers/2506.12229v2.bib")
    assert response.status_code == 301
    assert response.headers["location"] == "/papers/2506.12229.bib"
    missing = client.get("/papers/2401.00001.md")
    assert missing.status_code == 404
    assert "not in this catalogue" in missing.text
    assert client.get("/papers/not-an-id.ris").status_code == 404
    assert client.get("/papers/2506.12229").status_code == 200
    assert client.get("/papers/2506.12229/why").status_code == 200


def test_the_paper_page_links_its_citations(client, papers):
    html = client.get("/papers/2506.12229").text
    assert 'href="/papers/2506.12229.bib">BibTeX</a>' in html
    assert 'href="/papers/2506.12229.ris">RIS</a>' in html
    assert 'href="/papers/2506.12229.md">Markdown</a>' in html


def test_a_period_as_bibtex_and_ris(client, papers):
    bib = client.get("/feeds/day/2025-06-12.bib")
    assert bib.status_code == 200
    assert bib.text.count("@article{") == 1
    assert bib.headers["etag"]
    ris = client.get("/feeds/month/1999-01.ris", params={"category": "hep-th"})
    assert ris.text.count("TY  - ") == 1
    assert "AU  - Édouard Brézin\r\n" in ris.text
    assert client.get("/feeds/month/1999-01.ris", params={"category": "cs.LG"}).text == ""
    html = client.get("/papers/date/2025-06-12").text
    assert 'href="/feeds/day/2025-06-12.bib">BibTeX</a>' in html
