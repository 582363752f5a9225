"""Follows and alerts in a real browser: Chromium (Debian's, through Playwright) against
`paperboy serve`, JavaScript on (the follow buttons are plain forms either way).

A member opens a paper, follows its author from the author page (linked from the paper), saves
the paper, finds the follow on /following; after a sync writes a new paper by that author and a
new version of the saved paper, the header counts two alerts, the notifications page lists them
as new, and the count is gone after."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from chromium import chromium  # noqa: F401 - a fixture
from community import PASSWORD, make_member
from conftest import make_record
from live_server import live_server
from playwright.sync_api import expect

from paperboy.domain.models import Listing, Version
from paperboy.services.alerts import alert_on_changes
from paperboy.storage.papers import upsert_papers
from paperboy.storage.transactions import write_transaction

pytestmark = pytest.mark.browser

PAPER, NEW = "2512.00201", "2512.00202"
V1 = Version(1, datetime(2025, 12, 1, 9, 0, tzinfo=UTC))
V2 = Version(2, datetime(2025, 12, 3, 9, 0, tzinfo=UTC))


def _record(arxiv_id, title, versions):
    today = datetime.now(UTC).date()
    listing = (Listing(today, "new"),)
    return make_record(
        arxiv_id, title=title, authors=("Émilie du Châtelet",), listings=listing, versions=versions
    )


@pytest.fixture
def world(engine, add_papers):
    add_papers(_record(PAPER, "Forces vives and their measure", (V1,)))
    make_member(engine, "reader")


def test_follow_an_author_save_a_paper_and_see_the_alerts_after_a_sync(
    chromium,  # noqa: F811
    world,
    engine,
    database_url,
    tmp_path,
):
    env = {"PAPERBOY_DATABASE_URL": database_url, "PAPERBOY_DATA_DIR": str(tmp_path / "data")}
    with live_server(env, tmp_path / "serve.log") as base:
        page = chromium.new_context().new_page()
        page.goto(f"{base}/login")
        page.get_by_label("E-mail address").fill("reader@example.org")
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Log in").click()
        page.wait_for_load_state()
        page.goto(f"{base}/papers/{PAPER}")
        page.get_by_role("button", name="Save", exact=True).click()
        expect(page.get_by_role("button", name="Saved")).to_be_visible()
        page.locator("p.all-authors").get_by_role("link", name="Émilie du Châtelet").click()
        expect(page.get_by_role("heading", name="Émilie du Châtelet")).to_be_visible()
        page.get_by_role("button", name="Follow new papers by Émilie du Châtelet").click()
        expect(page.get_by_role("button", name="Following new papers by Émilie du Châtelet")).to_be_visible()
        page.goto(f"{base}/following")
        expect(page.get_by_role("link", name="Émilie du Châtelet")).to_be_visible()

        with write_transaction(engine) as conn:  # what a sync writes, then its alert pass
            written = upsert_papers(
                conn,
                [
                    _record(NEW, "Institutions de physique", (V1,)),
                    _record(PAPER, "Forces vives and their measure", (V1, V2)),
                ],
            )
        assert alert_on_changes(engine, written.changes).total == 2

        page.goto(f"{base}/")
        alerts = page.get_by_role("navigation", name="Account").get_by_role("link", name="Alerts 2 new")
        expect(alerts).to_be_visible()
        alerts.click()
        expect(page.locator("li.new")).to_have_count(2)
        expect(page.get_by_text("New paper by Émilie du Châtelet")).to_be_visible()
        expect(page.get_by_text("New version of a paper you follow or saved: version 2")).to_be_visible()
        page.goto(f"{base}/")
        expect(page.locator(".alert-count")).to_have_count(0)
