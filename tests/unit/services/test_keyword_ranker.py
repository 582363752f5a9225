"""services/keyword_ranker.KeywordRanker over the real database (SQLite, and PostgreSQL in the
second pass) and a real index folder: building from the database, following its writes, the one
writer of a folder and the processes that only read it, folders that must be rebuilt, and when it
declines to answer. Then services/search.Searcher with it: the same results as the database's
full-text index alone, and the database answering when the index's candidates are too few."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from conftest import make_record
from sqlalchemy import Engine, select
from sqlalchemy.exc import OperationalError

from paperboy.domain.models import Listing, PaperRecord, Version
from paperboy.domain.search_query import parse_search_query
from paperboy.services import keyword_ranker
from paperboy.services.keyword_ranker import SCHEMA_VERSION, WRITER_RETRY_S, KeywordRanker
from paperboy.services.search import DEFAULT_TUNING, Searcher, Tuning
from paperboy.storage.keyword_index import KeywordDocument, KeywordHits, KeywordIndex
from paperboy.storage.lexical_index import keyword_documents, lexical_generation
from paperboy.storage.papers import write_papers
from paperboy.storage.schema import papers

GALAXIES = "2501.00001"
PROTEINS = "2501.00002"
GRAPHS = "2501.00003"
JUNK_ID = 987_654  # a paper id no test database has


def _paper(arxiv_id: str, title: str, abstract: str, *, version: int = 1, **fields: object) -> PaperRecord:
    versions = tuple(Version(n, datetime(2025, 1, n, tzinfo=UTC)) for n in range(1, version + 1))
    listings = (Listing(date(2025, 1, 2), "new"),)
    return make_record(
        arxiv_id, title=title, abstract=abstract, versions=versions, listings=listings, **fields
    )


CATALOGUE = (
    _paper(GALAXIES, "Galaxy surveys", "Counting galaxies and stars.", authors=("Vera Rubin",)),
    _paper(PROTEINS, "Protein folding", "Enzymes fold proteins.", authors=("Rosalind Franklin",)),
    _paper(GRAPHS, "Graph networks", "Message passing on graphs.", authors=("Alan Turing",)),
)


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def rankers(engine: Engine, tmp_path: Path, clock: Clock) -> Iterator[Callable[[], KeywordRanker]]:
    """KeywordRankers on the test's folder, as processes of one host would have; closed after.
    The background round waits an hour: the tests step the rankers themselves."""
    made: list[KeywordRanker] = []

    def make() -> KeywordRanker:
        ranker = KeywordRanker(engine, tmp_path / "keywords", refresh_seconds=3600, clock=clock)
        made.append(ranker)
        return ranker

    yield make
    for ranker in made:
        ranker.close()


@pytest.fixture
def catalogue(add_papers: Callable[..., None]) -> None:
    add_papers(*CATALOGUE)


def _search(
    ranker: KeywordRanker, engine: Engine, text: str, *, all_words: bool = True
) -> KeywordHits | None:
    with engine.connect() as conn:
        return ranker.search(conn, parse_search_query(text), 10, all_words=all_words)


def _found(ranker: KeywordRanker, engine: Engine, text: str) -> list[str] | None:
    """The arXiv ids the ranker answers, best first; None when it declines."""
    hits = _search(ranker, engine, text)
    return None if hits is None else _arxiv_ids(engine, hits.ids)


def _arxiv_ids(engine: Engine, ids: list[int]) -> list[str]:
    with engine.connect() as conn:
        by_id = dict(conn.execute(select(papers.c.id, papers.c.arxiv_id)).all())
    return [by_id[i] for i in ids]


def _state(tmp_path: Path) -> dict[str, object]:
    loaded: dict[str, object] = json.loads((tmp_path / "keywords" / "state.json").read_text())
    return loaded


def _plant_junk(directory: Path) -> None:
    """A document no database has, left in the folder as an older index would have it."""
    index = KeywordIndex(directory)
    assert index.acquire_writer()
    index.put([KeywordDocument(JUNK_ID, "Zyzzyva obsolete", "", "")])
    index.commit()
    index.release_writer()


# --- building and following the database ---


def test_the_first_refresh_builds_the_index_from_the_database(engine, catalogue, rankers, tmp_path):
    ranker = rankers()
    assert ranker.status().state == "building"
    assert _search(ranker, engine, "galaxies") is None
    ranker.refresh()
    status = ranker.status()
    assert (status.state, status.papers, status.writer, status.failure) == ("current", 3, True, None)
    assert _found(ranker, engine, "galaxies") == [GALAXIES]
    assert _found(ranker, engine, "franklin") == [PROTEINS]  # authors count too
    with engine.connect() as conn:
        generation = lexical_generation(conn)
    state = _state(tmp_path)
    assert state["complete"] is True
    assert state["generation"] == generation
    assert state["schema"] == SCHEMA_VERSION


def test_a_paper_written_after_is_found_by_the_next_search(engine, catalogue, rankers):
    ranker = rankers()
    ranker.refresh()
    write_papers(engine, [_paper("2501.00009", "Dark matter halos", "Halos of galaxies.")])
    assert ranker.status().state == "behind"
    assert sorted(_found(ranker, engine, "galaxies") or []) == [GALAXIES, "2501.00009"]
    assert _found(ranker, engine, "halos") == ["2501.00009"]
    assert ranker.status().state == "current"
    assert ranker.status().papers == 4


def test_a_changed_title_is_found_by_its_new_words_not_its_old_ones(engine, catalogue, rankers):
    ranker = rankers()
    ranker.refresh()
    write_papers(engine, [_paper(GRAPHS, "Hypergraph sheaves", "Message passing on graphs.", version=2)])
    assert _found(ranker, engine, "hypergraph sheaves") == [GRAPHS]
    assert _found(ranker, engine, "networks") == []
    assert ranker.status().papers == 3  # replaced, not added


def test_an_untouched_index_is_not_rewritten_by_a_refresh(engine, catalogue, rankers, tmp_path):
    ranker = rankers()
    ranker.refresh()
    before = (tmp_path / "keywords" / "state.json").stat().st_mtime_ns
    ranker.refresh()
    assert (tmp_path / "keywords" / "state.json").stat().st_mtime_ns == before
    assert _found(ranker, engine, "galaxies") == [GALAXIES]


# --- one writer, other readers ---


def test_a_second_ranker_reads_what_the_writer_publishes(engine, catalogue, rankers, tmp_path):
    holder = KeywordIndex(tmp_path / "keywords")  # a writer that has published nothing yet
    assert holder.acquire_writer()
    reader = rankers()
    reader.refresh()
    assert reader.status().writer is False
    assert reader.status().state == "building"
    assert _search(reader, engine, "galaxies") is None
    holder.release_writer()
    writer = rankers()
    writer.refresh()
    assert writer.status().writer
    reader.refresh()  # reloads from state.json
    assert _found(reader, engine, "galaxies") == [GALAXIES]
    assert reader.status().writer is False

    write_papers(engine, [_paper("2501.00009", "Dark matter halos", "Halos of galaxies.")])
    assert _search(reader, engine, "halos") is None  # not indexed yet: the database answers
    assert reader.status().state == "behind"
    assert _found(writer, engine, "halos") == ["2501.00009"]  # the writer catches up inline
    reader.refresh()
    assert _found(reader, engine, "halos") == ["2501.00009"]
    assert reader.status().state == "current"


def test_close_lets_go_of_the_lock_so_another_ranker_becomes_the_writer(engine, catalogue, rankers, clock):
    first, second = rankers(), rankers()
    first.refresh()
    second.refresh()
    assert first.status().writer
    assert not second.status().writer
    first.close()
    assert not first.status().writer
    second.refresh()
    assert not second.status().writer  # it tries again only WRITER_RETRY_S later
    clock.now += WRITER_RETRY_S
    second.refresh()
    assert second.status().writer
    write_papers(engine, [_paper("2501.00009", "Dark matter halos", "Halos of galaxies.")])
    assert _found(second, engine, "halos") == ["2501.00009"]


def test_a_first_build_that_failed_halfway_leaves_no_paper_twice(engine, catalogue, rankers, monkeypatch):
    # Batches of two: the first is put in the index, reading the second fails (the database
    # went away); what the first round put but never committed must not be put again.
    monkeypatch.setattr(keyword_ranker, "BATCH", 2)
    reads = []

    def failing_second_read(conn, paper_ids):  # type: ignore[no-untyped-def]
        reads.append(paper_ids)
        if len(reads) == 2:
            raise OperationalError("SELECT", {}, Exception("the database went away"))
        return keyword_documents(conn, paper_ids)

    monkeypatch.setattr(keyword_ranker, "keyword_documents", failing_second_read)
    ranker = rankers()
    with pytest.raises(OperationalError):
        ranker.refresh()
    failed = ranker.status()
    assert (failed.state, failed.papers) == ("off", 0)
    assert "the database went away" in (failed.failure or "")
    ranker.refresh()
    assert (ranker.status().state, ranker.status().papers, ranker.status().failure) == ("current", 3, None)
    for text, arxiv_id in (("galaxies", GALAXIES), ("protein", PROTEINS), ("graphs", GRAPHS)):
        assert _found(ranker, engine, text) == [arxiv_id]


# --- folders that must be rebuilt ---


@pytest.mark.parametrize(("key", "value"), [("database", "another database"), ("schema", SCHEMA_VERSION + 1)])
def test_a_folder_of_another_database_or_schema_is_wiped_and_rebuilt(
    engine, catalogue, rankers, tmp_path, key, value
):
    first = rankers()
    first.refresh()
    first.close()
    _plant_junk(tmp_path / "keywords")
    state = _state(tmp_path)
    state[key] = value
    (tmp_path / "keywords" / "state.json").write_text(json.dumps(state))

    ranker = rankers()
    ranker.refresh()
    assert _found(ranker, engine, "zyzzyva") == []
    assert _found(ranker, engine, "galaxies") == [GALAXIES]
    assert ranker.status().papers == 3
    assert _state(tmp_path)[key] != value


@pytest.mark.parametrize("state", [{"complete": False}, None], ids=["unfinished", "no-state"])
def test_an_interrupted_first_build_is_started_again(engine, catalogue, rankers, tmp_path, state):
    first = rankers()
    first.refresh()
    first.close()
    _plant_junk(tmp_path / "keywords")
    saved = _state(tmp_path)
    if state is None:
        (tmp_path / "keywords" / "state.json").unlink()
    else:
        (tmp_path / "keywords" / "state.json").write_text(json.dumps({**saved, **state}))

    ranker = rankers()
    ranker.refresh()
    assert _found(ranker, engine, "zyzzyva") == []
    assert ranker.status().papers == 3
    assert _state(tmp_path)["complete"] is True


# --- declining ---


def test_a_query_of_stop_words_only_is_left_to_the_database(engine, catalogue, rankers):
    ranker = rankers()
    ranker.refresh()
    assert _search(ranker, engine, "the of and") is None
    assert _found(ranker, engine, "the galaxies") == [GALAXIES]


# --- Searcher with the keyword index ---

_LG, _CV, _BIO = ("cs.LG",), ("cs.CV",), ("q-bio.BM",)
CORPUS = (
    _paper("2502.00001", "Graph neural networks for molecules", "Message passing predicts molecular traits.",
           authors=("Ada Lovelace",), categories=_LG),
    _paper("2502.00002", "Message passing on very large graphs", "Partitioned graph networks scale.",
           authors=("Alan Turing",), categories=_LG),
    _paper("2502.00003", "Vision transformers for segmentation", "Transformers attend over image patches.",
           authors=("Katherine Johnson",), categories=_CV),
    _paper("2502.00004", "Protein folding with diffusion", "Diffusion models fold protein graphs.",
           authors=("Rosalind Franklin",), categories=_BIO),
    _paper("2502.00005", "Graph transformers: a survey", "Graph transformers replace message passing.",
           authors=("Ada Lovelace", "Alan Turing"), categories=_LG),
)  # fmt: skip


class Recording(KeywordRanker):
    """A KeywordRanker that remembers whether it answered, so a test knows who ranked."""

    answered: list[bool]

    def ready(self, conn, query):  # type: ignore[no-untyped-def]
        found = super().ready(conn, query)
        self.answered.append(found is not None)
        return found


@pytest.fixture
def searchers(engine, add_papers, tmp_path) -> Iterator[Callable[..., tuple[Searcher, Searcher, Recording]]]:
    """(with the keyword index, the database's index alone, the keyword ranker) over CORPUS."""
    add_papers(*CORPUS)
    made: list[Searcher] = []

    def make(tuning: Tuning = DEFAULT_TUNING) -> tuple[Searcher, Searcher, Recording]:
        keywords = Recording(engine, tmp_path / f"keywords{len(made)}", refresh_seconds=3600)
        keywords.answered = []
        keywords.refresh()
        with_index = Searcher(engine, "hashing", refresh_seconds=0, keywords=keywords, tuning=tuning)
        alone = Searcher(engine, "hashing", refresh_seconds=0, tuning=tuning)
        made.extend((with_index, alone))
        return with_index, alone, keywords

    yield make
    for searcher in made:
        searcher.close()


def _result_ids(searcher: Searcher, text: str, **kwargs: object) -> list[str]:
    page = searcher.search(text, mode="lexical", **kwargs)  # type: ignore[arg-type]
    return [hit.paper.arxiv_id for hit in page.hits]


@pytest.mark.parametrize(
    "text",
    ["graph", "message passing", "graph transformers", "protein", "lovelace graph", "segmentation images"],
)
def test_simple_queries_find_the_same_papers_as_the_database(searchers, text):
    with_index, alone, keywords = searchers()
    found = _result_ids(with_index, text)
    assert keywords.answered[-1] is True
    assert found
    assert set(found) == set(_result_ids(alone, text))
    assert with_index.search(text, mode="lexical").total == alone.search(text, mode="lexical").total


def test_a_question_with_words_no_paper_has_together_matches_any_of_them(searchers):
    with_index, alone, keywords = searchers()
    question = "how do diffusion models fold proteins compared with vision transformers"
    found = _result_ids(with_index, question)
    assert keywords.answered[-1] is True
    assert set(found) == set(_result_ids(alone, question)) == {"2502.00003", "2502.00004", "2502.00005"}
    assert found[0] == "2502.00004"  # the paper with most of the words


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('"message passing" graph', {"2502.00001", "2502.00002", "2502.00005"}),
        ("graph author:turing", {"2502.00002", "2502.00005"}),
        ("graph -survey", {"2502.00001", "2502.00002", "2502.00004"}),
        ("graph cat:q-bio.BM", {"2502.00004"}),
        # No paper has both words and the category: papers of the category with either may.
        ("graph transformers cat:cs.CV", {"2502.00003"}),
        # Nor the phrase and the word: papers with the phrase, or with the word, may.
        ('"message passing" diffusion', {"2502.00001", "2502.00002", "2502.00004", "2502.00005"}),
    ],
)
def test_requirements_hold_for_what_the_index_ranks(searchers, text, expected):
    with_index, alone, keywords = searchers()
    found = _result_ids(with_index, text)
    assert keywords.answered[-1] is True
    assert set(found) == expected
    assert set(_result_ids(alone, text)) == expected


def test_a_word_too_long_for_the_index_is_left_to_the_database(engine, add_papers, searchers):
    # The index drops words of MAX_TOKEN_CHARS bytes or more (14 CJK characters are 42): ranked
    # by the others alone, every "graph" paper would be a result.
    long_word = "深度学习模型的研究方法论是好"
    add_papers(_paper("2502.00006", f"Graph {long_word}", "A graph study.", categories=_LG))
    with_index, alone, keywords = searchers()
    found = _result_ids(with_index, f"graph {long_word}")
    assert found == _result_ids(alone, f"graph {long_word}") == ["2502.00006"]
    assert keywords.answered[-1] is False


def test_a_filter_too_narrow_for_the_candidates_is_left_to_the_database(searchers):
    # Two candidates a page: the best two "graph" papers are in cs.LG, the q-bio one is third.
    with_index, _, _keywords = searchers(Tuning(lexical_depth=2))
    best_two = _result_ids(with_index, "graph", page_size=2)
    assert len(best_two) == 2
    assert "2502.00004" not in best_two
    found = _result_ids(with_index, "graph cat:q-bio.BM", page_size=2)
    assert found == ["2502.00004"]
    assert with_index.search("graph cat:q-bio.BM", mode="lexical", page_size=2).total == 1


def test_closing_stops_a_build_after_its_batch_and_lets_another_process_build(
    monkeypatch, rankers, catalogue
):
    """What `serve` does on SIGTERM while the first build runs (seconds for a real corpus): the
    build stops after the batch in hand, publishes nothing, and gives up the write lock."""
    monkeypatch.setattr(keyword_ranker, "BATCH", 1)
    ranker, batches = rankers(), []

    def documents(conn, paper_ids):
        batches.append(paper_ids)
        ranker.close(timeout=0)  # the round holds the ranker's lock: close cannot wait for it
        return keyword_documents(conn, paper_ids)

    monkeypatch.setattr(keyword_ranker, "keyword_documents", documents)
    ranker.refresh()
    assert len(batches) == 1
    assert ranker.status().state == "building"
    assert ranker.start() is None  # closed: no background round either
    monkeypatch.setattr(keyword_ranker, "keyword_documents", keyword_documents)
    other = rankers()
    other.refresh()
    assert other.status() == keyword_ranker.KeywordStatus("current", 3, True, None)
