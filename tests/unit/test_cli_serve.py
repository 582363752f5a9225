"""`serve`'s note on the mail outbox: per host, so worth saying where hosts may be several."""

from __future__ import annotations

from pathlib import Path

from paperboy.cli_serve import outbox_note
from paperboy.config import load_settings


def _settings(tmp_path: Path, **overrides: object):
    return load_settings(
        environ={}, toml_path=tmp_path / "absent.toml", data_dir=tmp_path / "data", **overrides
    )


def test_postgresql_without_smtp_is_told_that_the_outbox_is_this_hosts_alone(tmp_path):
    note = outbox_note(_settings(tmp_path), "postgresql")
    assert note is not None
    assert str(tmp_path / "data" / "outbox") in note
    assert "PAPERBOY_SMTP_HOST" in note


def test_sqlite_or_an_smtp_server_needs_no_note(tmp_path):
    assert outbox_note(_settings(tmp_path), "sqlite") is None
    assert outbox_note(_settings(tmp_path, smtp_host="mail.example.org"), "postgresql") is None
