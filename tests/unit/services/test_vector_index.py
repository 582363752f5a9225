"""services/vector_index.py, with the snapshots of services/vector_snapshot.py it searches, on a
real database (SQLite, or PostgreSQL with PAPERBOY_TEST_DATABASE_URL): loading, filters, the
index on disk, and noticing vectors other writers store."""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest
from conftest import make_record
from sqlalchemy import delete, select

from paperboy.domain.vectors import nearest
from paperboy.services import vector_index, vector_snapshot
from paperboy.services.vector_index import VectorIndex, update_ann_index
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


def test_a_seeded_sample_is_distinct_stored_ids_and_their_vectors(engine, paper_ids, index):
    assert len(index.sample_ids(5, seed=1)) == 0  # nothing stored yet
    vectors = _unit(np.random.default_rng(4), len(paper_ids))
    _store(engine, paper_ids[:30], vectors[:30])
    index.refresh()
    picked = index.sample_ids(10, seed=7)
    assert len(set(picked.tolist())) == 10
    assert set(picked.tolist()) <= set(paper_ids[:30])
    assert index.sample_ids(10, seed=7).tolist() == picked.tolist()  # the same seed, the same papers
    assert len(index.sample_ids(100, seed=7)) == 30  # never more than there are
    wanted = {paper_id: vectors[n] for n, paper_id in enumerate(paper_ids[:30])}
    sampled = index.sample_vectors(10, seed=7)
    np.testing.assert_allclose(sampled, np.array([wanted[i] for i in sorted(picked.tolist())]), atol=1e-3)


def test_a_new_version_replaces_the_papers_vector(engine, paper_ids, index):
    first, second = _unit(np.random.default_rng(6), 2)
    _store(engine, [paper_ids[0]], first.reshape(1, -1), version=1)
    assert index.nearest(first, 1) == ([paper_ids[0]], pytest.approx([1.0], abs=1e-3))
    _store(engine, [paper_ids[0]], second.reshape(1, -1), version=2)
    index.refresh()
    assert len(index) == 1
    assert float(index.vector_of(paper_ids[0]) @ second) > 0.9999
    assert index.nearest(second, 1)[1] == pytest.approx([1.0], abs=1e-3)


def test_a_papers_neighbours_are_its_vectors_nearest_and_kept_until_the_vectors_change(
    engine, paper_ids, index
):
    vectors = _unit(np.random.default_rng(11), 10)
    _store(engine, paper_ids[:10], vectors)
    ids, scores = index.neighbours_of(paper_ids[0], 3)
    assert (ids, scores) == index.nearest(index.vector_of(paper_ids[0]), 3, exclude={paper_ids[0]})
    assert paper_ids[0] not in ids
    assert index.neighbours_of(paper_ids[0], 3) == (ids, scores)  # kept: the same answer
    ids.append(-1)  # a caller changing its copy changes nothing kept
    assert index.neighbours_of(paper_ids[0], 3)[0] == ids[:3]
    assert index.neighbours_of(paper_ids[20], 3) is None  # no stored vector
    # A paper stored next to paper 0 becomes its nearest neighbour on the next snapshot.
    _store(engine, [paper_ids[30]], vectors[0].reshape(1, -1))
    index.refresh()
    assert index.neighbours_of(paper_ids[0], 3)[0][0] == paper_ids[30]
    # A new version of paper 0's own vector moves its neighbourhood.
    _store(engine, [paper_ids[0]], vectors[5].reshape(1, -1), version=2)
    index.refresh()
    assert index.neighbours_of(paper_ids[0], 1)[0] == [paper_ids[5]]


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
    assert len(index) == len(paper_ids)  # loaded here: threads arriving during a load find nothing
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


# --- the approximate index on disk ---------------------------------------------------------


@pytest.fixture
def many_ids(engine, add_papers):
    add_papers(*(make_record(f"2507.{n:05d}") for n in range(1, 401)))
    with engine.connect() as conn:
        return list(conn.execute(select(papers.c.id).order_by(papers.c.id)).scalars())


@pytest.fixture
def ann_dir(tmp_path):
    return tmp_path / "vectors"


def _exact_top(vectors, ids, query, k, allowed=None):
    scores = vectors @ (query / np.linalg.norm(query))
    order = sorted(range(len(ids)), key=lambda i: (-scores[i], ids[i]))
    return [ids[i] for i in order if allowed is None or ids[i] in allowed][:k]


def test_above_the_threshold_an_index_on_disk_answers(engine, many_ids, ann_dir):
    vectors = _unit(np.random.default_rng(20), len(many_ids))
    _store(engine, many_ids[:300], vectors[:300])
    summary = update_ann_index(engine, MODEL, ann_dir, threshold=100, threads=1)
    assert "built" in summary
    assert "current" in update_ann_index(engine, MODEL, ann_dir, threshold=100, threads=1)
    index = VectorIndex(engine, MODEL, refresh_seconds=NEVER, directory=ann_dir)
    assert index.approximate
    assert len(index) == 300
    query = np.random.default_rng(21).standard_normal(16).astype(np.float32)
    found, scores = index.nearest(query, 10)
    assert found == _exact_top(vectors[:300], many_ids[:300], query, 10)
    assert scores == sorted(scores, reverse=True)
    assert float(index.vector_of(many_ids[7]) @ vectors[7]) > 0.999
    assert index.vector_of(many_ids[350]) is None
    found, _ = index.nearest(vectors[5], 5, exclude={many_ids[5]})
    assert many_ids[5] not in found
    assert len(found) == 5


def test_the_index_on_disk_with_filters(engine, many_ids, ann_dir, monkeypatch):
    vectors = _unit(np.random.default_rng(22), len(many_ids))
    _store(engine, many_ids, vectors)
    update_ann_index(engine, MODEL, ann_dir, threshold=100, threads=1)
    index = VectorIndex(engine, MODEL, refresh_seconds=NEVER, directory=ann_dir)
    query = vectors[0]
    few = set(many_ids[100:110])  # few: scored exactly
    assert index.nearest(query, 5, within=few)[0] == _exact_top(vectors, many_ids, query, 5, few)
    monkeypatch.setattr(vector_snapshot, "EXACT_WITHIN", 10)  # many: over-fetched from the graph
    half = set(many_ids[::2])
    found, _ = index.nearest(query, 10, within=half, exclude={many_ids[0]})
    assert set(found) <= half - {many_ids[0]}
    assert found == _exact_top(vectors, many_ids, query, 11, half)[1:]


def test_vectors_stored_after_the_build_are_searched_exactly_beside_it(engine, many_ids, ann_dir):
    vectors = _unit(np.random.default_rng(23), len(many_ids) + 1)
    _store(engine, many_ids[:300], vectors[:300])
    update_ann_index(engine, MODEL, ann_dir, threshold=100, threads=1)
    index = VectorIndex(engine, MODEL, refresh_seconds=NEVER, directory=ann_dir)
    assert len(index) == 300
    _store(engine, many_ids[300:], vectors[300:400])  # new papers
    _store(engine, [many_ids[3]], vectors[400:], version=2)  # a new version of an indexed paper
    with write_transaction(engine) as conn:
        conn.execute(delete(papers).where(papers.c.id == many_ids[4]))  # its vector goes with it
    index.refresh()
    assert index.approximate
    assert len(index) == 399
    assert index.nearest(vectors[350], 1)[0] == [many_ids[350]]
    assert index.nearest(vectors[400], 1)[0] == [many_ids[3]]
    assert many_ids[3] not in index.nearest(vectors[3], 3)[0][:1]
    assert float(index.vector_of(many_ids[3]) @ vectors[400]) > 0.999
    assert index.vector_of(many_ids[4]) is None
    assert many_ids[4] not in index.nearest(vectors[4], 50)[0]


def test_new_papers_reach_an_index_on_disk_in_the_background(engine, many_ids, ann_dir):
    vectors = _unit(np.random.default_rng(24), len(many_ids))
    _store(engine, many_ids[:300], vectors[:300])
    update_ann_index(engine, MODEL, ann_dir, threshold=100, threads=1)
    index = VectorIndex(engine, MODEL, refresh_seconds=0.05, directory=ann_dir)
    try:
        assert len(index) == 300
        _store(engine, many_ids[300:], vectors[300:])
        deadline = time.monotonic() + 10
        while len(index) != len(many_ids):
            assert time.monotonic() < deadline, "the new vectors were never loaded"
            time.sleep(0.01)
        assert index.nearest(vectors[399], 1)[0] == [many_ids[399]]
    finally:
        index.close()


def test_below_the_threshold_the_index_on_disk_is_removed(engine, many_ids, ann_dir):
    vectors = _unit(np.random.default_rng(25), 300)
    _store(engine, many_ids[:300], vectors)
    update_ann_index(engine, MODEL, ann_dir, threshold=100, threads=1)
    index = VectorIndex(engine, MODEL, refresh_seconds=NEVER, directory=ann_dir)
    assert index.approximate
    assert "exactly" in update_ann_index(engine, MODEL, ann_dir, threshold=1000, threads=1)
    assert list(ann_dir.iterdir()) == []
    _store(engine, many_ids[300:301], vectors[:1])
    index.refresh()
    assert not index.approximate
    assert len(index) == 301


def test_callers_during_the_first_load_find_nothing_rather_than_wait(engine, paper_ids, monkeypatch):
    vectors = _unit(np.random.default_rng(30), len(paper_ids))
    _store(engine, paper_ids, vectors)
    index = VectorIndex(engine, MODEL, refresh_seconds=NEVER)
    loading, release = threading.Event(), threading.Event()
    real_load = vector_index.load_vectors_after

    def slow_load(*args, **kwargs):
        loading.set()
        release.wait(10)
        return real_load(*args, **kwargs)

    monkeypatch.setattr(vector_index, "load_vectors_after", slow_load)
    loader = threading.Thread(target=len, args=(index,))
    loader.start()
    assert loading.wait(10)
    assert len(index) == 0
    assert index.nearest(vectors[0], 3) == ([], [])
    release.set()
    loader.join()
    assert index.nearest(vectors[0], 1)[0] == [paper_ids[0]]


def test_changes_made_before_the_index_on_disk_opens_are_reconciled_in_the_background(
    engine, many_ids, ann_dir
):
    vectors = _unit(np.random.default_rng(26), len(many_ids) + 1)
    _store(engine, many_ids[:300], vectors[:300])
    update_ann_index(engine, MODEL, ann_dir, threshold=100, threads=1)
    _store(engine, [many_ids[3]], vectors[400:], version=2)  # before any process opened the index
    _store(engine, many_ids[300:302], vectors[300:302])
    index = VectorIndex(engine, MODEL, refresh_seconds=0.05, directory=ann_dir)
    try:
        assert len(index) == 302  # opened quickly: the index on disk and the newer papers
        deadline = time.monotonic() + 10
        while index.nearest(vectors[400], 1)[0] != [many_ids[3]]:
            assert time.monotonic() < deadline, "the changed vector was never reconciled"
            time.sleep(0.01)
        assert len(index) == 302
        assert float(index.vector_of(many_ids[3]) @ vectors[400]) > 0.999
    finally:
        index.close()
