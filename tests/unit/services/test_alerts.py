"""services/alerts.py on the real database: which changes make which alerts, for whom, once."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from community import make_member
from conftest import make_record
from sqlalchemy import select, update

from paperboy.domain.models import Version
from paperboy.services.alerts import alert_on_activity, alert_on_changes
from paperboy.services.follows import follow_thing
from paperboy.services.library import save_paper
from paperboy.storage.papers import upsert_papers
from paperboy.storage.schema import notifications, paper_stats
from paperboy.storage.transactions import write_transaction

IP = "192.0.2.9"
V1 = Version(1, datetime(2025, 6, 11, 17, 0, tzinfo=UTC))
V2 = Version(2, datetime(2025, 7, 1, 9, 0, tzinfo=UTC))


@pytest.fixture
def write(engine):
    def run(*records):
        with write_transaction(engine) as conn:
            result = upsert_papers(conn, list(records))
        return alert_on_changes(engine, result.changes)

    return run


def _alerts(engine):
    query = select(
        notifications.c.user_id, notifications.c.kind, notifications.c.paper_id, notifications.c.dedupe_key
    )
    with engine.connect() as conn:
        return sorted(tuple(row) for row in conn.execute(query))


def test_new_papers_alert_the_followers_of_their_authors_categories_and_saved_searches(
    engine, settings, write
):
    write(make_record("2506.00001", categories=("math.AG",)))  # so that math.AG is a known category
    ada, bob = make_member(engine, "ada"), make_member(engine, "bob")
    follow_thing(engine, settings, ada, "author", "  ADA  lovelace ", IP)
    follow_thing(engine, settings, bob, "category", "math.AG", IP)
    follow_thing(engine, settings, bob, "search", '"sparse attention" -survey', IP)
    follow_thing(engine, settings, ada, "search", '"sparse attention" -survey', IP)
    report = write(
        make_record("2506.00002", authors=("Ada Lovelace",), categories=("cs.LG",)),
        make_record("2506.00003", title="Sparse attention at scale", authors=("X",), categories=("math.AG",)),
        make_record(
            "2506.00004", title="A survey of sparse attention", authors=("Y",), categories=("cs.LG",)
        ),
    )
    assert report.searches == 1
    ids = {row[2] for row in _alerts(engine)}
    assert len(ids) == 2
    kinds = [(user, kind) for user, kind, _, _ in _alerts(engine)]
    assert sorted(kinds) == sorted(
        [(ada.id, "author"), (bob.id, "category"), (bob.id, "search"), (ada.id, "search")]
    )
    again = write(make_record("2506.00002", authors=("Ada Lovelace",), categories=("cs.LG",), comment="new"))
    assert again.total == 0  # not new any more, and nothing alerts tell changed


def test_saved_and_followed_papers_alert_on_a_new_version_code_and_journal_reference_once(
    engine, settings, write
):
    write(make_record("2506.00001", versions=(V1,)))
    ada, bob = make_member(engine, "ada"), make_member(engine, "bob")
    save_paper(engine, settings, ada, "2506.00001", IP, save=True)
    follow_thing(engine, settings, bob, "paper", "arXiv:2506.00001v1", IP)
    report = write(
        make_record(
            "2506.00001",
            versions=(V1, V2),
            abstract="Code at https://github.com/ada/engine now.",
            journal_ref="Nature 1 (2025)",
        )
    )
    assert (report.made["version"], report.made["code"], report.made["journal"]) == (2, 2, 2)
    keys = {(kind, key) for _, kind, _, key in _alerts(engine)}
    assert keys == {("version", "v2"), ("code", "code"), ("journal", "journal")}
    write(make_record("2506.00001", versions=(V1, V2), abstract="Same.", journal_ref="Nature 1 (2025)"))
    assert len(_alerts(engine)) == 6  # nothing new: no second alert


def test_activity_alerts_come_after_the_threshold_since_the_paper_was_first_watched(engine, settings, write):
    write(make_record("2506.00001"))
    ada = make_member(engine, "ada")
    save_paper(engine, settings, ada, "2506.00001", IP, save=True)
    _set_votes(engine, 5)
    assert alert_on_activity(engine, 10).total == 0  # the mark: 5
    _set_votes(engine, 14)
    assert alert_on_activity(engine, 10).total == 0
    _set_votes(engine, 15)
    assert alert_on_activity(engine, 10).total == 1
    assert alert_on_activity(engine, 10).total == 0
    assert [key for _, kind, _, key in _alerts(engine)] == ["a15"]


def _set_votes(engine, upvotes):
    now = datetime.now(UTC)
    with engine.begin() as conn:
        if conn.execute(update(paper_stats).values(upvotes=upvotes)).rowcount == 0:
            conn.execute(paper_stats.insert().values(paper_id=1, upvotes=upvotes, comments=0, updated_at=now))
