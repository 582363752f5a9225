"""Each alert is new once across the web, the digest and the private feed (services/alerts.py):
whichever shows it first claims it; the others show it as seen, or not at all. A real SMTP server
(aiosmtpd on 127.0.0.1), the real feed endpoint and the notifications page."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import feedparser
import pytest
from app_client import open_client
from community import log_in_as, make_member
from conftest import make_record
from digest_fixtures import DAY, catalogue_records
from mail_sink import SmtpSink, running_smtp_sink
from sqlalchemy import select

from paperboy.domain.digest import Preferences, daily_edition
from paperboy.services.alerts import alert_on_changes
from paperboy.services.api_tokens import create_token
from paperboy.services.digests import send_edition
from paperboy.services.follows import follow_thing
from paperboy.services.subscriptions import subscribe_member
from paperboy.storage.papers import upsert_papers
from paperboy.storage.schema import notifications
from paperboy.storage.transactions import write_transaction

IP = "192.0.2.3"
NEXT_DAY = DAY + timedelta(days=1)


@pytest.fixture
def smtp() -> Iterator[SmtpSink]:
    with running_smtp_sink() as sink:
        yield sink


def _new_paper(engine, arxiv_id):
    with write_transaction(engine) as conn:
        result = upsert_papers(
            conn, [make_record(arxiv_id, authors=("Grace Hopper",), title=f"Paper {arxiv_id}")]
        )
    assert alert_on_changes(engine, result.changes).total == 1


def _feed_alerts(client, token):
    feed = feedparser.parse(client.get(f"/feeds/private/{token}.rss").content)
    assert feed.bozo == 0
    return [entry.title for entry in feed.entries if entry.title.startswith("Alert:")]


def test_an_alert_is_mailed_or_fed_or_seen_on_the_site_never_two_of_them(settings, engine, add_papers, smtp):
    add_papers(*catalogue_records(6))
    ada = make_member(engine, "ada")
    follow_thing(engine, settings, ada, "author", "Grace Hopper", IP)
    subscribe_member(engine, ada, Preferences(top_n=3))
    feed_token = create_token(engine, ada, "feed", ["feed"]).plaintext
    mail_settings = smtp.settings_for(settings)

    _new_paper(engine, "2507.00001")  # 1: mailed first
    send_edition(engine, mail_settings, daily_edition(DAY))
    (mail,) = smtp.messages
    text = mail.get_body(("plain",)).get_content()
    assert "Your alerts" in text
    assert "New paper by Grace Hopper: Paper 2507.00001" in text
    with open_client(settings) as client:
        assert _feed_alerts(client, feed_token) == []  # mailed: never fed
        csrf = log_in_as(client, ada)
        assert csrf
        page = client.get("/notifications").text
        assert 'class="new"' not in page  # mailed: seen, not new on the site
        assert "mailed" in page

        _new_paper(engine, "2507.00002")  # 2: fed first
        fed = _feed_alerts(client, feed_token)
        assert fed == ["Alert: New paper by Grace Hopper — Paper 2507.00002"]
        assert _feed_alerts(client, feed_token) == fed  # the feed keeps what it fed (same entry)
        page = client.get("/notifications").text
        assert 'class="new"' not in page
        assert "in your feed" in page

        _new_paper(engine, "2507.00003")  # 3: seen on the site first
        assert client.get("/notifications").text.count('class="new"') == 1
        assert _feed_alerts(client, feed_token) == fed  # not fed: seen already
    # The next edition (a day with papers) mails neither the fed nor the seen alert.
    add_papers(*catalogue_records(6, NEXT_DAY, prefix="2508"))
    send_edition(engine, mail_settings, daily_edition(NEXT_DAY))
    assert len(smtp.messages) == 2
    assert "Your alerts" not in smtp.messages[1].get_body(("plain",)).get_content()
    with engine.connect() as conn:
        query = select(notifications.c.mailed_at.is_not(None), notifications.c.fed_at.is_not(None))
        channels = [tuple(row) for row in conn.execute(query.order_by(notifications.c.id))]
    assert channels == [(True, False), (False, True), (False, False)]
