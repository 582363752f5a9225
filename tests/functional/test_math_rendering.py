"""TeX in titles and abstracts: MathML in every HTML (pages, search results, feeds' content, the
digest's HTML part); the TeX as written in JSON, plain text, Markdown and feeds' text fields."""

from __future__ import annotations

from datetime import date
from xml.etree import ElementTree

import feedparser
import orjson
import pytest
from app_client import load_new_vectors, open_client
from conftest import make_record
from digest_fixtures import DAY, add_subscribers
from mail_sink import running_smtp_sink
from search_corpus import hashing_settings
from sqlalchemy import Engine

from paperboy.config import Settings
from paperboy.domain.digest import Preferences, daily_edition
from paperboy.domain.models import Listing
from paperboy.domain.paper_markdown import markdown_escape
from paperboy.integrations.embedder import make_embedder
from paperboy.services.digests import send_edition
from paperboy.services.search_index import embed_papers

PAPER = "2506.04242"
TITLE = r"Sorting graphs in $\mathcal{O}(n \log n)$ time"
ABSTRACT = "We sort a graph with $n$ nodes in $\\mathcal{O}(n \\log n)$ comparisons,\nfor $x < y$ & more.\n"
TITLE_MATH = "<math><mrow><mi>𝒪</mi>"  # how the title's formula starts as MathML
ATOM = "{http://www.w3.org/2005/Atom}"


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return hashing_settings(settings)  # the search results are found by the hashing vectors


@pytest.fixture
def client(settings, add_papers, engine):
    add_papers(make_record(PAPER, title=TITLE, abstract=ABSTRACT, listings=(Listing(DAY, "new"),)))
    embed_papers(engine, make_embedder("hashing"), batch_size=8)
    with open_client(settings) as client:
        load_new_vectors(client)
        yield client


def test_the_paper_page_shows_mathml_and_keeps_the_tex_where_html_cannot_go(client):
    html = client.get(f"/papers/{PAPER}").text
    assert f"<h1>Sorting graphs in {TITLE_MATH}" in html
    assert f"<title>{TITLE} · " in html  # a <title> is text
    assert "<p>We sort a graph with <math><mrow><mi>n</mi></mrow></math> nodes in <math>" in html
    assert "<mo>&lt;</mo>" in html
    assert "</math> &amp; more.</p>" in html
    assert r"\mathcal" not in html.replace(f"<title>{TITLE}", "")


def test_cards_show_mathml(client):
    day = client.get(f"/papers/date/{DAY.isoformat()}").text
    assert f"Sorting graphs in {TITLE_MATH}" in day
    assert "<math><mrow><mi>n</mi></mrow></math> nodes" in day


def test_json_and_markdown_keep_the_tex(client):
    response = client.get(f"/api/papers/{PAPER}")
    assert response.json()["title"] == TITLE
    assert r"in $\mathcal{O}(n \log n)$ comparisons" in response.json()["summary"]
    assert "<math" not in response.text
    markdown = client.get(f"/papers/{PAPER}.md").text
    assert "<math" not in markdown
    assert f"# {markdown_escape(TITLE)}\n" in markdown  # escaped for Markdown: it reads as the TeX


def test_search_results_show_mathml_outside_the_marks_and_the_api_keeps_the_tex(client):
    page = client.get("/search", params={"q": "sorting log"}).text
    assert f"<mark>Sorting</mark> graphs in {TITLE_MATH}" in page
    assert "<mi>log</mi>" in page  # a word inside a formula is not marked
    api = client.get("/api/papers/search", params={"q": "sorting log"}).json()
    (hit,) = [item for item in api if item["paper"]["id"] == PAPER]
    assert (
        hit["highlightedTitle"] == r"<mark>Sorting</mark> graphs in $\mathcal{O}(n \<mark>log</mark> n)$ time"
    )


@pytest.mark.parametrize("fmt", ["rss", "atom", "json"])
def test_feed_items_carry_mathml_in_their_html_and_the_tex_in_their_text(client, fmt):
    body = client.get(f"/feeds/day/{DAY.isoformat()}.{fmt}").content
    if fmt == "json":
        (item,) = orjson.loads(body)["items"]
        assert item["title"] == TITLE
        assert item["summary"] == ABSTRACT
        assert item["content_text"].startswith(ABSTRACT)
        html = item["content_html"]
    else:
        entry = feedparser.parse(body).entries[0]
        assert entry.title == TITLE
        root = ElementTree.fromstring(body)
        if fmt == "rss":
            html = root.find("channel/item/description").text
        else:
            html = root.find(f"{ATOM}entry/{ATOM}content").text
            assert root.find(f"{ATOM}entry/{ATOM}content").get("type") == "html"
            assert root.find(f"{ATOM}entry/{ATOM}summary").text == ABSTRACT
    assert html.startswith("<p>We sort a graph with <math><mrow><mi>n</mi></mrow></math> nodes in <math>")
    assert "</math> &amp; more.</p>" in html
    assert "Upvotes: 0" in html


def test_the_digest_mail_shows_mathml_in_html_and_the_tex_in_text(
    client, engine: Engine, settings: Settings
) -> None:
    add_subscribers(engine, 1, make=lambda rng: Preferences(top_n=5))
    with running_smtp_sink() as smtp:
        send_edition(engine, smtp.settings_for(settings), daily_edition(DAY))
        (message,) = smtp.wait_for(1)
    html = message.get_body(preferencelist=("html",)).get_content()
    text = message.get_body(preferencelist=("plain",)).get_content()
    assert f"Sorting graphs in {TITLE_MATH}" in html
    assert "<math><mrow><mi>n</mi></mrow></math> nodes" in html
    assert "<math" not in text
    assert TITLE in text
    assert r"with $n$ nodes in $\mathcal{O}(n \log n)$" in " ".join(text.split())


def test_a_listing_day_without_tex_is_unchanged(add_papers, client):
    add_papers(
        make_record("2506.04243", title="Plain words only", listings=(Listing(date(2025, 6, 13), "new"),))
    )
    day = client.get("/papers/date/2025-06-13").text
    assert "Plain words only" in day
    assert "<math" not in day
