"""`paperboy digest send / preview / status`, in-process against the test's database. Without an
SMTP host, digests go to the outbox folder."""

from __future__ import annotations

from datetime import timedelta

import pytest
from digest_fixtures import DAY, add_subscribers, catalogue_records, papers_in
from mail_sink import outbox_messages

from paperboy.cli import main
from paperboy.domain.digest import Preferences


@pytest.fixture
def subscribed(cli_env, add_papers, engine) -> None:  # type: ignore[no-untyped-def]
    add_papers(*catalogue_records(12))
    add_subscribers(engine, 3, make=lambda rng: Preferences(top_n=4))


def test_send_mails_the_due_editions_to_the_outbox_once(subscribed, settings, capsys) -> None:  # type: ignore[no-untyped-def]
    assert main(["digest", "send", "--date", DAY.isoformat()]) == 0
    out = capsys.readouterr().out
    assert f"daily:{DAY}: 3 sent, 0 with nothing to send, 0 bounced in " in out
    assert f"weekly:{DAY}: nobody waiting" in out
    messages = outbox_messages(settings)
    assert sorted(m["To"] for m in messages) == [f"reader{i}@example.org" for i in range(3)]
    assert all(len(papers_in(m)) == 4 for m in messages)

    assert main(["digest", "send", "--date", DAY.isoformat()]) == 0
    assert f"daily:{DAY}: nobody waiting, all 3 done before" in capsys.readouterr().out
    assert len(outbox_messages(settings)) == 3

    assert main(["digest", "status"]) == 0
    status = capsys.readouterr().out
    assert "subscriptions: 3 active, 0 pending, 0 unsubscribed, 0 bouncing" in status
    assert f"daily:{DAY}: finished " in status
    assert "3 sent" in status


def test_a_day_without_its_listing_sends_no_daily_edition(subscribed, settings, capsys) -> None:  # type: ignore[no-untyped-def]
    assert main(["digest", "send", "--date", (DAY + timedelta(days=2)).isoformat()]) == 0
    assert "daily:" not in capsys.readouterr().out
    assert outbox_messages(settings) == []


def test_preview_prints_the_next_digest(subscribed, capsys) -> None:  # type: ignore[no-untyped-def]
    assert main(["digest", "preview", "READER1@example.org"]) == 0
    html = capsys.readouterr().out
    assert html.startswith("<!doctype html>")
    assert html.count("Read on paperboy") == 4
    assert main(["digest", "preview", "reader1@example.org", "--text"]) == 0
    assert "You receive this because reader1@example.org subscribed" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["digest", "preview", "nobody@example.org"], "no digest subscription for 'nobody@example.org'"),
        (["digest", "send", "--edition", "monthly:2025-06"], "is not an edition: write daily:YYYY-MM-DD"),
    ],
)
def test_mistakes_are_one_line_errors(subscribed, capsys, argv, message) -> None:  # type: ignore[no-untyped-def]
    assert main(argv) == 1
    err = capsys.readouterr().err
    assert err.startswith("paperboy: error: ")
    assert message in err
    assert err.count("\n") == 1


def test_no_mail_server_is_a_one_line_error_and_a_rerun_finishes(
    subscribed, monkeypatch, settings, capsys
) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("PAPERBOY_SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("PAPERBOY_SMTP_PORT", "1")
    monkeypatch.setenv("PAPERBOY_SMTP_SECURITY", "none")
    assert main(["digest", "send", "--edition", f"daily:{DAY}"]) == 1
    err = capsys.readouterr().err
    assert "cannot connect to the mail server 127.0.0.1:1" in err
    assert "run again to send the rest" in err
    monkeypatch.delenv("PAPERBOY_SMTP_HOST")
    assert main(["digest", "send", "--edition", f"daily:{DAY}"]) == 0
    assert len(outbox_messages(settings)) == 3
