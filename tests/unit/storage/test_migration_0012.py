"""Migration 0012 on a catalogue written before it: every author row gains its normalised name
(the key author pages and follows match on), and the downgrade takes it away again."""

from __future__ import annotations

import pytest
from alembic import command
from sqlalchemy import text

from paperboy.storage.engine import make_engine
from paperboy.storage.migrate import alembic_config, upgrade


@pytest.fixture
def old_engine(tmp_path):  # type: ignore[no-untyped-def]
    engine = make_engine(f"sqlite:///{tmp_path / 'old.sqlite3'}")
    upgrade(engine, "0009")
    yield engine
    engine.dispose()


def test_author_rows_written_before_it_gain_their_key(old_engine):  # type: ignore[no-untyped-def]
    with old_engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO papers (id, arxiv_id, title, abstract, content_hash, changed_at) "
                "VALUES (1, '2506.00001', 't', 'a', 'h', '2026-12-01 00:00:00')"
            )
        )
        for position, name in enumerate(("José-María Núñez", "J. R. R. Tolkien", "ADA  Lovelace")):
            conn.execute(
                text("INSERT INTO paper_authors (paper_id, position, name) VALUES (1, :p, :n)"),
                {"p": position, "n": name},
            )
    upgrade(old_engine)
    with old_engine.connect() as conn:
        keys = conn.execute(text("SELECT name_key FROM paper_authors ORDER BY position")).scalars().all()
    assert keys == ["jose maria nunez", "j r r tolkien", "ada lovelace"]
    command.downgrade(alembic_config(old_engine), "0009")
    with old_engine.connect() as conn:
        columns = [row[1] for row in conn.execute(text("PRAGMA table_info(paper_authors)"))]
    assert "name_key" not in columns
