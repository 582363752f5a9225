"""storage/for_you_reads.py: the one statement reads what the three it replaces read."""

from __future__ import annotations

from datetime import timedelta

from community import make_member
from conftest import make_record
from sqlalchemy import insert

from paperboy.storage import follows as follow_store
from paperboy.storage import reader_preferences, sync_state
from paperboy.storage.engine import now_utc, read_connection
from paperboy.storage.for_you_reads import for_you_reads
from paperboy.storage.queries import paper_ids_by_arxiv_ids
from paperboy.storage.reader_signals import reader_signals
from paperboy.storage.schema import library_items, paper_feedback, votes
from paperboy.storage.transactions import mark_community_changed, write_transaction


def _three_statements(engine, user_id):
    with engine.connect() as conn:
        signals, follows = reader_signals(conn, user_id), follow_store.follows_of(conn, user_id)
        return signals, list(reversed(follows)), sync_state.page_versions(conn)


def test_one_statement_reads_the_signals_follows_and_versions_the_three_read(engine, add_papers):
    add_papers(*(make_record(f"2506.0000{n}") for n in range(1, 7)))
    ada, bob = make_member(engine, "ada"), make_member(engine, "bob")
    with engine.connect() as conn:
        ids = paper_ids_by_arxiv_ids(conn, [f"2506.0000{n}" for n in range(1, 7)])
    paper = [ids[f"2506.0000{n}"] for n in range(1, 7)]
    start = now_utc() - timedelta(days=1)
    with write_transaction(engine) as conn:
        conn.execute(insert(paper_feedback), [_hidden(ada.id, paper[0], start)])
        reader_preferences.set_reset_at(conn, ada.id, start + timedelta(hours=1))
        reader_preferences.set_personal_share(conn, ada.id, 70, start)
        saves = [(ada.id, paper[1]), (bob.id, paper[2])]
        rows = [{"user_id": user, "paper_id": paper_id, "saved_at": now_utc()} for user, paper_id in saves]
        conn.execute(insert(library_items), rows)
        conn.execute(insert(votes), [{"user_id": ada.id, "paper_id": paper[3], "created_at": now_utc()}])
        conn.execute(insert(paper_feedback), [_hidden(ada.id, paper[4], now_utc())])
        followed = [("search", "graph"), ("paper", "2506.00006"), ("author", "ada x")]
        for n, (kind, value) in enumerate(followed):
            follow_store.insert_follow(conn, ada.id, kind, value, value.upper(), start + timedelta(minutes=n))
        follow_store.insert_follow(conn, bob.id, "category", "cs.LG", "cs.LG", start)
        mark_community_changed(conn)
    for member in (ada, bob, make_member(engine, "cy")):
        with read_connection(engine) as conn:
            reads = for_you_reads(conn, member.id)
        assert (reads.signals, reads.follows, reads.versions) == _three_statements(engine, member.id)
    with read_connection(engine) as conn:
        reads = for_you_reads(conn, ada.id)
    assert reads.signals.saved == (paper[1],)
    assert reads.signals.upvoted == (paper[3],)
    assert reads.signals.not_interested == (paper[4],)
    assert reads.signals.hidden_before_reset == (paper[0],)
    assert reads.signals.personal_share == 70
    assert reads.signals.reset
    assert [f.kind for f in reads.follows] == ["search", "paper", "author"]  # the oldest first
    assert reads.follows[0].created_at.tzinfo is not None
    assert reads.versions[1] != "0"  # the community version the write bumped


def _hidden(user_id, paper_id, at):
    return {"user_id": user_id, "paper_id": paper_id, "signal": "not_interested", "created_at": at}
