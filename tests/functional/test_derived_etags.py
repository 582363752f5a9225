"""ETags derived from the catalogue and community versions (web/conditional.py): the daily papers
and a period's feeds answer a matching If-None-Match with one query and no rendering, keep their
finished answer under the tag (web/answers.py), and never call stale what a vote, an edit or a
new Hugging Face signal changed. A trending list of a period under way moves with the clock: its
tag stays the hash of its bytes."""

from __future__ import annotations

from datetime import UTC, date, datetime

import feedparser
import orjson
import pytest
from app_client import counted_statements, open_client
from community import make_member
from conftest import make_record

from paperboy.domain.models import HfSignal, Listing
from paperboy.services.votes import upvote_paper
from paperboy.storage.hf import upsert_hf_signals
from paperboy.storage.papers import upsert_papers
from paperboy.storage.transactions import write_transaction

DAY = date(2025, 6, 12)
IDS = ["2506.00001", "2506.00002", "2506.00003"]
URLS = [
    "/api/daily_papers?date=2025-06-12",
    "/feeds/day/2025-06-12.rss",
    "/feeds/day/2025-06-12.atom",
    "/feeds/day/2025-06-12.json",
    "/feeds/week/2025-W24.rss?sort=newest",
    "/feeds/day.rss",  # the latest day: 12 June
    "/feeds/day/2025-06-12.bib",
]


def record(arxiv_id, day=DAY, **fields):
    return make_record(arxiv_id, listings=(Listing(day, "new"),), **fields)


@pytest.fixture
def client(settings, add_papers):
    abstract = "We study sorting in $O(n \\log n)$ time. " * 40  # answers worth compressing
    add_papers(*(record(arxiv_id, title=f"About {arxiv_id}", abstract=abstract) for arxiv_id in IDS))
    with open_client(settings) as client:
        yield client


def tag_of(client, url):
    response = client.get(url)
    assert response.status_code == 200, response.text
    return response.headers["etag"]


@pytest.mark.parametrize("url", URLS)
def test_a_304_costs_one_query(client, url):
    tag = tag_of(client, url)
    assert tag.startswith('"v')  # derived, not a hash of the body
    with counted_statements(client) as statements:
        again = client.get(url, headers={"If-None-Match": tag})
    assert (again.status_code, again.content, again.headers["etag"]) == (304, b"", tag)
    assert len(statements) == 1 + url.startswith("/feeds/day.")  # the versions (+ the latest day)
    assert "sync_state" in statements[-1]


@pytest.mark.parametrize("url", URLS)
def test_an_answer_is_kept_under_its_tag_plain_and_compressed(client, url):
    first = client.get(url, headers={"Accept-Encoding": "identity"})
    with counted_statements(client) as statements:
        plain = client.get(url, headers={"Accept-Encoding": "identity"})
        zipped = client.get(url, headers={"Accept-Encoding": "gzip"})
    assert len(statements) == 2 * (1 + url.startswith("/feeds/day."))  # no query for the papers
    assert plain.content == first.content
    assert plain.headers["etag"] == zipped.headers["etag"] == first.headers["etag"]
    assert zipped.content == first.content  # httpx decodes it
    if len(first.content) < 2048:  # too small to compress, as the gzip middleware decides
        assert "content-encoding" not in zipped.headers
        return
    assert zipped.headers["content-encoding"] == "gzip"  # compressed once, when kept
    assert int(zipped.headers["content-length"]) < len(first.content)
    assert zipped.headers["vary"] == "Authorization, Cookie, Accept-Encoding"


def test_a_vote_changes_the_tag_and_the_counts(client):
    engine, settings = client.app.state.paperboy.engine, client.app.state.paperboy.settings
    tags = {url: tag_of(client, url) for url in URLS}
    upvote_paper(engine, settings, make_member(engine, "maria"), IDS[1], "127.0.0.1")
    for url, tag in tags.items():
        again = client.get(url, headers={"If-None-Match": tag})
        assert again.status_code == 200, url
        assert again.headers["etag"] != tag
    daily = orjson.loads(client.get(URLS[0]).content)
    assert {item["paper"]["id"]: item["paper"]["upvotes"] for item in daily}[IDS[1]] == 1
    rss = feedparser.parse(client.get(URLS[1]).content)
    assert rss.entries[0].link.rsplit("/", 1)[1] == IDS[1]  # trending: the voted paper first
    assert "Upvotes: 1" in rss.entries[0].summary


def test_an_edited_title_or_new_signals_show_at_once(client):
    engine = client.app.state.paperboy.engine
    tags = {url: tag_of(client, url) for url in URLS[:2]}
    with write_transaction(engine) as conn:
        upsert_papers(conn, [record(IDS[0], title="A better title")])
    for url, tag in tags.items():
        again = client.get(url, headers={"If-None-Match": tag})
        assert again.status_code == 200
        assert b"A better title" in again.content
    tag = tag_of(client, URLS[0])
    with write_transaction(engine) as conn:
        upsert_hf_signals(conn, [HfSignal(IDS[2], 7, github_repo="https://github.com/x/y", github_stars=3)])
    again = client.get(URLS[0], headers={"If-None-Match": tag})
    assert again.status_code == 200
    assert {item["paper"]["id"]: item["paper"].get("githubStars") for item in again.json()}[IDS[2]] == 3


def test_the_tag_follows_the_request_and_the_site(client, settings):
    tags = {url: tag_of(client, url) for url in URLS}
    assert len(set(tags.values())) == len(URLS)
    assert tag_of(client, URLS[0] + "&limit=2") != tags[URLS[0]]
    with open_client(settings.replace(base_url="https://papers.example.org")) as elsewhere:
        assert tag_of(elsewhere, URLS[1]) != tags[URLS[1]]  # the site's address is in the items


def test_trending_of_a_day_under_way_is_tagged_by_its_bytes(client, add_papers):
    today = datetime.now(UTC).date()
    add_papers(record("2506.00009", day=today))
    url = f"/feeds/day/{today.isoformat()}.rss"  # trending by default: ranked at now
    first = client.get(url)
    tag = first.headers["etag"]
    assert not tag.startswith('"v')
    assert client.get(url, headers={"If-None-Match": tag}).status_code == 304
    newest = tag_of(client, url + "?sort=newest")  # not ranked by the clock: derived
    assert newest.startswith('"v')
