from __future__ import annotations

import numpy as np
import pytest

from paperboy.domain.vectors import nearest


def _matrix(rows):
    matrix = np.asarray(rows, dtype=np.float32)
    return matrix / np.linalg.norm(matrix, axis=1, keepdims=True)


IDS = np.asarray([10, 20, 30, 40], dtype=np.int64)
MATRIX = _matrix([[1, 0], [0.9, 0.1], [0, 1], [-1, 0]])


def test_nearest_returns_ids_and_cosines_best_first():
    ids, scores = nearest(MATRIX, IDS, np.asarray([1.0, 0.0]), k=3)
    assert ids == [10, 20, 30]
    assert scores[0] == pytest.approx(1.0)
    assert scores[1] == pytest.approx(0.9 / np.hypot(0.9, 0.1))
    assert scores[2] == pytest.approx(0.0, abs=1e-7)


def test_nearest_skips_excluded_ids_and_still_returns_k():
    ids, _ = nearest(MATRIX, IDS, MATRIX[0], k=2, exclude={10})
    assert ids == [20, 30]


def test_k_larger_than_the_matrix_returns_everything_not_excluded():
    ids, scores = nearest(MATRIX, IDS, MATRIX[0], k=10, exclude=[40])
    assert ids == [10, 20, 30]
    assert len(scores) == 3


def test_ties_go_to_the_smaller_id_even_at_the_cut():
    matrix = _matrix([[1, 0]] * 6)
    ids = np.asarray([60, 50, 40, 30, 20, 10], dtype=np.int64)
    assert nearest(matrix, ids, matrix[0], k=2)[0] == [10, 20]


def test_empty_matrix_or_k_0_return_nothing():
    empty = np.zeros((0, 2), dtype=np.float32)
    assert nearest(empty, np.zeros(0, dtype=np.int64), np.asarray([1.0, 0.0]), k=5) == ([], [])
    assert nearest(MATRIX, IDS, MATRIX[0], k=0) == ([], [])


def test_agrees_with_a_full_sort_on_random_data():
    rng = np.random.default_rng(7)
    matrix = _matrix(rng.standard_normal((2000, 16)))
    ids = rng.permutation(10_000)[:2000].astype(np.int64)
    query = matrix[5]
    found, scores = nearest(matrix, ids, query, k=50, exclude={int(ids[5])})
    order = np.argsort(-(matrix @ query), kind="stable")
    expected = [int(i) for i in ids[order] if i != ids[5]][:50]
    assert found == expected
    assert scores == sorted(scores, reverse=True)


def test_shapes_must_match():
    with pytest.raises(ValueError, match="do not match"):
        nearest(MATRIX, IDS[:3], MATRIX[0], k=1)
    with pytest.raises(ValueError, match="query of shape"):
        nearest(MATRIX, IDS, np.zeros(3), k=1)
