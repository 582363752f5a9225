"""RSS, Atom and JSON Feed of the day, week and month lists and of searches, through HTTP.

feedparser 6.0 reads RSS and Atom (it predates JSON Feed): those must parse with bozo == 0 and
carry the elements their formats require, checked on the XML itself; JSON Feeds are checked
against the JSON Feed 1.1 fields.
"""

from __future__ import annotations

from datetime import date
from xml.etree import ElementTree

import feedparser
import orjson
import pytest
from app_client import counted_statements, listed_ids, open_client
from conftest import make_record
from search_corpus import add_corpus, hashing_settings
from sqlalchemy import select

from paperboy.domain.models import Listing
from paperboy.storage.paper_stats import add_to_stats
from paperboy.storage.schema import papers
from paperboy.storage.transactions import write_transaction

ATOM_NS = "{http://www.w3.org/2005/Atom}"
FORMATS = ("rss", "atom", "json")
MEDIA_TYPES = {"rss": "application/rss+xml", "atom": "application/atom+xml", "json": "application/feed+json"}
SITE = "http://127.0.0.1:8000"  # the test settings' public_url


@pytest.fixture
def client(settings):
    with open_client(settings) as client:
        yield client


def listed(arxiv_id, *days, **fields):
    return make_record(arxiv_id, listings=tuple(Listing(day, "new") for day in days), **fields)


def upvote(engine, arxiv_id, upvotes):
    """Add `upvotes` to the paper's count the way votes do (a write transaction that bumps the
    community version), without members to cast them."""
    with write_transaction(engine) as conn:
        paper_id = conn.execute(select(papers.c.id).where(papers.c.arxiv_id == arxiv_id)).scalar_one()
        add_to_stats(conn, paper_id, upvotes=upvotes)


@pytest.fixture
def june(add_papers, engine):
    """Week 24 of 2025 and Monday 16 June; upvotes make trending differ from newest first."""
    add_papers(
        listed("2506.00101", date(2025, 6, 9), title="Monday paper"),
        listed("2506.00201", date(2025, 6, 12), title="Thursday early"),
        listed("2506.00202", date(2025, 6, 12), title="Thursday late", categories=("cs.CV",)),
        listed("2506.00301", date(2025, 6, 13), title="Friday paper"),
        listed("2506.00401", date(2025, 6, 16), title="Next Monday", categories=("cs.CL", "cs.CV")),
        listed("2506.00402", date(2025, 6, 16), title="Next Monday too"),
    )
    upvote(engine, "2506.00201", 5)
    upvote(engine, "2506.00402", 2)


def item_ids(fmt: str, body: bytes) -> list[str]:
    """The arXiv ids the feed's items link to, in document order."""
    if fmt == "json":
        urls = [item["url"] for item in orjson.loads(body)["items"]]
    else:
        parsed = feedparser.parse(body)
        assert parsed.bozo == 0, parsed.get("bozo_exception")
        urls = [entry.link for entry in parsed.entries]
    assert all(url.startswith(SITE + "/papers/") for url in urls)
    return [url.removeprefix(SITE + "/papers/") for url in urls]


def check_structure(fmt: str, body: bytes) -> None:
    """What each format requires of a feed and of its items."""
    if fmt == "json":
        feed = orjson.loads(body)
        assert feed["version"] == "https://jsonfeed.org/version/1.1"
        assert feed["title"]
        assert feed["home_page_url"].startswith(SITE)
        assert feed["feed_url"].startswith(SITE)
        for item in feed["items"]:
            assert item["id"]
            assert item["url"]
            assert item["title"]
            assert item["content_text"]
            assert item["date_published"].endswith("+00:00")
            assert item["authors"][0]["name"]
            assert isinstance(item["tags"], list)
        return
    root = ElementTree.fromstring(body)
    if fmt == "rss":
        assert root.tag == "rss"
        assert root.get("version") == "2.0"
        channel = root.find("channel")
        assert channel is not None
        for name in ("title", "link", "description"):
            assert channel.findtext(name)
        for item in channel.findall("item"):
            assert item.findtext("title")
            assert item.findtext("link")
            assert item.findtext("description")
            assert item.findtext("guid") == item.findtext("link")
            assert item.findtext("pubDate")
        return
    assert root.tag == ATOM_NS + "feed"
    for name in ("id", "title", "updated"):
        assert root.findtext(ATOM_NS + name)
    for entry in root.findall(ATOM_NS + "entry"):
        for name in ("id", "title", "updated"):
            assert entry.findtext(ATOM_NS + name)
        link = entry.find(ATOM_NS + "link")
        assert link is not None
        assert link.get("href", "").startswith(SITE + "/papers/")
        assert entry.find(ATOM_NS + "author") is not None


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize(
    ("feed", "page"),
    [
        ("/feeds/day", "/"),
        ("/feeds/week", "/papers/week/2025-W25"),
        ("/feeds/month", "/papers/month/2025-06"),
        ("/feeds/day/2025-06-12", "/papers/date/2025-06-12"),
        ("/feeds/week/2025-W24", "/papers/week/2025-W24"),
        ("/feeds/month/2025-06", "/papers/month/2025-06"),
    ],
)
def test_period_feeds_list_the_pages_papers_in_order(client, june, feed, page, fmt):
    response = client.get(f"{feed}.{fmt}")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith(MEDIA_TYPES[fmt])
    check_structure(fmt, response.content)
    expected = listed_ids(client.get(page).text)
    assert expected  # the fixture lists something in every period
    assert item_ids(fmt, response.content) == expected


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_category_narrows_a_feed_like_its_page(client, june, fmt):
    response = client.get(f"/feeds/month/2025-06.{fmt}", params={"category": "cs.CV"})
    assert response.status_code == 200
    expected = listed_ids(client.get("/papers/month/2025-06", params={"category": "cs.CV"}).text)
    assert item_ids(fmt, response.content) == expected == ["2506.00401", "2506.00202"]
    latest = client.get(f"/feeds/day.{fmt}", params={"category": "cs.CV"})
    assert item_ids(fmt, latest.content) == ["2506.00401"]


def test_items_carry_the_papers_text_authors_categories_and_upvotes(client, june):
    entry = orjson.loads(client.get("/feeds/week/2025-W24.json").content)["items"][0]
    assert entry["id"] == SITE + "/papers/2506.00201"
    assert entry["title"] == "Thursday early"
    assert entry["summary"] == "We study paper 2506.00201 in depth."
    assert [author["name"] for author in entry["authors"]] == ["Ada Lovelace", "Alan Turing"]
    assert entry["tags"] == ["cs.LG", "cs.AI"]
    assert "Upvotes: 5" in entry["content_text"]
    assert "Listed: 2025-06-12" in entry["content_text"]
    assert entry["date_published"] == "2025-06-11T17:00:00+00:00"
    atom = feedparser.parse(client.get("/feeds/week/2025-W24.atom").content)
    assert [tag.term for tag in atom.entries[0].tags] == ["cs.LG", "cs.AI"]
    assert [author.name for author in atom.entries[0].authors] == ["Ada Lovelace", "Alan Turing"]
    rss = feedparser.parse(client.get("/feeds/week/2025-W24.rss").content)
    assert "Upvotes: 5" in rss.entries[0].summary


@pytest.mark.parametrize("fmt", FORMATS)
def test_search_feeds_follow_the_searcher(settings, add_papers, engine, fmt):
    add_corpus(add_papers, engine)
    with open_client(hashing_settings(settings)) as client:  # it searches the corpus's hashing vectors
        response = client.get(f"/feeds/search.{fmt}", params={"q": "graph"})
        assert response.status_code == 200
        check_structure(fmt, response.content)
        searcher = client.app.state.paperboy.searcher
        expected = [hit.paper.arxiv_id for hit in searcher.search("graph", sort="date", page_size=50).hits]
        assert len(expected) >= 2
        assert item_ids(fmt, response.content) == expected
        by_relevance = client.get(f"/feeds/search.{fmt}", params={"q": "graph", "sort": "relevance"})
        relevance = [hit.paper.arxiv_id for hit in searcher.search("graph", page_size=50).hits]
        assert item_ids(fmt, by_relevance.content) == relevance


@pytest.mark.parametrize("fmt", FORMATS)
def test_hostile_titles_stay_text(client, add_papers, fmt):
    title = "<script>alert(1)</script> & ]]> \x0b<![CDATA[ x"
    add_papers(listed("2506.00999", date(2025, 6, 12), title=title, abstract="A <b>bold</b> & ]]> claim"))
    body = client.get(f"/feeds/day.{fmt}").content
    check_structure(fmt, body)
    if fmt == "json":  # JSON strings are text: nothing to escape but JSON's own
        assert orjson.loads(body)["items"][0]["title"] == "<script>alert(1)</script> & ]]> <![CDATA[ x"
    else:
        assert b"<script>" not in body
        entry = feedparser.parse(body).entries[0]
        assert "alert(1)" in entry.title
        assert "<script>" not in entry.get("summary", "")


@pytest.mark.parametrize("fmt", FORMATS)
def test_etag_then_if_none_match_is_a_304(client, june, fmt):
    first = client.get(f"/feeds/week.{fmt}")
    tag = first.headers["etag"]
    again = client.get(f"/feeds/week.{fmt}", headers={"If-None-Match": tag})
    assert again.status_code == 304
    assert again.content == b""
    assert client.get(f"/feeds/week.{fmt}").headers["etag"] == tag  # no clock in the bytes
    upvote(client.app.state.paperboy.engine, "2506.00401", 9)
    assert client.get(f"/feeds/week.{fmt}", headers={"If-None-Match": tag}).status_code == 200


@pytest.mark.parametrize(
    ("url", "status", "reason"),
    [
        ("/feeds/year.rss", 404, "feeds are day, week, month and search"),
        ("/feeds/day.xml", 404, "no format 'xml'"),
        ("/feeds/day/2025-13-01.rss", 404, "month 13 does not exist"),
        ("/feeds/week/2025-W60.atom", 404, "ISO weeks run from W01 to W53"),
        ("/feeds/month/June.json", 404, "is not a month"),
        ("/feeds/day.rss?category=<b>", 400, "is not an arXiv category"),
        ("/feeds/day.rss?sort=best", 400, "unknown sort"),
        ("/feeds/day.rss?page=x", 400, "page must be a whole number"),
        ("/feeds/day.rss?page=9", 404, "page 9 does not exist"),
        ("/feeds/search.rss", 400, "q is missing"),
        ("/feeds/search.rss?q=graph&sort=best", 400, "sort must be one of"),
        ('/feeds/search.atom?q="unclosed', 400, "quote"),
    ],
)
def test_bad_requests_say_why_in_plain_text(client, june, url, status, reason):
    response = client.get(url)
    assert response.status_code == status
    assert response.headers["content-type"].startswith("text/plain")
    assert reason in response.text


def test_an_empty_catalogue_has_no_latest_feed(client):
    response = client.get("/feeds/day.rss")
    assert response.status_code == 404
    assert "no listings yet" in response.text
    empty = client.get("/feeds/day/2025-06-14.rss")  # a given day is a feed, even an empty one
    assert empty.status_code == 200
    assert feedparser.parse(empty.content).bozo == 0


def test_feeds_answer_head_and_stay_out_of_the_page_cache(client, june):
    assert client.head("/feeds/day.atom").status_code == 200
    tag = client.get("/feeds/day.atom").headers["etag"]
    # A page cache hit would answer 200 with the body whatever If-None-Match says.
    for _ in range(2):
        assert client.get("/feeds/day.atom", headers={"If-None-Match": tag}).status_code == 304


def test_pages_advertise_their_feeds(client, june, add_papers, engine):
    home = client.get("/").text
    assert '<link rel="alternate" type="application/rss+xml"' in home
    for fmt in FORMATS:
        assert f'href="/feeds/day.{fmt}"' in home
    week = client.get("/papers/week/2025-W24", params={"category": "cs.CV"}).text
    for fmt in FORMATS:
        assert f'href="/feeds/week.{fmt}?category=cs.CV"' in week
    assert 'href="/feeds/week/2025-W24.bib?category=cs.CV"' in week
    assert 'href="/feeds/week/2025-W24.ris?category=cs.CV"' in week
    month = client.get("/papers/month/2025-06").text
    assert 'type="application/feed+json" title="Trending papers, latest month (JSON Feed)"' in month
    add_corpus(add_papers, engine)
    search = client.get("/search", params={"q": "graph & co"}).text
    assert 'type="application/atom+xml"' in search
    assert 'href="/feeds/search.atom?q=graph+%26amp%3B+co"' not in search
    assert 'href="/feeds/search.atom?q=graph+%26+co"' in search
    assert 'rel="alternate"' not in client.get("/search").text  # the empty form has no feed


@pytest.mark.parametrize("fmt", [*FORMATS, "bib"])
def test_a_feed_runs_as_many_statements_for_40_papers_as_for_2(client, add_papers, fmt):
    counts = []
    for number, day in ((2, 2), (40, 20)):  # the second, larger day becomes the latest
        add_papers(*(listed(f"2506.{day:02d}{n:03d}", date(2025, 6, day)) for n in range(number)))
        with counted_statements(client) as statements:
            assert client.get(f"/feeds/day.{fmt}").status_code == 200
        # The page cache reads the catalogue version at most once a second, whatever the URL.
        counts.append(sum(1 for statement in statements if "sync_state" not in statement))
    assert counts[0] == counts[1]
