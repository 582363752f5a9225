"""services/votes.py on the real database: one vote per member per paper, exact counters,
rate limits per account and per address."""

from __future__ import annotations

import threading

import pytest
from community import make_member
from conftest import make_record

from paperboy.services import votes
from paperboy.services.rate_limits import RateLimited
from paperboy.services.votes import PaperNotFound, VoteResult
from paperboy.storage import votes as store
from paperboy.storage.paper_stats import stats_of
from paperboy.storage.queries import paper_id_by_arxiv_id
from paperboy.storage.sync_state import catalogue_version

IP = "192.0.2.7"


def _member(engine, name):
    return make_member(engine, name)


def _paper_id(engine, arxiv_id="2506.12229"):
    with engine.connect() as conn:
        return paper_id_by_arxiv_id(conn, arxiv_id)


def _counts(engine, arxiv_id="2506.12229"):
    """(paper_stats.upvotes, vote rows): the counter and the truth it mirrors."""
    paper_id = _paper_id(engine, arxiv_id)
    with engine.connect() as conn:
        return stats_of(conn, paper_id)[0], store.count_votes(conn, paper_id)


@pytest.fixture
def paper(add_papers):
    add_papers(make_record("2506.12229"), make_record("2506.00002"), make_record("hep-th/9901001"))
    return "2506.12229"


def test_an_upvote_counts_once_however_often_it_is_sent(engine, settings, paper):
    ada = _member(engine, "ada")
    assert votes.upvote_paper(engine, settings, ada, paper, IP) == VoteResult(paper, 1, True)
    assert votes.upvote_paper(engine, settings, ada, paper, IP) == VoteResult(paper, 1, True)
    assert _counts(engine) == (1, 1)


def test_removing_an_upvote_counts_once_and_a_missing_one_is_fine(engine, settings, paper):
    ada, bob = _member(engine, "ada"), _member(engine, "bob")
    votes.upvote_paper(engine, settings, ada, paper, IP)
    votes.upvote_paper(engine, settings, bob, paper, IP)
    assert votes.remove_upvote(engine, settings, ada, paper, IP) == VoteResult(paper, 1, False)
    assert votes.remove_upvote(engine, settings, ada, paper, IP) == VoteResult(paper, 1, False)
    assert _counts(engine) == (1, 1)
    assert votes.remove_upvote(engine, settings, bob, paper, IP).upvotes == 0
    assert _counts(engine) == (0, 0)


@pytest.mark.parametrize(
    "spelling", ["2506.12229v3", "arXiv:2506.12229", "https://arxiv.org/abs/2506.12229v1"]
)
def test_any_spelling_of_the_id_votes_for_the_paper(engine, settings, paper, spelling):
    result = votes.upvote_paper(engine, settings, _member(engine, "ada"), spelling, IP)
    assert result == VoteResult("2506.12229", 1, True)


def test_old_style_ids_work(engine, settings, paper):
    result = votes.upvote_paper(engine, settings, _member(engine, "ada"), "hep-th/9901001", IP)
    assert result == VoteResult("hep-th/9901001", 1, True)


@pytest.mark.parametrize("arxiv_id", ["2506.99999", "not-an-id"])
def test_an_unknown_paper_is_not_found(engine, settings, paper, arxiv_id):
    with pytest.raises(PaperNotFound, match=r"2506\.99999|not an arXiv id"):
        votes.upvote_paper(engine, settings, _member(engine, "ada"), arxiv_id, IP)


def test_voted_among_answers_for_many_papers(engine, settings, paper):
    ada = _member(engine, "ada")
    votes.upvote_paper(engine, settings, ada, "2506.00002", IP)
    ids = [_paper_id(engine, a) for a in ("2506.12229", "2506.00002", "hep-th/9901001")]
    with engine.connect() as conn:
        assert store.voted_among(conn, ada.id, ids) == {ids[1]}
        assert store.voted_among(conn, ada.id, []) == set()
    assert votes.voted_papers(engine, ada, ids) == {ids[1]}
    assert votes.voted_papers(engine, None, ids) == set()


def test_votes_leave_the_catalogue_version_alone(engine, settings, paper):
    """Cached pages catch up within page_cache_seconds; a vote must not empty the whole cache."""
    with engine.connect() as conn:
        before = catalogue_version(conn)
    votes.upvote_paper(engine, settings, _member(engine, "ada"), paper, IP)
    with engine.connect() as conn:
        assert catalogue_version(conn) == before


def test_votes_are_limited_per_account(engine, settings, paper):
    limited = settings.replace(rate_limit_vote="2/day")
    ada, bob = _member(engine, "ada"), _member(engine, "bob")
    votes.upvote_paper(engine, limited, ada, paper, IP)
    votes.remove_upvote(engine, limited, ada, paper, IP)
    with pytest.raises(RateLimited, match="Too many votes"):
        votes.upvote_paper(engine, limited, ada, paper, IP)
    votes.upvote_paper(engine, limited, bob, paper, IP)  # another account on the same address
    assert _counts(engine) == (1, 1)


def test_votes_are_limited_per_address_at_a_multiple_of_the_account_limit(engine, settings, paper):
    limited = settings.replace(rate_limit_vote="1/day", rate_limit_ip_factor=2)
    members = [_member(engine, name) for name in ("ada", "bob", "cy", "di")]
    votes.upvote_paper(engine, limited, members[0], paper, IP)
    votes.upvote_paper(engine, limited, members[1], paper, IP)
    with pytest.raises(RateLimited):
        votes.upvote_paper(engine, limited, members[2], paper, IP)
    votes.upvote_paper(engine, limited, members[3], paper, "192.0.2.8")
    assert _counts(engine) == (3, 3)


def test_concurrent_votes_and_withdrawals_keep_the_counter_exact(engine, settings, paper):
    members = [_member(engine, f"m{i}") for i in range(12)]
    barrier = threading.Barrier(len(members))
    errors: list[BaseException] = []

    def click(member):
        try:
            barrier.wait()
            for _ in range(3):  # double clicks and toggles, all at once
                votes.upvote_paper(engine, settings, member, paper, IP)
                votes.upvote_paper(engine, settings, member, paper, IP)
                votes.remove_upvote(engine, settings, member, paper, IP)
            votes.upvote_paper(engine, settings, member, paper, IP)
        except BaseException as exc:  # reported below, in the test's own thread
            errors.append(exc)

    threads = [threading.Thread(target=click, args=(m,)) for m in members]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert errors == []
    assert _counts(engine) == (12, 12)
