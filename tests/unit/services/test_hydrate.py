"""services/hydrate.py on the real database: papers come from the process's cache while the
catalogue version is the one they were loaded at, and from the database again after any write
that pages show (a new version of a paper, Hugging Face's signals, a deletion by a rolled-back
writer never kept); community counts are read live, or kept under the catalogue and community
versions a page read first (`hydrate_papers_at`), and the reader's votes always read live."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from community import make_member
from conftest import make_record
from sqlalchemy import event

from paperboy.domain.models import HfSignal, Paper
from paperboy.services import votes
from paperboy.services.hydrate import CommunityCache, PaperCache, hydrate_papers, hydrate_papers_at
from paperboy.storage.hf import upsert_hf_signals
from paperboy.storage.papers import upsert_papers, write_papers
from paperboy.storage.queries import paper_ids_by_arxiv_ids
from paperboy.storage.sync_state import page_versions
from paperboy.storage.transactions import write_transaction

IDS = ("2506.00001", "2506.00002", "2506.00003")


@pytest.fixture
def paper_ids(engine, add_papers) -> list[int]:
    add_papers(*(make_record(arxiv_id) for arxiv_id in IDS))
    with engine.connect() as conn:
        found = paper_ids_by_arxiv_ids(conn, IDS)
    return [found[arxiv_id] for arxiv_id in IDS]


class Statements:
    """The SQL statements an engine runs, as text."""

    def __init__(self) -> None:
        self.seen: list[str] = []

    def __call__(self, conn, cursor, statement, parameters, context, executemany) -> None:
        self.seen.append(statement)

    def reading(self, table: str) -> list[str]:
        return [statement for statement in self.seen if f"FROM {table}" in statement]


@pytest.fixture
def statements(engine) -> Iterator[Statements]:
    seen = Statements()
    event.listen(engine, "before_cursor_execute", seen)
    yield seen
    event.remove(engine, "before_cursor_execute", seen)


def _hydrate(engine, ids, viewer_id=None):
    with engine.connect() as conn:
        return hydrate_papers(conn, ids, viewer_id)


def test_papers_seen_once_are_not_read_again_until_the_catalogue_changes(engine, paper_ids, statements):
    first = _hydrate(engine, paper_ids[:2])
    assert len(statements.reading("paper_authors")) == 1
    again = _hydrate(engine, list(reversed(paper_ids)))  # two cached, one not
    reads = statements.reading("paper_authors")
    assert len(reads) == 2
    assert f"({paper_ids[2]})" in reads[1]  # only the missing one
    assert [view.paper.arxiv_id for view in again] == list(reversed(IDS))
    assert [view.paper for view in first] == [view.paper for view in again[:0:-1]]
    _hydrate(engine, paper_ids)
    assert len(statements.reading("paper_authors")) == 2  # all three cached now
    write_papers(engine, [make_record("2506.00004")])  # the version moves on: all read again
    statements.seen.clear()
    _hydrate(engine, paper_ids)
    assert len(statements.reading("paper_authors")) == 1


def test_a_new_version_of_a_paper_shows_at_once(engine, paper_ids):
    assert _hydrate(engine, paper_ids)[0].paper.title == f"A study of {IDS[0]}"
    write_papers(engine, [make_record(IDS[0], title="Retitled", authors=("Grace Hopper",))])
    paper = _hydrate(engine, paper_ids)[0].paper
    assert (paper.title, paper.authors) == ("Retitled", ["Grace Hopper"])


def test_hugging_face_signals_show_at_once(engine, paper_ids):
    assert _hydrate(engine, paper_ids)[1].paper.hf is None
    signal = HfSignal(IDS[1], upvotes=42, github_repo="https://github.com/example/code")
    with write_transaction(engine) as conn:
        upsert_hf_signals(conn, [signal])
    paper = _hydrate(engine, paper_ids)[1].paper
    assert paper.hf is not None
    assert paper.hf.upvotes == 42
    assert ("code", "https://github.com/example/code") in [(link.kind, link.url) for link in paper.links]


def test_community_counts_and_votes_are_live(engine, settings, paper_ids):
    ada = make_member(engine, "ada")
    before = _hydrate(engine, paper_ids, ada.id)[2]
    assert (before.community.upvotes, before.community.voted) == (0, False)
    votes.upvote_paper(engine, settings, ada, IDS[2], "192.0.2.7")  # no new catalogue version
    after = _hydrate(engine, paper_ids, ada.id)[2]
    assert (after.community.upvotes, after.community.voted) == (1, True)
    assert _hydrate(engine, paper_ids)[2].community.voted is False  # another reader


def _hydrate_at(engine, ids, viewer_id):
    with engine.connect() as conn:
        versions = page_versions(conn)  # read first, as "For you" does
    with engine.connect() as conn:
        return hydrate_papers_at(conn, ids, viewer_id, versions)


def test_counts_kept_under_the_versions_are_read_once_and_a_vote_shows_at_once(
    engine, settings, paper_ids, statements
):
    ada, bob = make_member(engine, "ada"), make_member(engine, "bob")
    first = _hydrate_at(engine, paper_ids, ada.id)
    assert [view.paper.arxiv_id for view in first] == list(IDS)
    assert len(statements.reading("papers LEFT OUTER JOIN paper_stats")) == 1
    again = _hydrate_at(engine, paper_ids, bob.id)  # another reader, the same versions
    assert [view.community for view in again] == [view.community for view in first]
    assert len(statements.reading("papers LEFT OUTER JOIN paper_stats")) == 1  # counts kept
    votes.upvote_paper(engine, settings, ada, IDS[2], "192.0.2.7")  # a new community version
    mine, theirs = _hydrate_at(engine, paper_ids, ada.id)[2], _hydrate_at(engine, paper_ids, bob.id)[2]
    assert (mine.community.upvotes, mine.community.voted) == (1, True)
    assert (theirs.community.upvotes, theirs.community.voted) == (1, False)  # marks never kept


def test_the_community_cache_refuses_counts_of_other_versions():
    cache = CommunityCache(capacity=2)
    assert cache.get_many(("c1", "1"), [1]) == {}
    cache.put_many(("c1", "1"), {1: "one", 2: "two", 3: "three"}.items())  # type: ignore[arg-type]
    assert cache.get_many(("c1", "1"), [1, 2, 3]) == {2: "two", 3: "three"}  # the oldest out
    cache.put_many(("c1", "0"), {4: "older"}.items())  # type: ignore[arg-type]
    assert cache.get_many(("c1", "1"), [4]) == {}
    assert cache.get_many(("c1", "2"), [2]) == {}  # a newer version empties it


def test_a_writer_sees_its_own_changes_and_a_rollback_leaves_nothing_cached(engine, paper_ids):
    _hydrate(engine, paper_ids)

    seen_inside = []

    def abandoned_write() -> None:
        with write_transaction(engine) as conn:
            upsert_papers(conn, [make_record(IDS[0], title="Never committed")])
            seen_inside.append(hydrate_papers(conn, paper_ids)[0].paper.title)
            raise LookupError("abandoned")

    with pytest.raises(LookupError):
        abandoned_write()
    assert seen_inside == ["Never committed"]
    assert _hydrate(engine, paper_ids)[0].paper.title == f"A study of {IDS[0]}"


def test_deleted_and_unknown_ids_are_skipped_and_duplicates_kept(engine, paper_ids):
    views = _hydrate(engine, [paper_ids[0], 987_654, paper_ids[0]])
    assert [view.paper.arxiv_id for view in views] == [IDS[0], IDS[0]]


def _paper(paper_id: int) -> Paper:
    return Paper(id=paper_id, arxiv_id=f"2506.{paper_id:05d}", title="t", abstract="a")


def test_the_cache_keeps_the_most_recently_used_and_refuses_papers_of_an_older_version():
    cache = PaperCache(capacity=2)
    assert cache.get_many("v1", [1]) == {}
    cache.put_papers("v1", [_paper(1), _paper(2)])
    assert set(cache.get_many("v1", [1])) == {1}  # 1 is now the most recent
    cache.put_papers("v1", [_paper(3)])
    assert set(cache.get_many("v1", [1, 2, 3])) == {1, 3}
    assert cache.get_many("v2", [1, 3]) == {}  # a new version empties it
    cache.put_papers("v1", [_paper(4)])  # read before the change: not kept
    assert len(cache) == 0
