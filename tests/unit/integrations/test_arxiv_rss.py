from __future__ import annotations

from datetime import date
from email.utils import parsedate_to_datetime

import httpx
import pytest
from upstream_fakes import fake_client, local_fixture, serve_in_order, shared_fixture

from paperboy.domain.models import Listing
from paperboy.integrations.arxiv_rss import announcement_day, feed_url, fetch_listing, parse_feed
from paperboy.integrations.http import UpstreamError

RSS = "https://rss.arxiv.org/rss"
FEED = ("arxiv_rss", "laya-reader", "arxiv_rss.xml")


def test_each_item_becomes_a_paper_listed_on_the_announcement_day():
    papers = parse_feed(shared_fixture(*FEED).read_bytes())

    assert [p.arxiv_id for p in papers] == ["2609.26811", "2609.26820", "2205.06398", "2009.13987"]
    thursday = date(2026, 9, 24)
    assert [p.listings for p in papers] == [
        (Listing(thursday, "new"),),
        (Listing(thursday, "new"),),
        (Listing(thursday, "cross"),),
        (Listing(thursday, "replace"),),
    ]


def test_item_fields():
    signal, outliers = parse_feed(shared_fixture(*FEED).read_bytes())[1:3]

    assert signal.title == (
        "Signal2Symbol: Neuro-Symbolic Temporal Reasoning for Explainable Physiological "
        "Time-Series Anomaly Detection"
    )
    assert signal.authors == ("Naser Mansour", "Sidahmed Benabderrahmane", "Ameer Rahwan")
    assert signal.categories == ("cs.LG", "cs.AI")
    assert signal.license == "http://creativecommons.org/licenses/by-nc-nd/4.0/"
    assert signal.abstract is not None
    assert signal.abstract.startswith("Physiological time series such as electrocardiograms (ECG)")
    assert signal.abstract.endswith("compact, interpretable summaries of local detections.")
    assert signal.doi is None
    assert signal.versions == ()  # the feed says which version was announced, not when it was made
    assert outliers.doi == "10.1093/bioinformatics/btac431"
    assert outliers.categories == ("stat.ME", "stat.AP", "stat.ML")
    assert outliers.authors == ("Pritam Dey", "Zhengwu Zhang", "David B. Dunson")


@pytest.mark.parametrize(
    ("stamp", "day"),
    [
        ("Thu, 24 Sep 2026 00:00:00 -0400", date(2026, 9, 24)),  # how arXiv writes it
        ("Wed, 23 Sep 2026 20:00:00 -0400", date(2026, 9, 24)),  # the release, the evening before
        ("Wed, 23 Sep 2026 19:59:00 -0400", date(2026, 9, 23)),  # still the previous listing
        ("Thu, 24 Sep 2026 08:58:05 +0000", date(2026, 9, 24)),  # a UTC lastBuildDate
        ("Fri, 23 Feb 2024 00:00:00 -0500", date(2024, 2, 23)),  # winter: EST
        ("Fri, 23 Feb 2024 00:00:00 -0400", date(2024, 2, 23)),  # a summer offset in winter
        ("Fri, 23 Aug 2024 00:00:00 -0500", date(2024, 8, 23)),  # a winter offset in summer
    ],
)
def test_announcement_day(stamp, day):
    assert announcement_day(parsedate_to_datetime(stamp)) == day


def test_items_without_a_pubdate_take_the_channels():
    body = shared_fixture(*FEED).read_bytes()
    body = body.replace(
        b"<pubDate>Thu, 24 Sep 2026 00:00:00 -0400</pubDate>\n      <arxiv:announce_type>",
        b"<arxiv:announce_type>",
    )
    body = body.replace(
        b"<pubDate>Thu, 24 Sep 2026 00:00:00 -0400</pubDate>",
        b"<pubDate>Fri, 25 Sep 2026 00:00:00 -0400</pubDate>",
        1,
    )
    assert b"<pubDate>" in body
    assert body.count(b"<pubDate>") == 1

    papers = parse_feed(body)

    assert {p.listings[0].day for p in papers} == {date(2026, 9, 25)}


def test_a_weekend_feed_is_empty_not_an_error():
    assert parse_feed(local_fixture("arxiv_rss", "empty_weekend.xml").read_bytes()) == []


def test_feed_url():
    assert feed_url(RSS, ["cs.AI", "cs.CL"]) == "https://rss.arxiv.org/rss/cs.AI+cs.CL"
    assert feed_url(RSS + "/", [" cs.LG "]) == "https://rss.arxiv.org/rss/cs.LG"
    with pytest.raises(ValueError, match="at least one category"):
        feed_url(RSS, [])


def test_fetch_listing_requests_the_multi_category_feed():
    seen: list[httpx.Request] = []
    body = shared_fixture(*FEED).read_bytes()
    client = fake_client(serve_in_order([httpx.Response(200, content=body)], seen))

    papers = fetch_listing(client, RSS, ["cs.LG", "cs.AI", "cs.CL", "stat.ML"])

    assert str(seen[0].url) == "https://rss.arxiv.org/rss/cs.LG+cs.AI+cs.CL+stat.ML"
    assert len(papers) == 4


def test_a_truncated_feed_raises_a_clear_error():
    body = shared_fixture(*FEED).read_bytes()
    client = fake_client(serve_in_order([httpx.Response(200, content=body[:-200])], []))

    with pytest.raises(
        UpstreamError,
        match=r"^GET https://rss\.arxiv\.org/rss/cs\.LG: arXiv RSS feed is not "
        r"well-formed XML \(unclosed token: line 67, column 34\)$",
    ):
        fetch_listing(client, RSS, ["cs.LG"])


def test_an_atom_document_is_not_an_rss_feed():
    body = shared_fixture("arxiv_api", "sotawhat", "arxiv_transformer.xml").read_bytes()

    with pytest.raises(
        UpstreamError, match=r"^not an RSS 2.0 feed \(root element '\{http://www.w3.org/2005/Atom\}feed'\)$"
    ):
        parse_feed(body)


def test_items_with_bad_ids_are_skipped_and_reported():
    body = (
        shared_fixture(*FEED)
        .read_bytes()
        .replace(b"oai:arXiv.org:2609.26811v1", b"oai:arXiv.org:2613.26811v1")
    )
    skipped: list[str] = []

    papers = parse_feed(body, report=skipped.append)

    assert [p.arxiv_id for p in papers] == ["2609.26820", "2205.06398", "2009.13987"]
    assert skipped == ["RSS item '2613.26811v1': month 13 in '2613.26811v1' does not exist"]
