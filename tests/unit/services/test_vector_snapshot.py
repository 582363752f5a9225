"""services/vector_snapshot.py: `nearest_each` on vectors in memory (one matrix product a block
of rows) answers each row as `nearest` does — the row's own paper and the hidden ones left out,
the delta merged in, ties to the smaller id — whatever the block size."""

from __future__ import annotations

import numpy as np
import pytest

from paperboy.services import vector_snapshot
from paperboy.services.vector_snapshot import NO_IDS, Exact, Snapshot


def _unit(rows: np.ndarray) -> np.ndarray:
    return (rows / np.linalg.norm(rows, axis=1, keepdims=True)).astype(np.float32)


def _snapshot(seed: int) -> Snapshot:
    rng = np.random.default_rng(seed)
    base = _unit(rng.normal(size=(60, 8)))
    base[10] = base[3]  # exact ties: the smaller id must come first
    base[11] = base[3]
    delta = _unit(rng.normal(size=(7, 8)))
    delta[0] = base[3]  # a tie across base and delta
    base_ids = np.arange(1, 121, 2, dtype=np.int64)  # odd ids
    delta_ids = np.arange(200, 207, dtype=np.int64)
    hidden = np.array([base_ids[5], base_ids[20]], dtype=np.int64)
    return Snapshot(1, Exact(base_ids, base), Exact(delta_ids, delta), hidden)


@pytest.mark.parametrize("block", [1, 7, 1 << 24])
@pytest.mark.parametrize("k", [1, 10, 100])
def test_nearest_each_is_nearest_for_every_row(monkeypatch, block, k):
    snapshot = _snapshot(15)
    # The block's size is a memory bound: a few rows at a time must answer the same.
    monkeypatch.setattr(vector_snapshot, "SCORES_PER_BLOCK", block * len(snapshot.base.ids))
    queries = np.vstack([snapshot.base.matrix, snapshot.delta.matrix])
    own = np.concatenate([snapshot.base.ids, snapshot.delta.ids])
    answers = snapshot.nearest_each(queries, k, own)
    assert len(answers) == len(own)
    for query, paper, (ids, scores) in zip(queries, own, answers, strict=True):
        want_ids, want_scores = snapshot.nearest(query, k, np.array([paper]), None)
        np.testing.assert_allclose(scores, want_scores, atol=1e-6)
        # The same ids in the same order, but among equal vectors: a matrix product and a
        # product by one vector may round their (equal) cosines a unit apart.
        assert _apart(ids, scores) == _apart(want_ids, want_scores), paper
        assert paper not in ids
        assert not set(ids.tolist()) & set(snapshot.hidden.tolist())


def _apart(ids: np.ndarray, scores: np.ndarray) -> list[int]:
    """The ids whose cosine no other of the answer's is within 1e-6 of, in order."""
    gaps = np.abs(scores[:, None] - scores[None, :]) + np.eye(len(scores))
    return [int(i) for i, gap in zip(ids, gaps.min(axis=1, initial=1.0), strict=True) if gap >= 1e-6]


def test_ties_go_to_the_smaller_id():
    snapshot = _snapshot(16)
    query = snapshot.base.matrix[3:4]
    ((ids, scores),) = snapshot.nearest_each(query, 3, snapshot.base.ids[3:4])
    # Rows 10 and 11 of the base and the delta's first row are the same vector as row 3.
    assert ids.tolist() == [snapshot.base.ids[10], snapshot.base.ids[11], 200]
    np.testing.assert_allclose(scores, 1.0, atol=1e-6)


def test_a_row_with_no_other_paper_gets_an_empty_answer():
    one = Snapshot(
        1, Exact(np.array([5], dtype=np.int64), _unit(np.ones((1, 4)))), vector_snapshot.EMPTY, NO_IDS
    )
    ((ids, scores),) = one.nearest_each(one.base.matrix, 10, np.array([5], dtype=np.int64))
    assert len(ids) == 0
    assert len(scores) == 0
