"""services/feed.py's FeedCache on the real database: a feed page shown again reuses its ranking,
facet and listing days while the catalogue and community versions stay the same; a vote, a
new paper or the clock moving on in a period still under way rank it again;
each reader still gets their own votes."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta

import pytest
from community import make_member
from conftest import make_record
from sqlalchemy import event

from paperboy.domain.calendar import day_period
from paperboy.domain.models import Listing
from paperboy.services import votes
from paperboy.services.feed import RANKING_REUSE_S, feed_for_period
from paperboy.storage.papers import write_papers
from paperboy.storage.sync_state import page_versions

DAY = date(2025, 6, 12)
PERIOD = day_period(DAY)
PAPERS = ("2506.00001", "2506.00002", "2506.00003")
OVER = datetime(2025, 7, 1, tzinfo=UTC)  # the day is long over: its ranking is fixed
DURING = datetime(2025, 6, 12, 15, 0, tzinfo=UTC)  # the day is still under way


@pytest.fixture
def catalogue(add_papers):
    add_papers(*(make_record(arxiv_id, listings=(Listing(DAY, "new"),)) for arxiv_id in PAPERS))


@pytest.fixture
def statements(engine) -> Iterator[list[str]]:
    seen: list[str] = []

    def record(conn, cursor, statement, *args) -> None:
        seen.append(statement)

    event.listen(engine, "before_cursor_execute", record)
    yield seen
    event.remove(engine, "before_cursor_execute", record)


def _ranking_reads(statements: list[str]) -> int:
    """Statements that rank a period (the signals of its papers)."""
    return sum("FROM listings LEFT OUTER JOIN paper_stats" in statement for statement in statements)


def _ids(feed) -> list[str]:
    return [item.paper.arxiv_id for item in feed.items]


def test_a_page_shown_again_reuses_its_ranking_until_a_vote(engine, settings, catalogue, statements):
    first = feed_for_period(engine, PERIOD, now=OVER)
    again = feed_for_period(engine, PERIOD, now=OVER)
    assert _ids(first) == _ids(again)
    assert (again.total, again.facet, again.last_listed) == (first.total, first.facet, first.last_listed)
    assert _ranking_reads(statements) == 1
    last = _ids(first)[-1]
    votes.upvote_paper(engine, settings, make_member(engine, "ada"), last, "192.0.2.1")
    voted = feed_for_period(engine, PERIOD, now=OVER)
    assert _ranking_reads(statements) == 2
    assert _ids(voted)[0] == last  # the only paper with a vote now trends first
    assert voted.items[0].community.upvotes == 1


def test_a_new_paper_shows_at_once(engine, catalogue):
    feed_for_period(engine, PERIOD, now=OVER)
    write_papers(engine, [make_record("2506.00004", listings=(Listing(DAY, "new"),))])
    feed = feed_for_period(engine, PERIOD, now=OVER)
    assert sorted(_ids(feed)) == sorted([*PAPERS, "2506.00004"])
    assert feed.total == 4


def test_a_period_under_way_is_ranked_again_as_the_clock_moves_on(engine, catalogue, statements):
    feed_for_period(engine, PERIOD, now=DURING)
    feed_for_period(engine, PERIOD, now=DURING + timedelta(seconds=RANKING_REUSE_S / 2))
    assert _ranking_reads(statements) == 1
    later = feed_for_period(engine, PERIOD, now=DURING + timedelta(seconds=RANKING_REUSE_S + 1))
    assert _ranking_reads(statements) == 2
    assert later.ranked_at == DURING + timedelta(seconds=RANKING_REUSE_S + 1)
    feed_for_period(engine, PERIOD, now=DURING - timedelta(hours=1))  # an earlier clock: never reused
    assert _ranking_reads(statements) == 3


def test_each_reader_gets_their_own_votes_from_a_shared_ranking(engine, settings, catalogue):
    ada, bob = make_member(engine, "ada"), make_member(engine, "bob")
    votes.upvote_paper(engine, settings, ada, PAPERS[1], "192.0.2.1")
    as_ada = feed_for_period(engine, PERIOD, now=OVER, viewer_id=ada.id)
    as_bob = feed_for_period(engine, PERIOD, now=OVER, viewer_id=bob.id)
    anonymous = feed_for_period(engine, PERIOD, now=OVER)
    assert _ids(as_ada) == _ids(as_bob) == _ids(anonymous)
    assert [item.community.voted for item in as_ada.items] == [True, False, False]
    assert not any(item.community.voted for item in as_bob.items + anonymous.items)


def test_a_vote_moves_the_community_version_and_a_repeated_one_does_not(engine, settings, catalogue):
    with engine.connect() as conn:
        before = page_versions(conn)
    ada = make_member(engine, "ada")
    votes.upvote_paper(engine, settings, ada, PAPERS[0], "192.0.2.1")
    with engine.connect() as conn:
        after_vote = page_versions(conn)
    assert after_vote[0] == before[0]  # the catalogue did not change
    assert after_vote[1] != before[1]
    votes.upvote_paper(engine, settings, ada, PAPERS[0], "192.0.2.1")  # already voted: no change
    with engine.connect() as conn:
        assert page_versions(conn) == after_vote
