"""Sending digest editions to a real SMTP server (aiosmtpd on 127.0.0.1): every subscriber gets
exactly the papers their preferences select, exactly once, across refusals, bounces and a sender
killed mid-run."""

from __future__ import annotations

import os
import random
import re
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from conftest import shared_key_env
from digest_fixtures import (
    DAY,
    add_subscribers,
    add_upvotes,
    catalogue_records,
    expected_papers,
    html_papers_in,
    papers_in,
    random_preferences,
    trending_order,
)
from mail_sink import SmtpSink, running_smtp_sink
from sqlalchemy import Engine, select, update

from paperboy.config import Settings
from paperboy.domain.digest import EditionBusy, Preferences, daily_edition, weekly_edition
from paperboy.integrations.mail import MailServerUnavailable
from paperboy.services.background import start_digest_schedule
from paperboy.services.digest_sender import hold_edition
from paperboy.services.digests import send_edition
from paperboy.storage import digests as store
from paperboy.storage.engine import now_utc
from paperboy.storage.schema import digest_sends, digest_subscriptions

REPO_ROOT = Path(__file__).resolve().parents[2]
DIGEST_CONNECTIONS = 4  # the default: at most one mail a connection accepted as a sender is killed


@pytest.fixture
def smtp() -> Iterator[SmtpSink]:
    with running_smtp_sink() as sink:
        yield sink


@pytest.fixture
def catalogue(add_papers, engine: Engine) -> None:  # type: ignore[no-untyped-def]
    add_papers(*catalogue_records())
    add_papers(*catalogue_records(12, DAY - timedelta(days=1), prefix="2505"))
    add_upvotes(engine)


def _settings(settings: Settings, sink: SmtpSink, **changes: object) -> Settings:
    return sink.settings_for(settings).replace(digest_retry_seconds=0.05, **changes)


def _by_recipient(sink: SmtpSink) -> dict[str, list]:  # type: ignore[type-arg]
    mails: dict[str, list] = {}  # type: ignore[type-arg]
    for message, recipients in zip(sink.messages, sink.recipients, strict=True):
        for recipient in recipients:
            mails.setdefault(recipient, []).append(message)
    return mails


def test_a_thousand_subscribers_each_get_exactly_the_papers_they_chose(
    catalogue: None, engine: Engine, settings: Settings, smtp: SmtpSink
) -> None:
    subscribers = add_subscribers(engine, 1000)
    with engine.connect() as conn:
        preferences = {s.email: s.preferences for s in store.subscribers_waiting(conn, daily_edition(DAY))}
    order = trending_order(engine)
    expected = {email: expected_papers(order, preferences[email]) for email in subscribers}
    assert len({tuple(papers) for papers in expected.values()}) > 100  # the preferences really vary

    # Two processes, whatever the host's cores: each sends its share of the thousand.
    report = send_edition(engine, _settings(settings, smtp, digest_processes=2), daily_edition(DAY))

    mails = _by_recipient(smtp)
    wanted = {email for email, papers in expected.items() if papers}
    assert set(mails) == wanted
    assert (report.sent, report.processes) == (len(wanted), 2)
    assert report.skipped == 1000 - len(wanted)
    for email, received in mails.items():
        assert len(received) == 1, email
        assert papers_in(received[0]) == expected[email], email
        assert html_papers_in(received[0]) == expected[email], email

    # A weekly edition covering the same day: "only papers new to me" leaves out what was mailed.
    week = weekly_edition(DAY + timedelta(days=1))
    with engine.begin() as conn:
        conn.execute(update(digest_subscriptions).values(frequency="weekly", weekday=week.day.weekday()))
    smtp.messages.clear()
    smtp.recipients.clear()
    week_order = [row for day in (DAY, DAY - timedelta(days=1)) for row in trending_order(engine, day)]
    week_order = _week_trending(engine, week_order)
    send_edition(engine, _settings(settings, smtp), week)
    mails = _by_recipient(smtp)
    for email in subscribers:
        mailed = set(expected[email])
        again = expected_papers(week_order, replace(preferences[email], frequency="weekly"), mailed)
        got = papers_in(mails[email][0]) if email in mails else []
        assert got == again, email
        if preferences[email].only_new:
            assert not mailed & set(got), email


def _week_trending(engine: Engine, rows: list) -> list:  # type: ignore[type-arg]
    """The week's trending order: the week page's, which ranks both days together."""
    from paperboy.domain.calendar import Period
    from paperboy.services.feed import feed_for_period

    week = weekly_edition(DAY + timedelta(days=1))
    feed = feed_for_period(engine, Period("week", week.start, week.end), page_size=1000)
    text = {arxiv_id: (t, c) for arxiv_id, t, c in rows}
    return [(i.paper.arxiv_id, *text[i.paper.arxiv_id]) for i in feed.items]


def test_the_mail_is_multipart_with_list_headers(
    catalogue: None, engine: Engine, settings: Settings, smtp: SmtpSink
) -> None:
    add_subscribers(engine, 1, make=lambda rng: Preferences(top_n=3))
    send_edition(
        engine,
        _settings(settings, smtp, digest_from="Papers · Lab <digest@lab.example>"),
        daily_edition(DAY),
    )
    (message,) = smtp.wait_for(1)
    assert message.get_content_type() == "multipart/alternative"
    assert [part.get_content_type() for part in message.iter_parts()] == ["text/plain", "text/html"]
    assert message["From"].addresses[0].display_name == "Papers · Lab"
    assert message["List-Unsubscribe"].startswith("<http://")
    assert "/digest/unsubscribe?token=" in message["List-Unsubscribe"]
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert message["Message-ID"]
    assert message["Date"]
    html = message.get_body(preferencelist=("html",)).get_content()  # type: ignore[union-attr]
    assert "<script" not in html.lower()
    assert "@import" not in html
    assert "<link" not in html.lower()
    assert "Émilie du Châtelet" in html
    assert "/digest/manage?token=" in html
    text = message.get_body(preferencelist=("plain",)).get_content()  # type: ignore[union-attr]
    assert "You receive this because reader0@example.org subscribed" in text
    assert len(papers_in(message)) == 3


def test_a_temporary_refusal_is_retried_and_delivered_once(
    catalogue: None, engine: Engine, settings: Settings
) -> None:
    add_subscribers(engine, 5, make=lambda rng: Preferences(top_n=2))
    with running_smtp_sink() as sink:
        sink.refuse("reader3@example.org", ["451 4.7.1 Greylisted, try again later"])
        report = send_edition(engine, _settings(settings, sink), daily_edition(DAY))
        mails = _by_recipient(sink)
    assert report.sent == 5
    assert report.retries == 1
    assert report.deferred == 0
    assert report.finished
    assert all(len(received) == 1 for received in mails.values())
    assert len(mails) == 5
    with engine.connect() as conn:
        row = conn.execute(select(digest_sends).where(digest_sends.c.subscription_id == 4)).one()
    assert (row.status, row.attempts) == ("sent", 2)


def test_refused_for_every_attempt_is_deferred_then_sent_by_the_next_run(
    catalogue: None, engine: Engine, settings: Settings
) -> None:
    add_subscribers(engine, 3, make=lambda rng: Preferences(top_n=2))
    with running_smtp_sink() as sink:
        sink.refuse("reader1@example.org", ["452 4.2.2 Mailbox full"] * 3)
        first = send_edition(engine, _settings(settings, sink, digest_retries=3), daily_edition(DAY))
        assert (first.sent, first.deferred, first.finished) == (2, 1, False)
        second = send_edition(engine, _settings(settings, sink), daily_edition(DAY))
        mails = _by_recipient(sink)
    assert (second.subscribers, second.sent, second.already, second.finished) == (1, 1, 2, True)
    assert sorted(len(received) for received in mails.values()) == [1, 1, 1]


def test_a_permanent_refusal_marks_the_address_bouncing(
    catalogue: None, engine: Engine, settings: Settings
) -> None:
    add_subscribers(engine, 4, make=lambda rng: Preferences(top_n=2))
    with running_smtp_sink() as sink:
        sink.refuse("reader2@example.org", ["550 5.1.1 No such user here"])
        report = send_edition(engine, _settings(settings, sink), daily_edition(DAY))
        later = send_edition(engine, _settings(settings, sink), daily_edition(DAY - timedelta(days=1)))
        mails = _by_recipient(sink)
    assert (report.sent, report.bounced) == (3, 1)
    assert "reader2@example.org" not in mails
    assert later.subscribers == 3  # the bouncing address is not even considered
    with engine.connect() as conn:
        bounced = store.subscription_by_email(conn, "reader2@example.org")
        row = conn.execute(
            select(digest_sends.c.status, digest_sends.c.error).where(digest_sends.c.subscription_id == 3)
        ).one()
    assert bounced is not None
    assert bounced.status == "bouncing"
    assert row.status == "bounced"
    assert "550" in row.error


def test_no_mail_server_stops_the_run_and_loses_nothing(
    catalogue: None, engine: Engine, settings: Settings, smtp: SmtpSink
) -> None:
    add_subscribers(engine, 3, make=lambda rng: Preferences(top_n=2))
    down = settings.replace(smtp_host="127.0.0.1", smtp_port=1, smtp_security="none")
    with pytest.raises(MailServerUnavailable, match="cannot connect to the mail server"):
        send_edition(engine, down, daily_edition(DAY))
    with engine.connect() as conn:
        assert store.edition_counts(conn, daily_edition(DAY).key) == {}
    report = send_edition(engine, _settings(settings, smtp), daily_edition(DAY))
    assert report.sent == 3
    assert report.finished


def test_two_runs_never_send_the_same_edition_at_once(
    catalogue: None, engine: Engine, settings: Settings
) -> None:
    add_subscribers(engine, 2)
    edition = daily_edition(DAY)
    with hold_edition(engine, edition, now_utc), pytest.raises(EditionBusy):
        send_edition(engine, settings, edition)


def test_a_sender_killed_mid_run_and_run_again_sends_each_subscriber_one_digest(
    catalogue: None, engine: Engine, database_url: str, tmp_path: Path
) -> None:
    count = 400
    add_subscribers(engine, count, make=lambda rng: Preferences(top_n=rng.randint(1, 10)))
    with running_smtp_sink() as sink:
        env = _cli_env(database_url, tmp_path, sink, PAPERBOY_DIGEST_RATE="40")
        command = [sys.executable, "-m", "paperboy", "digest", "send", "--edition", f"daily:{DAY}"]
        first = subprocess.Popen(
            command, env=env, cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        sink.wait_for(40, timeout=60)
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=30)
        killed_at = len(sink.messages)
        assert killed_at < count, "the sender finished before it was killed: slow it down"
        rerun = subprocess.run(
            command,
            env=_cli_env(database_url, tmp_path, sink),
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert rerun.returncode == 0, rerun.stderr
        messages, recipients = list(sink.messages), list(sink.recipients)

    by_recipient: dict[str, set[str]] = {}
    copies: Counter[str] = Counter()
    for message, (recipient,) in zip(messages, recipients, strict=True):
        by_recipient.setdefault(recipient, set()).add(message["Message-ID"])
        copies[recipient] += 1
    assert len(by_recipient) == count
    assert all(len(ids) == 1 for ids in by_recipient.values())  # one digest each, never two different ones
    # A copy sent twice can only be one the server accepted as the kill landed, before the
    # sender recorded it: at most one per connection, and it carries the same Message-ID.
    assert sum(copies.values()) - count <= 4
    with engine.connect() as conn:
        assert store.edition_counts(conn, daily_edition(DAY).key) == {"sent": count}
    sent_again, done_before = _figures(rerun.stdout)
    assert sent_again + done_before == count
    assert killed_at - 4 <= done_before <= killed_at  # every recorded mail had arrived
    assert sum(copies.values()) == killed_at + sent_again


def test_a_run_killed_while_its_shares_send_stops_them_all_and_the_next_sends_the_rest(
    catalogue: None, engine: Engine, database_url: str, tmp_path: Path
) -> None:
    """The share processes die with the run's process: nothing is mailed after the kill, so a
    run started then (the lease is free at once) is the only one sending."""
    count = 1200
    add_subscribers(engine, count, make=lambda rng: Preferences(top_n=rng.randint(1, 10)))
    with running_smtp_sink() as sink:
        env = _cli_env(database_url, tmp_path, sink, PAPERBOY_DIGEST_RATE="40", PAPERBOY_DIGEST_PROCESSES="2")
        command = [sys.executable, "-m", "paperboy", "digest", "send", "--edition", f"daily:{DAY}"]
        first = subprocess.Popen(
            command, env=env, cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        sink.wait_for(40, timeout=120)
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=30)
        killed_at = len(sink.messages)
        time.sleep(2)  # at 20 mails/s a share, a live one would have mailed dozens by now
        assert len(sink.messages) - killed_at <= 2 * DIGEST_CONNECTIONS
        assert len(sink.messages) < count
        env = _cli_env(database_url, tmp_path, sink, PAPERBOY_DIGEST_PROCESSES="2")
        rerun = subprocess.run(command, env=env, cwd=tmp_path, capture_output=True, text=True, timeout=300)
        assert rerun.returncode == 0, rerun.stderr
        assert "from 2 processes" in rerun.stdout
        recipients = [r for (r,) in sink.recipients]
    assert set(recipients) == {f"reader{n}@example.org" for n in range(count)}
    # A copy sent twice only where the server accepted it as the kill landed: one a connection.
    assert len(recipients) - count <= 2 * DIGEST_CONNECTIONS
    with engine.connect() as conn:
        assert store.edition_counts(conn, daily_edition(DAY).key) == {"sent": count}


def _figures(summary: str) -> tuple[int, int]:
    """(sent, done before) from `paperboy digest send`'s line for the edition."""
    match = re.search(r": (\d+) sent, .*; (\d+) done before", summary)
    assert match, summary
    return int(match[1]), int(match[2])


def _cli_env(database_url: str, tmp_path: Path, sink: SmtpSink, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PAPERBOY_")}
    env.update(
        PAPERBOY_DATABASE_URL=database_url,
        PAPERBOY_DATA_DIR=str(tmp_path / "data"),
        PAPERBOY_SMTP_HOST=sink.host,
        PAPERBOY_SMTP_PORT=str(sink.port),
        PAPERBOY_SMTP_SECURITY="none",
        PAPERBOY_EMBEDDER="hashing",  # digests use no vectors: no model to load in each command
        PYTHONPATH=str(REPO_ROOT),
        **shared_key_env(database_url),
        **extra,
    )
    return env


def test_random_preferences_are_valid() -> None:
    from paperboy.domain.digest import check_preferences

    rng = random.Random(3)
    for _ in range(50):
        p = random_preferences(rng)
        assert (
            check_preferences(
                frequency=p.frequency,
                weekday=p.weekday,
                top_n=p.top_n,
                categories=p.categories,
                include=p.include,
                exclude=p.exclude,
                only_new=p.only_new,
            )
            == p
        )


class _CountingClock:
    """Half past `hour` on DAY; read at each turn of the schedule (and by its sends), it says
    when it has been read `reads` times: many turns, without sleeping for them."""

    def __init__(self, hour: int, reads: int) -> None:
        self.hour, self.reads, self.read_enough = hour, reads, threading.Event()

    def __call__(self) -> datetime:
        self.reads -= 1
        if self.reads <= 0:
            self.read_enough.set()
        return datetime(DAY.year, DAY.month, DAY.day, self.hour, 30, tzinfo=UTC)


def test_serve_sends_a_due_edition_once_from_the_send_hour(
    catalogue: None, engine: Engine, settings: Settings, smtp: SmtpSink
) -> None:
    add_subscribers(engine, 3, make=lambda rng: Preferences(top_n=2))
    scheduled = _settings(settings, smtp, digest_schedule=True, digest_send_hour=6)
    for hour, expected in ((5, 0), (7, 3)):
        stop, clock = threading.Event(), _CountingClock(hour, reads=30)
        thread = start_digest_schedule(engine, scheduled, stop=stop, every=0, now=clock)
        assert thread is not None
        assert clock.read_enough.wait(timeout=60)  # many turns after the first: nothing is sent twice
        stop.set()
        thread.join(timeout=10)
        assert len(smtp.messages) == expected
    assert start_digest_schedule(engine, settings) is None  # off by default
