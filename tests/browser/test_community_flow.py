"""The community in a real browser: Chromium (Debian's, through Playwright) against `paperboy serve`,
mail through a real SMTP server (aiosmtpd on 127.0.0.1).

A newcomer signs up, confirms the address from the mail, logs in, submits a recent paper, upvotes
it with the JavaScript button (no reload), comments, and finds it on today's trending list above
a paper with fewer votes; a second reader upvotes it too; a moderator hides the comment.
Screenshots of the main pages are saved in artifacts/ (not committed).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from chromium import chromium, screenshot  # noqa: F401 - chromium is a fixture
from community import PASSWORD, make_member
from conftest import make_record
from live_server import live_server
from mail_sink import link_in, running_smtp_sink
from playwright.sync_api import expect

from paperboy.domain.models import Listing, Version

pytestmark = pytest.mark.browser
# Waits go through expect's locators: wait_for_function would evaluate a string in the page, which
# the site's Content-Security-Policy (no 'unsafe-eval') refuses. A plain import: under CI=true a
# missing Playwright must fail (chromium.py), not skip this module.

SUBMITTED = "2511.00042"  # in the catalogue (fetched earlier), on no feed yet
RIVAL = "2511.00007"  # listed today, one upvote less at the end


@pytest.fixture
def world(engine, add_papers):
    now = datetime.now(UTC)
    add_papers(
        make_record(
            SUBMITTED,
            title="Sparse attention for long documents",
            versions=(Version(1, now - timedelta(days=2)),),
            listings=(),
        ),
        make_record(RIVAL, title="A rival result listed today", listings=(Listing(now.date(), "new"),)),
    )
    return {
        "reader": make_member(engine, "reader"),
        "mod": make_member(engine, "mod", role="moderator"),
    }


def _log_in(page, base: str, email: str, password: str) -> None:
    page.goto(f"{base}/login")
    page.get_by_label("E-mail address").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_load_state()
    assert page.locator("nav.account").get_by_role("button", name="Log out").is_visible()


def test_sign_up_submit_vote_comment_and_moderate(chromium, world, database_url, tmp_path):  # noqa: F811
    with running_smtp_sink() as sink:
        env = {
            "PAPERBOY_DATABASE_URL": database_url,
            "PAPERBOY_DATA_DIR": str(tmp_path / "data"),
            "PAPERBOY_SMTP_HOST": sink.host,
            "PAPERBOY_SMTP_PORT": str(sink.port),
            "PAPERBOY_SMTP_SECURITY": "none",
        }
        with live_server(env, tmp_path / "serve.log") as base:
            newcomer = chromium.new_context()
            page = newcomer.new_page()
            _sign_up_and_confirm(page, base, sink)
            _log_in(page, base, "newcomer@example.org", "a long enough secret")
            _submit_vote_and_comment(page, base)
            _second_reader_upvotes(chromium, base)
            _see_it_trending(page, base)
            _moderator_hides_the_comment(chromium, base)
            newcomer.close()


def _sign_up_and_confirm(page, base: str, sink) -> None:
    page.goto(f"{base}/signup")
    screenshot(page, "signup")
    page.get_by_label("User name").fill("newcomer")
    page.get_by_label("E-mail address").fill("newcomer@example.org")
    page.get_by_label("Password").fill("a long enough secret")
    page.get_by_role("button", name="Sign up").click()
    page.wait_for_load_state()
    assert "inbox" in page.content().lower()
    [mail] = sink.wait_for(1, timeout=10)
    assert mail["To"] == "newcomer@example.org"
    link = link_in(mail, "/verify-email")
    assert link.startswith(base)
    page.goto(link)
    assert "confirmed" in page.content().lower()


def _submit_vote_and_comment(page, base: str) -> None:
    page.goto(f"{base}/submit")
    page.get_by_label("arXiv id or link").fill(f"https://arxiv.org/abs/{SUBMITTED}v1")
    page.get_by_role("button", name="Submit").click()
    page.wait_for_url(f"**/papers/{SUBMITTED}?notice=submitted")
    button = page.locator("form.vote button").first
    assert button.get_attribute("aria-pressed") == "true"  # the submitter upvotes their own submission
    assert button.locator(".vote-count").inner_text() == "1"
    button.click()  # JavaScript: the count changes in place, the page stays
    expect(page.locator("form.vote button").first).to_have_attribute("aria-pressed", "false")
    assert button.locator(".vote-count").inner_text() == "0"
    assert page.url.endswith("?notice=submitted")  # no reload, no navigation
    button.click()
    expect(page.locator("form.vote button").first).to_have_attribute("aria-pressed", "true")
    assert button.locator(".vote-count").inner_text() == "1"
    page.locator("#comments textarea").first.fill(
        "Nice result — see **Table 2**.\n\n<script>alert(1)</script>"
    )
    page.locator("#comments form").first.get_by_role("button").first.click()
    page.wait_for_load_state()
    comment = page.locator("li.comment").first
    assert comment.locator("strong").inner_text() == "Table 2"
    assert page.locator("#comments script").count() == 0
    screenshot(page, "paper-with-discussion")


def _second_reader_upvotes(chromium, base: str) -> None:  # noqa: F811
    context = chromium.new_context()
    page = context.new_page()
    _log_in(page, base, "reader@example.org", PASSWORD)
    page.goto(f"{base}/papers/{SUBMITTED}")
    page.locator("form.vote button").first.click()
    expect(page.locator("form.vote button .vote-count").first).to_have_text("2")
    # The rival gets one vote: it must still rank below the submitted paper.
    page.goto(f"{base}/papers/{RIVAL}")
    page.locator("form.vote button").first.click()
    expect(page.locator("form.vote button .vote-count").first).to_have_text("1")
    context.close()


def _see_it_trending(page, base: str) -> None:
    today = datetime.now(UTC).date().isoformat()
    page.goto(f"{base}/papers/date/{today}")
    titles = page.locator("article.card h2.card-title a").all_inner_texts()
    assert titles[:2] == ["Sparse attention for long documents", "A rival result listed today"]
    first = page.locator("article.card").first
    assert first.locator(".vote-count").inner_text() == "2"
    assert "newcomer" in first.inner_text()  # the submitter on the card
    screenshot(page, "day-trending")
    page.goto(f"{base}/about/trending")
    screenshot(page, "about-trending")


def _moderator_hides_the_comment(chromium, base: str) -> None:  # noqa: F811
    context = chromium.new_context()
    page = context.new_page()
    _log_in(page, base, "mod@example.org", PASSWORD)
    page.goto(f"{base}/papers/{SUBMITTED}")
    comment = page.locator("li.comment").first
    comment.locator("details.moderate summary").click()
    comment.get_by_label("Reason").first.fill("testing moderation")
    comment.get_by_role("button", name="Hide comment").click()
    page.wait_for_load_state()
    assert page.locator("li.comment .badge-hidden").count() == 1  # moderators still see it, marked
    screenshot(page, "moderator-view")
    context.close()
    anonymous = chromium.new_context()
    page = anonymous.new_page()
    page.goto(f"{base}/papers/{SUBMITTED}")
    assert "Table 2" not in page.content()
    screenshot(page, "paper-anonymous")
    anonymous.close()
