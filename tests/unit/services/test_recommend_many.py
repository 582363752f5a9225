""" "For you" for a batch of members (services/recommend_many.py, a digest run's): each member
gets what `recommend_papers` gives them alone — the order, the scores, the reasons, the signals —
on a real database (SQLite, or PostgreSQL with PAPERBOY_TEST_DATABASE_URL), and a model the
process keeps for a member is used rather than made again."""

from __future__ import annotations

import numpy as np
import test_recommend
from community import make_member
from test_recommend import DAY, LIBRARY, NOW, _save

from paperboy.domain.calendar import day_period
from paperboy.services.recommend import recommend_papers, reset_recommendations, set_personal_share
from paperboy.services.recommend_many import recommend_papers_many
from paperboy.storage.engine import now_utc
from paperboy.storage.feedback import NOT_INTERESTED, set_signal
from paperboy.storage.follows import insert_follow
from paperboy.storage.transactions import write_transaction

catalogue, index = test_recommend.catalogue, test_recommend.index  # the same fixtures


def _members(engine, catalogue):
    """Members of every kind: cold, saver with a hidden paper, follower of an author, a
    category, a paper and a search, one with a blend and one reset."""
    members = [make_member(engine, name) for name in ("cold", "saver", "follower", "blend", "reset")]
    _, saver, follower, blend, reset = members
    _save(engine, saver, catalogue[LIBRARY["quantum"]])
    _save(engine, saver, catalogue[LIBRARY["speech"]])
    _save(engine, blend, catalogue[LIBRARY["graphs"]])
    _save(engine, reset, catalogue[LIBRARY["graphs"]])
    with write_transaction(engine) as conn:
        set_signal(conn, saver.id, catalogue["2506.10001"], NOT_INTERESTED, now_utc())
        insert_follow(conn, follower.id, "author", "tara grasp", "Tara Grasp", now_utc())
        insert_follow(conn, follower.id, "category", "quant-ph", "quant-ph", now_utc())
        insert_follow(conn, follower.id, "paper", "2506.09003", "Earlier quantum work", now_utc())
        insert_follow(conn, follower.id, "search", '"speech recognition"', "speech", now_utc())
    set_personal_share(engine, blend.id, 30)
    reset_recommendations(engine, reset.id)
    return members


def test_each_member_of_a_batch_gets_what_recommend_papers_gives_them(engine, catalogue, index):
    members = _members(engine, catalogue)
    period = day_period(DAY)
    batch = recommend_papers_many(engine, index, [m.id for m in members], period, now=NOW)  # made first
    assert list(batch) == [m.id for m in members]
    for member in members:
        many, alone = batch[member.id], recommend_papers(engine, index, member.id, period, now=NOW)
        assert many.scored.personal is not alone.scored.personal  # made apart, then compared
        assert many.ranking()[0] == alone.ranking()[0], member.username
        np.testing.assert_allclose(many.ranking()[1], alone.ranking()[1], rtol=1e-4, atol=1e-4)
        assert [r.reason.text for r in many.page(0, 100)] == [r.reason.text for r in alone.page(0, 100)]
        assert (many.signals, many.follows, many.cold) == (alone.signals, alone.follows, alone.cold)
    assert [batch[m.id].cold for m in members] == [True, False, False, False, True]
    assert catalogue["2506.10001"] not in batch[members[1].id].ranking()[0]  # hidden stays out
    assert batch[members[2].id].page(0, 1)[0].reason.text == "by an author you follow: Tara Grasp"


def test_a_model_the_process_keeps_is_used(engine, catalogue, index):
    ada, bob = make_member(engine, "ada"), make_member(engine, "bob")
    _save(engine, ada, catalogue[LIBRARY["quantum"]])
    _save(engine, bob, catalogue[LIBRARY["speech"]])
    period = day_period(DAY)
    kept = recommend_papers(engine, index, ada.id, period, now=NOW).scored.personal
    batch = recommend_papers_many(engine, index, [ada.id, bob.id], period, now=NOW)
    assert batch[ada.id].scored.personal is kept
    assert batch[bob.id].scored.personal is not kept
    _save(engine, ada, catalogue[LIBRARY["graphs"]])  # acted: the kept model is stale, made anew
    again = recommend_papers_many(engine, index, [ada.id], period, now=NOW)
    assert again[ada.id].scored.personal is not kept
    assert len(again[ada.id].signals.saved) == 2
