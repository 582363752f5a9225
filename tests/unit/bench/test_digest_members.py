"""The digest benchmark's members (bench/digest_members.py): libraries, marks and follows drawn
as bench/personal.py draws its members'."""

from __future__ import annotations

import random
from datetime import UTC, datetime

from bench import digest_members as dm

NOW = datetime(2026, 7, 1, 12, tzinfo=UTC)
BY_CATEGORY = {"cs.CV": list(range(1000)), "cs.CL": list(range(1000, 1300)), "math.OC": [2000, 2001]}


def _drawn(seed: int):  # type: ignore[no-untyped-def]
    rng = random.Random(seed)
    tastes = dm.taste_of(rng, [1, 2, 3, 4], BY_CATEGORY)
    saves = dm.save_rows(rng, tastes, BY_CATEGORY, NOW)
    return rng, tastes, saves


def test_each_member_saves_twenty_papers_mostly_of_their_taste() -> None:
    _, tastes, saves = _drawn(5)
    assert len({(row["user_id"], row["paper_id"]) for row in saves}) == len(saves) == 4 * dm.SAVES_PER_MEMBER
    own = sum(row["paper_id"] in BY_CATEGORY[tastes[row["user_id"]]] for row in saves)
    assert own / len(saves) > 0.5
    assert _drawn(5)[2] == saves
    assert _drawn(6)[2] != saves


def test_marks_and_follows_are_their_tastes_and_authors_never_a_saved_paper_hidden() -> None:
    rng, tastes, saves = _drawn(5)
    hidden = dm.hidden_rows(rng, tastes, BY_CATEGORY, saves, NOW)
    saved = {(row["user_id"], row["paper_id"]) for row in saves}
    assert hidden
    assert not {(row["user_id"], row["paper_id"]) for row in hidden} & saved
    assert all(row["paper_id"] in BY_CATEGORY[tastes[row["user_id"]]] for row in hidden)
    assert len(list(dm.seen_rows(saves))) == len(saves) // 4
    authors = {row["paper_id"]: ["Ada Lovelace", "Alan Turing"] for row in saves}
    follows = dm.follow_rows(rng, tastes, saves, authors, NOW)
    assert sorted((row["user_id"], row["kind"]) for row in follows) == [
        (uid, kind) for uid in (1, 2, 3, 4) for kind in ("author", "category")
    ]
    assert {row["value"] for row in follows if row["kind"] == "author"} <= {"ada lovelace", "alan turing"}
