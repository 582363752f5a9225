"""Collections in a real browser: Chromium (Debian's, through Playwright) against `paperboy serve`.

A member creates a collection on their library page, saves three papers into it from the papers'
own pages ("Save to…", a plain form), marks the last read (in place), picks the collection from
the library's menu, moves one up, makes the collection public; a logged-out
visitor opens its page (the papers in the collection's order, the owner's name and description)
and its RSS feed (parsed as XML; with feedparser too when it is installed).
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import UTC, datetime

import pytest
from chromium import chromium  # noqa: F401 - a fixture
from community import PASSWORD, make_member
from conftest import make_record
from live_server import live_server
from playwright.sync_api import expect

from paperboy.domain.models import Listing

pytestmark = pytest.mark.browser

PAPERS = {
    "2512.00201": "Sparse attention at scale",
    "2512.00202": "Retrieval with long contexts",
    "2512.00203": "Mixture of experts, revisited",
}


@pytest.fixture
def world(engine, add_papers):
    today = datetime.now(UTC).date()
    add_papers(
        *(
            make_record(arxiv_id, title=title, listings=(Listing(today, "new"),))
            for arxiv_id, title in PAPERS.items()
        )
    )
    make_member(engine, "curator")


def _log_in(page, base: str) -> None:
    page.goto(f"{base}/login")
    page.get_by_label("E-mail address").fill("curator@example.org")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_load_state()


def test_a_collection_from_paper_pages_to_a_public_page_and_its_feed(
    chromium,  # noqa: F811
    world,
    database_url,
    tmp_path,
):
    env = {"PAPERBOY_DATABASE_URL": database_url, "PAPERBOY_DATA_DIR": str(tmp_path / "data")}
    with live_server(env, tmp_path / "serve.log") as base:
        member = chromium.new_context()
        page = member.new_page()
        _log_in(page, base)
        page.goto(base + "/library")
        new = page.locator("details.collection-new")
        new.get_by_label("Name").fill("Reading group")
        new.get_by_label("Description").fill("What we read on Fridays.")
        new.get_by_role("button", name="Create collection").click()
        page.wait_for_load_state()
        expect(page.get_by_role("heading", name="Your library: Reading group")).to_be_visible()
        for arxiv_id in PAPERS:
            page.goto(f"{base}/papers/{arxiv_id}")
            save_to = page.locator("form.save-to")
            save_to.get_by_label("Reading group").check()
            save_to.get_by_role("button", name="Save to collections").click()
            page.wait_for_load_state()
            assert page.url == f"{base}/papers/{arxiv_id}"  # the form came back to the paper
            expect(page.locator("form.save-to").get_by_label("Reading group")).to_be_checked()
        page.evaluate("window.notReloaded = true")  # the read mark changes in place with the script
        page.locator("form.read-mark").get_by_role("button", name="Mark as read").click()
        expect(page.locator("form.read-mark").get_by_role("button", name="✓ Read")).to_have_attribute(
            "aria-pressed", "true"
        )
        assert page.evaluate("window.notReloaded === true")
        page.goto(base + "/library")
        with page.expect_navigation():  # the menu shows the collection as it changes
            page.get_by_label("Collection", exact=True).select_option(label="Reading group (3)")
        titles = page.locator("article.card h2").all_inner_texts()
        assert titles == list(PAPERS.values())
        last = page.locator("article.card").nth(2)
        last.get_by_role("button", name="↑ Up").click()
        page.wait_for_load_state()
        order = [PAPERS["2512.00201"], PAPERS["2512.00203"], PAPERS["2512.00202"]]
        assert page.locator("article.card h2").all_inner_texts() == order
        edit = page.locator("li.collection-item", has_text="Reading group").locator("details.collection-edit")
        edit.locator("summary").click()
        edit.get_by_label("Anyone (a page and feeds)").check()
        edit.get_by_role("button", name="Save changes").click()
        page.wait_for_load_state()
        public_path = page.get_by_role("link", name="public page").get_attribute("href")
        member.close()

        visitor = chromium.new_context()
        page = visitor.new_page()
        page.goto(base + public_path)
        expect(page.get_by_role("heading", name="Reading group")).to_be_visible()
        expect(page.get_by_text("What we read on Fridays.")).to_be_visible()
        expect(page.get_by_role("link", name="curator")).to_be_visible()
        assert page.locator("article.card h2").all_inner_texts() == order
        rss_href = page.get_by_role("link", name="RSS").get_attribute("href")
        feed = page.request.get(base + rss_href)
        assert feed.status == 200
        assert feed.headers["content-type"].startswith("application/rss+xml")
        channel = ET.fromstring(feed.body()).find("channel")
        assert channel.findtext("title").startswith("Reading group · a collection by curator")
        assert {item.findtext("title") for item in channel.findall("item")} == set(PAPERS.values())
        try:
            import feedparser
        except ImportError:
            feedparser = None
        if feedparser is not None:
            parsed = feedparser.parse(feed.body())
            assert not parsed.bozo
            assert len(parsed.entries) == 3
        visitor.close()
