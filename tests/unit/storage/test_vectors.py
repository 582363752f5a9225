"""The vector store on a real database (SQLite, or PostgreSQL with PAPERBOY_TEST_DATABASE_URL)."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import pytest
from conftest import make_record
from sqlalchemy import select

from paperboy.domain.models import Version
from paperboy.storage.schema import papers
from paperboy.storage.vectors import (
    count_embeddings,
    load_vectors,
    papers_needing_embeddings,
    store_embedding,
    store_embeddings,
)

MODEL = "test-model"


def _ids(engine):
    with engine.connect() as conn:
        return dict(conn.execute(select(papers.c.arxiv_id, papers.c.id)).all())


def _unit(rng, n, dimensions=384):
    vectors = rng.standard_normal((n, dimensions)).astype(np.float32)
    return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


def test_vectors_round_trip_as_float16(engine, add_papers):
    add_papers(make_record("2506.00001"), make_record("2506.00002"), make_record("2506.00003"))
    ids = sorted(_ids(engine).values())
    vectors = _unit(np.random.default_rng(1), 3)
    with engine.begin() as conn:
        store_embeddings(conn, MODEL, [(ids[2], 1), (ids[0], 1), (ids[1], 1)], vectors)
    with engine.connect() as conn:
        matrix, loaded_ids = load_vectors(conn, MODEL)
        other, other_ids = load_vectors(conn, "another-model")
    assert loaded_ids.tolist() == ids
    assert matrix.dtype == np.float32
    assert matrix.shape == (3, 384)
    expected = vectors[[1, 2, 0]]
    assert np.abs(matrix - expected).max() < 1e-3
    assert np.min(np.sum(matrix * expected, axis=1)) > 0.999999
    assert np.allclose(np.linalg.norm(matrix, axis=1), 1.0, atol=1e-6)
    assert other.shape[0] == 0
    assert other_ids.tolist() == []


def test_storing_again_replaces_the_vector_and_version(engine, add_papers):
    add_papers(make_record("2506.00001"))
    (paper_id,) = _ids(engine).values()
    first, second = _unit(np.random.default_rng(2), 2)
    with engine.begin() as conn:
        store_embedding(conn, MODEL, paper_id, 1, first)
    with engine.begin() as conn:
        store_embedding(conn, MODEL, paper_id, 2, second)
        store_embedding(conn, "another-model", paper_id, 2, first)
    with engine.connect() as conn:
        matrix, ids = load_vectors(conn, MODEL)
        assert count_embeddings(conn, MODEL) == 1
        assert count_embeddings(conn, "another-model") == 1
    assert ids.tolist() == [paper_id]
    assert float(matrix[0] @ second) > 0.9999


def test_papers_needing_embeddings_are_missing_or_of_an_older_version(engine, add_papers):
    add_papers(make_record("2506.00001"), make_record("2506.00002"), make_record("2506.00003"))
    ids = _ids(engine)
    vectors = _unit(np.random.default_rng(3), 2)
    with engine.begin() as conn:
        todo = papers_needing_embeddings(conn, MODEL, limit=10)
        store_embeddings(conn, MODEL, [(ids["2506.00001"], 1), (ids["2506.00002"], 1)], vectors)
    assert [p.paper_id for p in todo] == sorted(ids.values())
    assert todo[0].version == 1
    assert todo[0].title == "A study of 2506.00001"
    assert todo[0].abstract == "We study paper 2506.00001 in depth."

    add_papers(make_record("2506.00002", versions=(Version(2, datetime(2025, 6, 20, tzinfo=UTC)),)))
    with engine.connect() as conn:
        todo = papers_needing_embeddings(conn, MODEL, limit=10)
        first = papers_needing_embeddings(conn, MODEL, limit=1)
        other = papers_needing_embeddings(conn, "another-model", limit=10)
    assert [(p.paper_id, p.version) for p in todo] == [(ids["2506.00002"], 2), (ids["2506.00003"], 1)]
    assert [p.paper_id for p in first] == [ids["2506.00002"]]
    assert len(other) == 3


def test_papers_needing_embeddings_after_an_id(engine, add_papers):
    add_papers(*(make_record(f"2506.0000{i}") for i in range(1, 6)))
    ids = sorted(_ids(engine).values())
    with engine.begin() as conn:
        store_embeddings(conn, MODEL, [(ids[3], 1)], _unit(np.random.default_rng(6), 1))
        after_second = papers_needing_embeddings(conn, MODEL, limit=10, after_id=ids[1])
        after_last = papers_needing_embeddings(conn, MODEL, limit=10, after_id=ids[-1])
    assert [p.paper_id for p in after_second] == [ids[2], ids[4]]
    assert after_last == []


def test_a_paper_without_known_versions_counts_as_version_0(engine, add_papers):
    add_papers(make_record("2506.00001", versions=()))
    with engine.begin() as conn:
        (todo,) = papers_needing_embeddings(conn, MODEL, limit=10)
        store_embedding(conn, MODEL, todo.paper_id, todo.version, _unit(np.random.default_rng(4), 1)[0])
        assert todo.version == 0
        assert papers_needing_embeddings(conn, MODEL, limit=10) == []


def test_deleting_a_paper_deletes_its_vectors(engine, add_papers):
    add_papers(make_record("2506.00001"))
    (paper_id,) = _ids(engine).values()
    with engine.begin() as conn:
        store_embedding(conn, MODEL, paper_id, 1, _unit(np.random.default_rng(5), 1)[0])
    with engine.begin() as conn:
        conn.execute(papers.delete())
    with engine.connect() as conn:
        assert count_embeddings(conn, MODEL) == 0


def test_papers_and_vectors_must_pair_up(engine):
    with engine.begin() as conn, pytest.raises(ValueError, match="2 papers but 1 vectors"):
        store_embeddings(conn, MODEL, [(1, 1), (2, 1)], np.zeros((1, 384), dtype=np.float32))
