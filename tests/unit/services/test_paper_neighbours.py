"""services/paper_neighbours.py and storage/neighbours.py on a real database (SQLite, or
PostgreSQL with PAPERBOY_TEST_DATABASE_URL), over a slice of the real corpus with its reference
MiniLM vectors: the stored lists are the exact nearest (a brute-force top ten over a few thousand
papers), which the live search through the index on disk agrees with at recall@10 >= 0.99, and
above the exact bound they are the index's own answers; a paper that leaves (from the catalogue,
or its vector) leaves every list; a changed vector makes its lists distrusted until computed
again; a paper embedded later gets its own list and enters the older lists it belongs in; a
paper page reads them without loading the vectors."""

from __future__ import annotations

import gzip
import json

import numpy as np
import pytest
from conftest import make_record, shared_path
from sqlalchemy import delete, select

from paperboy.integrations.embedder import minilm_installed
from paperboy.services.hydrate import hydrate_papers
from paperboy.services.paper_neighbours import update_paper_neighbours
from paperboy.services.search import Searcher
from paperboy.services.search_index import embed_new_papers
from paperboy.services.vector_index import VectorIndex, build_ann_index
from paperboy.storage.neighbours import papers_needing_neighbours, stored_neighbours
from paperboy.storage.schema import paper_embeddings, papers
from paperboy.storage.transactions import write_transaction
from paperboy.storage.vectors import store_embeddings

MODEL = "all-MiniLM-L6-v2"  # the reference vectors' model
SLICE = 300  # the corpus's first papers
MANY = 3000  # papers of the exactness test
LATER = 8  # papers after the slice, embedded by the product later
NEVER = 3600.0


def _corpus_rows(count: int) -> list[dict[str, str]]:
    rows = []
    with gzip.open(shared_path("data", "arxiv", "papers.jsonl.gz"), "rt") as lines:
        for line, _ in zip(lines, range(count), strict=False):
            rows.append(json.loads(line))
    return rows


def _record(row: dict[str, str]):
    return make_record(row["id"], title=row["title"], abstract=row["abstract"])


@pytest.fixture(scope="module")
def corpus() -> tuple[list[dict[str, str]], np.ndarray]:
    rows = _corpus_rows(SLICE + LATER)
    reference = np.load(shared_path("data", "arxiv", "minilm-l6-v2.f16.npy"), mmap_mode="r")
    return rows, np.asarray(reference[: SLICE + LATER], dtype=np.float32)


@pytest.fixture
def slice_ids(engine, add_papers, corpus) -> list[int]:
    """The slice in the catalogue with its reference vectors stored; their ids in corpus order."""
    rows, vectors = corpus
    add_papers(*(_record(row) for row in rows[:SLICE]))
    ids = _ids_of(engine, [row["id"] for row in rows[:SLICE]])
    with write_transaction(engine) as conn:
        store_embeddings(conn, MODEL, [(paper_id, 1) for paper_id in ids], vectors[:SLICE])
    return ids


def _ids_of(engine, arxiv_ids: list[str]) -> list[int]:
    with engine.connect() as conn:
        found: dict[str, int] = dict(
            conn.execute(select(papers.c.arxiv_id, papers.c.id).where(papers.c.arxiv_id.in_(arxiv_ids))).all()
        )
    return [found[arxiv_id] for arxiv_id in arxiv_ids]


def _assert_stored_equal_live(engine, ids, directory=None) -> None:
    live = VectorIndex(engine, MODEL, refresh_seconds=NEVER, directory=directory)
    try:
        with engine.connect() as conn:
            for paper_id in ids:
                stored = stored_neighbours(conn, MODEL, paper_id, 10)
                expected = live.neighbours_of(paper_id, 10)
                assert stored is not None, paper_id
                assert expected is not None
                assert stored[0] == expected[0], paper_id
                assert stored[1] == pytest.approx(expected[1], abs=1e-6)
    finally:
        live.close()


def test_stored_lists_are_the_live_search_answers(engine, slice_ids):
    report = update_paper_neighbours(engine, MODEL, None)
    assert report.computed == SLICE
    _assert_stored_equal_live(engine, slice_ids)
    with engine.connect() as conn:
        assert papers_needing_neighbours(conn, MODEL) == []
        assert stored_neighbours(conn, MODEL, slice_ids[0], 11) is None  # more than kept: searched
        five = stored_neighbours(conn, MODEL, slice_ids[0], 5)
        assert five is not None
        assert five[0] == stored_neighbours(conn, MODEL, slice_ids[0], 10)[0][:5]
    assert update_paper_neighbours(engine, MODEL, None).computed == 0  # all current: nothing to do


def test_above_the_exact_bound_the_lists_are_the_index_answers(engine, slice_ids, tmp_path):
    build_ann_index(engine, MODEL, tmp_path, threads=1)
    update_paper_neighbours(engine, MODEL, tmp_path, exact_up_to=SLICE - 1)
    _assert_stored_equal_live(engine, slice_ids, tmp_path)


@pytest.fixture
def many_ids(engine, add_papers) -> tuple[list[int], np.ndarray]:
    """MANY papers of the corpus in the catalogue with their reference vectors (float32, as the
    store returns them); their ids in corpus order."""
    rows = _corpus_rows(MANY)
    reference = np.load(shared_path("data", "arxiv", "minilm-l6-v2.f16.npy"), mmap_mode="r")
    vectors = np.asarray(reference[:MANY], dtype=np.float32)
    add_papers(*(_record(row) for row in rows))
    ids = _ids_of(engine, [row["id"] for row in rows])
    with write_transaction(engine) as conn:
        store_embeddings(conn, MODEL, [(paper_id, 1) for paper_id in ids], vectors)
    return ids, vectors


def _brute_force(ids: list[int], vectors: np.ndarray, k: int) -> dict[int, tuple[list[int], np.ndarray]]:
    """Every paper's `k` nearest by cosine, one row at a time in float64: best first, the smaller
    id first on a tie, the paper itself left out."""
    unit = vectors.astype(np.float64)
    unit /= np.linalg.norm(unit, axis=1, keepdims=True)
    by_id = np.asarray(ids, dtype=np.int64)
    nearest = {}
    for row, paper_id in enumerate(ids):
        scores = unit @ unit[row]
        scores[row] = -np.inf
        order = np.lexsort((by_id, -scores))[:k]
        nearest[paper_id] = ([int(i) for i in by_id[order]], scores[order])
    return nearest


def test_stored_lists_are_the_exact_nearest(engine, many_ids, tmp_path):
    ids, vectors = many_ids
    build_ann_index(engine, MODEL, tmp_path, threads=1)  # built, yet below the bound: exact
    report = update_paper_neighbours(engine, MODEL, tmp_path)
    assert report.computed == MANY
    expected = _brute_force(ids, vectors, 11)
    with engine.connect() as conn:
        for paper_id in ids:
            stored = stored_neighbours(conn, MODEL, paper_id, 10)
            assert stored is not None
            want, scores = expected[paper_id]
            assert stored[1] == pytest.approx(scores[:10].tolist(), abs=1e-5), paper_id
            # The ids in order too, but for neighbours whose cosines float32 cannot tell apart.
            gaps = np.abs(scores[:, None] - scores[None, :]) + np.eye(11)
            close = {want[i] for i in range(11) if gaps[i].min() < 1e-5}
            assert [i for i in stored[0] if i not in close] == [i for i in want[:10] if i not in close]
            assert set(stored[0]) <= set(want), paper_id


def test_the_live_search_through_the_index_on_disk_agrees_with_the_lists(engine, many_ids, tmp_path):
    ids, _ = many_ids
    build_ann_index(engine, MODEL, tmp_path, threads=1)
    update_paper_neighbours(engine, MODEL, tmp_path)
    live = VectorIndex(engine, MODEL, refresh_seconds=NEVER, directory=tmp_path)
    found = 0
    try:
        assert live.approximate
        with engine.connect() as conn:
            for paper_id in ids:
                stored = stored_neighbours(conn, MODEL, paper_id, 10)
                answer = live.neighbours_of(paper_id, 10)
                assert stored is not None
                assert answer is not None
                found += len(set(stored[0]) & set(answer[0]))
    finally:
        live.close()
    assert found / (10 * len(ids)) >= 0.99


def _lists_naming(engine, paper_id: int, ids: list[int]) -> list[int]:
    with engine.connect() as conn:
        return [i for i in ids if paper_id in (stored_neighbours(conn, MODEL, i, 10) or ([], []))[0]]


def test_a_paper_removed_from_the_catalogue_leaves_every_list(engine, slice_ids):
    update_paper_neighbours(engine, MODEL, None)
    gone = slice_ids[0]
    with engine.connect() as conn:
        naming = [i for i in slice_ids[1:] if gone in stored_neighbours(conn, MODEL, i, 10)[0]]
    assert naming  # the test means something: some list names it
    with write_transaction(engine) as conn:
        conn.execute(delete(papers).where(papers.c.id == gone))
    with engine.connect() as conn:
        assert all(stored_neighbours(conn, MODEL, i, 10) is None for i in naming)  # searched meanwhile
        assert set(naming) <= set(papers_needing_neighbours(conn, MODEL))
    update_paper_neighbours(engine, MODEL, None)
    assert _lists_naming(engine, gone, slice_ids[1:]) == []
    _assert_stored_equal_live(engine, slice_ids[1:])


def test_a_paper_whose_vector_is_withdrawn_leaves_every_list(engine, slice_ids):
    update_paper_neighbours(engine, MODEL, None)
    hidden = slice_ids[1]
    naming = _lists_naming(engine, hidden, slice_ids)
    assert naming
    with write_transaction(engine) as conn:
        conn.execute(delete(paper_embeddings).where(paper_embeddings.c.paper_id == hidden))
    with engine.connect() as conn:
        assert stored_neighbours(conn, MODEL, hidden, 10) is None
        assert all(stored_neighbours(conn, MODEL, i, 10) is None for i in naming)
    update_paper_neighbours(engine, MODEL, None)
    assert _lists_naming(engine, hidden, slice_ids) == []


def test_a_changed_vector_is_not_trusted_until_computed_again(engine, slice_ids, corpus):
    update_paper_neighbours(engine, MODEL, None)
    changed = slice_ids[2]
    naming = _lists_naming(engine, changed, slice_ids)
    assert naming
    with write_transaction(engine) as conn:  # a new version, embedded to another paper's vector
        store_embeddings(conn, MODEL, [(changed, 2)], corpus[1][SLICE - 1 : SLICE])
    with engine.connect() as conn:
        assert stored_neighbours(conn, MODEL, changed, 10) is None
        assert all(stored_neighbours(conn, MODEL, i, 10) is None for i in naming)
    update_paper_neighbours(engine, MODEL, None)
    _assert_stored_equal_live(engine, slice_ids)


@pytest.mark.skipif(not minilm_installed(), reason="the search extra (the MiniLM model) is not installed")
def test_papers_embedded_later_get_their_lists_and_enter_older_ones(
    engine, slice_ids, corpus, settings, add_papers
):
    rows, _ = corpus
    update_paper_neighbours(engine, MODEL, None)
    add_papers(*(_record(row) for row in rows[SLICE:]))
    later = _ids_of(engine, [row["id"] for row in rows[SLICE:]])
    report = embed_new_papers(engine, settings)  # the product's path: the real model, then the lists
    assert report.embedded == LATER
    with engine.connect() as conn:
        assert papers_needing_neighbours(conn, MODEL) == []
    entered = [i for i in slice_ids if any(_lists_naming(engine, new, [i]) for new in later)]
    assert entered  # the test means something: a later paper is among some older paper's nearest
    _assert_stored_equal_live(engine, slice_ids + later)


def test_a_paper_page_reads_stored_lists_without_loading_the_vectors(engine, slice_ids, corpus):
    update_paper_neighbours(engine, MODEL, None)
    searcher = Searcher(engine, "minilm", refresh_seconds=NEVER)
    try:
        with engine.connect() as conn:
            paper = searcher_paper(conn, slice_ids[5])
            hits = searcher.similar(paper, conn=conn)
            expected = stored_neighbours(conn, MODEL, slice_ids[5], 10)
        assert [hit.paper.id for hit in hits] == expected[0]
        assert searcher.meaning.vector_index().loaded_size() is None  # never loaded
    finally:
        searcher.close()


def searcher_paper(conn, paper_id):
    return hydrate_papers(conn, [paper_id])[0].paper
