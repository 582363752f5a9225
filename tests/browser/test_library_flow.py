"""The library in a real browser: Chromium (Debian's, through Playwright) against `paperboy serve`.

A member saves a paper from today's feed with the JavaScript button (in place, no reload), finds
it in the library, removes it there; marks a paper not interested (the card folds in place, with
an undo; on the next visit it is gone, and the library lists it); with JavaScript off the same
buttons post and come back.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from chromium import chromium  # noqa: F401 - a fixture
from community import PASSWORD, make_member
from conftest import make_record
from live_server import live_server
from playwright.sync_api import expect

from paperboy.domain.models import Listing

pytestmark = pytest.mark.browser

FIRST, SECOND = "2512.00101", "2512.00102"


@pytest.fixture
def world(engine, add_papers):
    today = datetime.now(UTC).date()
    add_papers(
        make_record(FIRST, title="Saving papers for later", listings=(Listing(today, "new"),)),
        make_record(SECOND, title="A second paper to keep", listings=(Listing(today, "new"),)),
    )
    make_member(engine, "keeper")


def _log_in(page, base: str) -> None:
    page.goto(f"{base}/login")
    page.get_by_label("E-mail address").fill("keeper@example.org")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_load_state()


def _card(page, title: str):
    return page.locator("article.card", has=page.get_by_role("link", name=title))


def _card_of(page, arxiv_id: str):
    """The card by its paper's address: found whether its title is shown or folded away."""
    return page.locator(f'article.card:has(h2 a[href="/papers/{arxiv_id}"])')


def test_save_in_place_find_it_in_the_library_and_without_javascript(
    chromium,  # noqa: F811
    world,
    database_url,
    tmp_path,
):
    env = {"PAPERBOY_DATABASE_URL": database_url, "PAPERBOY_DATA_DIR": str(tmp_path / "data")}
    with live_server(env, tmp_path / "serve.log") as base:
        scripted = chromium.new_context()
        page = scripted.new_page()
        _log_in(page, base)
        page.goto(base + "/")
        card = _card(page, "Saving papers for later")
        page.evaluate("window.notReloaded = true")
        card.get_by_role("button", name="Save", exact=True).click()
        saved = card.get_by_role("button", name="Saved")
        expect(saved).to_have_attribute("aria-pressed", "true")
        assert page.evaluate("window.notReloaded === true")  # in place: the page was not reloaded
        page.goto(base + "/library")
        expect(page.get_by_role("link", name="Saving papers for later")).to_be_visible()
        expect(page.get_by_text("1 paper saved")).to_be_visible()
        in_library = _card(page, "Saving papers for later")
        in_library.get_by_role("button", name="Saved").click()
        expect(in_library.get_by_role("button", name="Save", exact=True)).to_be_visible()
        page.goto(base + "/")
        card = _card_of(page, SECOND)
        card.get_by_role("button", name="Not interested").click()
        expect(page.get_by_text("Hidden from your feeds.")).to_be_visible()
        expect(card.get_by_role("link", name="A second paper to keep")).to_be_hidden()
        card.get_by_role("button", name="Undo").click()
        expect(card.get_by_role("link", name="A second paper to keep")).to_be_visible()
        card.get_by_role("button", name="Not interested").click()
        expect(page.get_by_text("Hidden from your feeds.")).to_be_visible()
        page.goto(base + "/")
        expect(page.get_by_role("link", name="A second paper to keep")).to_have_count(0)
        page.goto(base + "/library")
        hidden = page.locator("section.hidden-papers")
        expect(hidden.get_by_role("link", name="A second paper to keep")).to_be_visible()
        hidden.get_by_role("button", name="Undo").click()
        expect(hidden.get_by_role("link", name="A second paper to keep")).to_have_count(0)
        scripted.close()

        plain = chromium.new_context(java_script_enabled=False)
        page = plain.new_page()
        _log_in(page, base)
        page.goto(base + "/")
        _card(page, "A second paper to keep").get_by_role("button", name="Save", exact=True).click()
        page.wait_for_load_state()
        assert page.url.rstrip("/") == base  # the form went back to the page it came from
        expect(_card(page, "A second paper to keep").get_by_role("button", name="Saved")).to_be_visible()
        page.goto(base + "/library")
        titles = page.locator("article.card h2").all_inner_texts()
        assert titles == ["A second paper to keep"]
        plain.close()
