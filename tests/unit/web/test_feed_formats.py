"""The RSS writer against feedgen, which wrote paperboy's RSS before it: the same bytes for the same
entries, hostile text included, and a document feedparser reads without complaint."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

import feedparser
import pytest
from feedgen.feed import FeedGenerator

from paperboy.domain.models import Paper
from paperboy.web.feed_formats import (
    FeedEntry,
    FeedInfo,
    entry_for_paper,
    entry_updated,
    rfc2822,
    rss_document,
    rss_feed,
    rss_item,
)

INFO = FeedInfo(
    "paperboy: Tuesday, 2 June 2026",
    "Papers listed on arXiv, Tuesday, 2 June 2026, trending first",
    "https://papers.example.org/papers/date/2026-06-02",
    "https://papers.example.org/feeds/day/2026-06-02.rss?category=cs.LG&sort=newest",
)
HOSTILE = "<script>alert(1)</script> & ]]> <![CDATA[ x \"quoted\" 'single'\r\nnext\tline é ∑ \U0001f600"


def feedgen_rss(info: FeedInfo, entries: list[FeedEntry]) -> bytes:
    """paperboy's RSS as feedgen wrote it (web/feed_formats.py up to 3eb8641)."""
    generator = FeedGenerator()
    generator.load_extension("dc")
    generator.id(info.feed_url)
    generator.title(info.title)
    generator.description(info.description)
    generator.language("en")
    generator.generator("paperboy")
    updated = max((entry.updated for entry in entries), default=datetime(1970, 1, 1, tzinfo=UTC))
    generator.updated(updated)
    generator.lastBuildDate(updated)
    for entry in reversed(entries):
        item = generator.add_entry()
        item.id(entry.id)
        item.guid(entry.id, permalink=True)
        item.title(entry.title)
        item.link(href=entry.url)
        item.description(entry.content_html)
        item.published(entry.published)
        item.updated(entry.updated)
        item.pubDate(entry.published)
        for name in entry.authors:
            item.dc.dc_creator(name, replace=False)
        for tag in entry.tags:
            item.category(term=tag)
    generator.link(href=info.feed_url, rel="self")
    generator.link(href=info.home_page_url, rel="alternate")
    return bytes(generator.rss_str(pretty=True))


def paper(n: int, **fields: object) -> Paper:
    values: dict[str, object] = {
        "id": n,
        "arxiv_id": f"2606.{n:05d}",
        "title": f"Paper {n}: $\\mathcal{{O}}(n \\log n)$ sorting",
        "abstract": f"We sort in $O(n^2)$ & <less> time.\n\nA second paragraph, {n}.",
        "authors": ("Ada Lovelace", "Alan Turing"),
        "categories": ("cs.DS", "cs.LG"),
        "published_at": datetime(2026, 6, 1, 17, 30, tzinfo=UTC),
        "updated_at": datetime(2026, 6, 2, 9, 0, tzinfo=UTC),
        "first_listed": date(2026, 6, 2),
    }
    return Paper(**(values | fields))  # type: ignore[arg-type]


def entries() -> list[FeedEntry]:
    papers = [
        paper(1),
        paper(2, title=HOSTILE, abstract=HOSTILE, authors=(HOSTILE, "", "Émile Borel")),
        paper(3, published_at=None, updated_at=None, categories=(), authors=()),
        paper(4, title="", published_at=datetime(2026, 6, 1, 23, 0, tzinfo=timezone(timedelta(hours=-5)))),
        paper(
            5, abstract="Display math: $$\\sum_{i=1}^n i = \\frac{n(n+1)}{2}$$ and \\href{javascript:x}{y}"
        ),
    ]
    return [
        entry_for_paper(
            p, f"https://papers.example.org/papers/{p.arxiv_id}", upvotes=p.id, listed=date(2026, 6, 2)
        )
        for p in papers
    ]


def test_rss_is_byte_for_byte_what_feedgen_wrote():
    assert rss_feed(INFO, entries()) == feedgen_rss(INFO, entries())


def test_an_empty_rss_feed_is_what_feedgen_wrote():
    assert rss_feed(INFO, []) == feedgen_rss(INFO, [])


def test_rss_items_put_together_make_the_same_document():
    listed = entries()
    updated = max(entry.updated for entry in listed)
    assert rss_document(INFO, updated, [rss_item(entry).encode() for entry in listed]) == rss_feed(
        INFO, listed
    )


def test_the_rss_parses_cleanly_and_keeps_every_text():
    parsed = feedparser.parse(rss_feed(INFO, entries()))
    assert parsed.bozo == 0, parsed.get("bozo_exception")
    assert len(parsed.entries) == 5
    hostile = parsed.entries[1]
    assert "<script>" in hostile.title  # text, escaped in the XML, not markup
    assert "<script>" not in hostile.summary  # the description's HTML escapes it once more
    assert "&lt;script&gt;" in hostile.summary
    assert "<math" in parsed.entries[0].summary  # MathML in the HTML content


def test_dates_are_english_whatever_the_locale():
    moment = datetime(2026, 6, 2, 0, 0, tzinfo=UTC)
    assert rfc2822(moment) == "Tue, 02 Jun 2026 00:00:00 +0000"
    east = datetime(2026, 12, 27, 8, 5, 9, tzinfo=timezone(timedelta(hours=5, minutes=30)))
    assert rfc2822(east) == "Sun, 27 Dec 2026 08:05:09 +0530"


@pytest.mark.parametrize("listed", [None, date(2026, 6, 2)])
def test_entry_updated_is_the_entrys_without_making_it(listed):
    for p in (paper(1), paper(3, published_at=None, updated_at=None)):
        entry = entry_for_paper(p, "https://papers.example.org/x", listed=listed)
        assert entry_updated(p, listed) == entry.updated
