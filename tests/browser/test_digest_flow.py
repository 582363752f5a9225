"""The e-mail digest in a real browser: Chromium (Debian's, through Playwright) against `paperboy
serve`, mail through a real SMTP server (aiosmtpd on 127.0.0.1).

A visitor subscribes from the footer of the front page, confirms from the mail with the button,
narrows the digest on the manage page, receives a digest with only those papers, opens its
preview, and unsubscribes from the link in the mail; the next edition skips them. Screenshots go
to artifacts/ (not committed).
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from chromium import chromium, screenshot  # noqa: F401 - chromium is a fixture
from digest_fixtures import DAY, catalogue_records, papers_in
from live_server import live_server
from mail_sink import link_in, running_smtp_sink

from paperboy.domain.digest import daily_edition
from paperboy.services.digests import send_edition

pytestmark = pytest.mark.browser
READER = "reader@example.org"


@pytest.fixture
def world(add_papers):  # type: ignore[no-untyped-def]
    add_papers(*catalogue_records(24))
    add_papers(*catalogue_records(12, DAY - timedelta(days=1), prefix="2505"))


def test_subscribe_confirm_narrow_receive_preview_and_unsubscribe(  # type: ignore[no-untyped-def]
    chromium,  # noqa: F811 - the fixture
    world,
    database_url,
    settings,
    engine,
    tmp_path,
):
    with running_smtp_sink() as sink:
        env = {
            "PAPERBOY_DATABASE_URL": database_url,
            "PAPERBOY_DATA_DIR": str(tmp_path / "data"),
            "PAPERBOY_SMTP_HOST": sink.host,
            "PAPERBOY_SMTP_PORT": str(sink.port),
            "PAPERBOY_SMTP_SECURITY": "none",
        }
        with live_server(env, tmp_path / "serve.log") as base:
            sending = sink.settings_for(settings).replace(base_url=base)
            context = chromium.new_context()
            page = context.new_page()
            _subscribe_and_confirm(page, base, sink)
            _narrow_to_computer_vision(page)
            digest = _receive(engine, sending, sink)
            _preview(page, digest)
            _unsubscribe(page, digest)
            before = len(sink.messages)
            report = send_edition(engine, sending, daily_edition(DAY - timedelta(days=1)))
            assert report.subscribers == 0
            assert len(sink.messages) == before
            context.close()


def _subscribe_and_confirm(page, base: str, sink) -> None:  # type: ignore[no-untyped-def]
    page.goto(f"{base}/")
    footer = page.locator("footer")
    footer.get_by_label("Trending papers by e-mail, daily or weekly").fill(READER)
    footer.get_by_role("button", name="Subscribe").click()
    page.wait_for_load_state()
    assert "/digest/sent" in page.url
    screenshot(page, "digest-sent")
    (mail,) = sink.wait_for(1)
    assert mail["To"] == READER
    page.goto(link_in(mail, "/digest/confirm"))
    screenshot(page, "digest-confirm")
    assert not sink.messages[1:]  # opening the link confirmed nothing and sent nothing
    page.get_by_role("button", name="Confirm").click()
    page.wait_for_load_state()
    screenshot(page, "digest-confirmed")
    page.get_by_role("link", name="Choose what you get").click()
    page.wait_for_load_state()
    assert "/digest/manage" in page.url


def _narrow_to_computer_vision(page) -> None:  # type: ignore[no-untyped-def]
    page.get_by_label("Number of papers").fill("3")
    page.get_by_label("Categories").fill("cs.CV")
    page.get_by_role("button", name="Save preferences").click()
    page.wait_for_load_state()
    assert page.get_by_text("Saved").first.is_visible()
    screenshot(page, "digest-manage")


def _receive(engine, sending, sink):  # type: ignore[no-untyped-def]
    report = send_edition(engine, sending, daily_edition(DAY))
    assert report.sent == 1
    digest = sink.messages[-1]
    shown = papers_in(digest)
    assert len(shown) == 3
    categories = {r.arxiv_id: r.categories for r in catalogue_records(24)}
    assert all("cs.CV" in categories[arxiv_id] for arxiv_id in shown)
    return digest


def _preview(page, digest) -> None:  # type: ignore[no-untyped-def]
    html = digest.get_body(preferencelist=("html",)).get_content()
    page.set_content(html)  # the mail as a mail client shows it
    screenshot(page, "digest-mail")
    assert page.get_by_role("link", name="Unsubscribe").is_visible()


def _unsubscribe(page, digest) -> None:  # type: ignore[no-untyped-def]
    url = digest["List-Unsubscribe"].strip("<>")
    page.goto(url)
    page.get_by_role("button", name="Unsubscribe").click()
    page.wait_for_load_state()
    screenshot(page, "digest-unsubscribed")
    assert page.get_by_role("button", name="Resubscribe").is_visible()
