"""The in-process vector index on a real database (SQLite, or PostgreSQL with
PAPERBOY_TEST_DATABASE_URL): loading, filters, and noticing vectors other writers store."""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest
from conftest import make_record
from sqlalchemy import select

from paperboy.domain.vectors import nearest
from paperboy.services.vector_index import VectorIndex
from paperboy.storage.schema import papers
from paperboy.storage.transactions import write_transaction
from paperboy.storage.vectors import delete_embeddings, store_embeddings, vectors_generation

MODEL = "test-model"
NEVER = 3600.0  # refresh_seconds of an index that must not look for changes by itself


def _unit(rng, n, dimensions=16):
    vectors = rng.standard_normal((n, dimensions)).astype(np.float32)
    return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


@pytest.fixture
def paper_ids(engine, add_papers):
    add_papers(*(make_record(f"2506.{n:05d}") for n in range(1, 41)))
    with engine.connect() as conn:
        return list(conn.execute(select(papers.c.id).order_by(papers.c.id)).scalars())


def _store(engine, ids, vectors, version=1, model=MODEL):
    with write_transaction(engine) as conn:
        store_embeddings(conn, model, [(paper_id, version) for paper_id in ids], vectors)


@pytest.fixture
def index(engine):
    index = VectorIndex(engine, MODEL, refresh_seconds=NEVER)
    yield index
    index.close()


def test_an_empty_store_finds_nothing(index):
    assert len(index) == 0
    assert index.nearest(np.ones(16, dtype=np.float32), 10) == ([], [])
    assert index.vector_of(1) is None


def test_nearest_is_the_exact_cosine_ranking(engine, paper_ids, index):
    vectors = _unit(np.random.default_rng(1), len(paper_ids))
    _store(engine, paper_ids, vectors)
    query = np.random.default_rng(2).standard_normal(16).astype(np.float32)
    ids, scores = index.nearest(query * 3.0, 5)  # the query need not be unit length
    expected_ids, expected_scores = nearest(vectors, np.array(paper_ids), query / np.linalg.norm(query), 5)
    assert ids == expected_ids
    assert np.allclose(scores, expected_scores, atol=2e-3)  # stored as float16
    assert len(index) == len(paper_ids)
    assert float(index.vector_of(paper_ids[3]) @ vectors[3]) > 0.9999


def test_within_and_exclude_are_respected(engine, paper_ids, index):
    vectors = _unit(np.random.default_rng(3), len(paper_ids))
    _store(engine, paper_ids, vectors)
    query = vectors[0]
    assert index.nearest(query, 1) == ([paper_ids[0]], pytest.approx([1.0], abs=1e-3))
    assert index.nearest(query, 3, exclude={paper_ids[0]})[0][0] != paper_ids[0]
    few = paper_ids[10:13]  # few allowed rows: only they are scored
    assert sorted(index.nearest(query, 10, within=few)[0]) == few
    many = paper_ids[5:35]  # most rows allowed: all are scored, the others masked
    found, _ = index.nearest(query, 100, within=many, exclude=paper_ids[5:7])
    assert sorted(found) == paper_ids[7:35]
    assert index.nearest(query, 10, within=[]) == ([], [])
    assert index.nearest(query, 10, within=[999_999]) == ([], [])
    ranked, _ = index.nearest(query, len(paper_ids))
    assert found == [i for i in ranked if i in set(paper_ids[7:35])]


def test_ties_go_to_the_smaller_id(engine, paper_ids, index):
    same = np.tile(_unit(np.random.default_rng(4), 1), (4, 1))
    _store(engine, [paper_ids[9], paper_ids[2], paper_ids[30], paper_ids[5]], same)
    assert index.nearest(same[0], 3)[0] == [paper_ids[2], paper_ids[5], paper_ids[9]]


def test_vectors_stored_after_the_first_query_are_found_after_a_refresh(engine, paper_ids, index):
    vectors = _unit(np.random.default_rng(5), len(paper_ids))
    _store(engine, paper_ids[:20], vectors[:20])
    assert len(index) == 20
    _store(engine, paper_ids[20:], vectors[20:])
    assert len(index) == 20  # not looked for yet: refresh_seconds has not passed
    assert index.refresh() is True
    assert index.nearest(vectors[30], 1)[0] == [paper_ids[30]]
    assert len(index) == len(paper_ids)
    assert index.refresh() is False  # nothing changed since


def test_a_new_version_replaces_the_papers_vector(engine, paper_ids, index):
    first, second = _unit(np.random.default_rng(6), 2)
    _store(engine, [paper_ids[0]], first.reshape(1, -1), version=1)
    assert index.nearest(first, 1) == ([paper_ids[0]], pytest.approx([1.0], abs=1e-3))
    _store(engine, [paper_ids[0]], second.reshape(1, -1), version=2)
    index.refresh()
    assert len(index) == 1
    assert float(index.vector_of(paper_ids[0]) @ second) > 0.9999
    assert index.nearest(second, 1)[1] == pytest.approx([1.0], abs=1e-3)


def test_deleted_vectors_and_other_models_vectors(engine, paper_ids, index):
    vectors = _unit(np.random.default_rng(7), 3)
    _store(engine, paper_ids[:3], vectors)
    _store(engine, paper_ids[3:6], vectors, model="another-model")
    assert len(index) == 3
    with write_transaction(engine) as conn:
        delete_embeddings(conn, MODEL)
    index.refresh()
    assert len(index) == 0
    assert index.nearest(vectors[0], 5) == ([], [])


def test_every_store_and_delete_bumps_the_generation(engine, paper_ids):
    with engine.connect() as conn:
        assert vectors_generation(conn) == 0
    _store(engine, paper_ids[:2], _unit(np.random.default_rng(8), 2))
    _store(engine, paper_ids[:1], _unit(np.random.default_rng(9), 1), version=2)
    with write_transaction(engine) as conn:
        delete_embeddings(conn, MODEL)
    with engine.connect() as conn:
        assert vectors_generation(conn) == 3


def test_changes_are_noticed_in_the_background_while_queries_are_answered(engine, paper_ids):
    vectors = _unit(np.random.default_rng(10), len(paper_ids))
    _store(engine, paper_ids[:1], vectors[:1])
    index = VectorIndex(engine, MODEL, refresh_seconds=0.05)
    try:
        assert len(index) == 1
        _store(engine, paper_ids[1:], vectors[1:])
        deadline = time.monotonic() + 10
        while len(index) != len(paper_ids):  # each query answers from what is loaded
            assert len(index) in (1, len(paper_ids))
            assert time.monotonic() < deadline, "the new vectors were never loaded"
            time.sleep(0.01)
        assert index.nearest(vectors[17], 1)[0] == [paper_ids[17]]
    finally:
        index.close()


def test_threads_share_one_index(engine, paper_ids):
    vectors = _unit(np.random.default_rng(11), len(paper_ids))
    _store(engine, paper_ids, vectors)
    index = VectorIndex(engine, MODEL, refresh_seconds=0.0)
    answers: list[list[int]] = []
    errors: list[BaseException] = []

    def ask() -> None:
        try:
            for row in range(len(paper_ids)):
                answers.append(index.nearest(vectors[row], 1)[0])
        except BaseException as exc:  # reported by the assertions below
            errors.append(exc)

    threads = [threading.Thread(target=ask) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    index.close()
    assert errors == []
    assert len(answers) == 4 * len(paper_ids)
    assert all(len(answer) == 1 for answer in answers)


def test_a_query_of_the_wrong_size_is_refused(engine, paper_ids, index):
    _store(engine, paper_ids[:1], _unit(np.random.default_rng(12), 1))
    with pytest.raises(ValueError, match="dimensions"):
        index.nearest(np.ones(8, dtype=np.float32), 3)
