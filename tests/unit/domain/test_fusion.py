"""Rank fusion, checked against small examples computed by hand."""

from __future__ import annotations

import math
import random

import pytest

from paperboy.domain.fusion import min_max_fusion, reciprocal_rank_fusion

LEXICAL = (["a", "b", "c"], [10.0, 6.0, 2.0])
SEMANTIC = (["c", "a", "d"], [0.9, 0.6, 0.3])


def test_rrf_with_the_default_k():
    ids, scores = reciprocal_rank_fusion([LEXICAL, SEMANTIC])
    # a: 1/61 + 1/62, c: 1/63 + 1/61, b: 1/62, d: 1/63
    assert ids == ["a", "c", "b", "d"]
    assert scores == pytest.approx([1 / 61 + 1 / 62, 1 / 63 + 1 / 61, 1 / 62, 1 / 63])


def test_rrf_with_k_zero_by_hand():
    ids, scores = reciprocal_rank_fusion([LEXICAL, SEMANTIC], k=0)
    # a: 1 + 1/2, c: 1/3 + 1, b: 1/2, d: 1/3
    assert ids == ["a", "c", "b", "d"]
    assert scores == pytest.approx([1.5, 4 / 3, 0.5, 1 / 3])


def test_rrf_weights_can_reorder():
    ids, scores = reciprocal_rank_fusion([LEXICAL, SEMANTIC], k=0, weights=[1.0, 3.0])
    # a: 1 + 3/2, c: 1/3 + 3, d: 3/3, b: 1/2
    assert ids == ["c", "a", "d", "b"]
    assert scores == pytest.approx([10 / 3, 2.5, 1.0, 0.5])


def test_rrf_uses_positions_not_scores():
    flat = reciprocal_rank_fusion([(["x", "y"], [5.0, 5.0])], k=0)
    steep = reciprocal_rank_fusion([(["x", "y"], [1000.0, -1000.0])], k=0)
    assert flat == steep == (["x", "y"], [1.0, 0.5])


def test_ties_go_to_the_best_position_then_the_smaller_id():
    # k=0: "a" is second in both (1/2 + 1/2 = 1), "z" and "y" first in one each (1): a three-way tie.
    ids, scores = reciprocal_rank_fusion([(["z", "a"], [2.0, 1.0]), (["y", "a"], [2.0, 1.0])], k=0)
    assert ids == ["y", "z", "a"]
    assert scores == [1.0, 1.0, 1.0]


def test_integer_ids_tie_break_numerically():
    ids, _ = reciprocal_rank_fusion([([10], [1.0]), ([9], [1.0]), ([100], [1.0])])
    assert ids == [9, 10, 100]


def test_disjoint_rankings_interleave():
    ids, scores = reciprocal_rank_fusion([([1, 2], [2.0, 1.0]), ([3, 4], [5.0, 1.0])], k=0)
    assert ids == [1, 3, 2, 4]
    assert scores == [1.0, 1.0, 0.5, 0.5]


def test_empty_inputs():
    assert reciprocal_rank_fusion([]) == ([], [])
    assert reciprocal_rank_fusion([([], []), ([], [])]) == ([], [])
    assert reciprocal_rank_fusion([([], []), (["a"], [1.0])], k=0) == (["a"], [1.0])
    assert min_max_fusion([], []) == ([], [])
    assert min_max_fusion([([], []), (["a"], [0.2])], [0.5, 0.5]) == (["a"], [0.5])


def test_min_max_by_hand():
    ids, scores = min_max_fusion([LEXICAL, SEMANTIC], [0.5, 0.5])
    # lexical scaled: a 1, b 0.5, c 0; semantic scaled: c 1, a 0.5, d 0
    # a: 0.5 + 0.25, c: 0 + 0.5, b: 0.25, d: 0
    assert ids == ["a", "c", "b", "d"]
    assert scores == pytest.approx([0.75, 0.5, 0.25, 0.0])


def test_min_max_weights_can_reorder():
    ids, scores = min_max_fusion([LEXICAL, SEMANTIC], [0.2, 0.8])
    # a: 0.2 + 0.4, c: 0 + 0.8, b: 0.1, d: 0
    assert ids == ["c", "a", "b", "d"]
    assert scores == pytest.approx([0.8, 0.6, 0.1, 0.0])


def test_min_max_missing_ids_score_zero_in_that_ranking():
    ids, scores = min_max_fusion([(["a", "b"], [4.0, 2.0]), (["c", "b"], [9.0, 1.0])], [1.0, 1.0])
    # a: 1 + nothing, b: 0 + 0, c: nothing + 1; a and c tie at position 0 -> id order
    assert ids == ["a", "c", "b"]
    assert scores == [1.0, 1.0, 0.0]


def test_min_max_handles_negative_scores():
    ids, scores = min_max_fusion([(["a", "b", "c"], [-1.0, -2.0, -5.0])], [1.0])
    assert ids == ["a", "b", "c"]
    assert scores == pytest.approx([1.0, 0.75, 0.0])


def test_min_max_all_equal_scores_count_as_found():
    ids, scores = min_max_fusion([(["a", "b"], [3.0, 3.0]), (["b", "c"], [0.8, 0.2])], [0.5, 0.5])
    # first ranking: a 1, b 1; second: b 1, c 0
    assert ids == ["b", "a", "c"]
    assert scores == pytest.approx([1.0, 0.5, 0.0])
    assert min_max_fusion([(["only"], [0.1])], [0.7]) == (["only"], [0.7])


def test_zero_weight_keeps_the_ids_but_not_their_scores():
    ids, scores = min_max_fusion([LEXICAL, SEMANTIC], [1.0, 0.0])
    assert ids == ["a", "b", "c", "d"]
    assert scores == pytest.approx([1.0, 0.5, 0.0, 0.0])


def test_the_order_of_equally_weighted_rankings_does_not_matter():
    one = (["q", "b", "x"], [3.0, 2.0, 1.0])
    other = (["p", "x", "b"], [0.5, 0.4, 0.1])
    for fuse in (reciprocal_rank_fusion, lambda r: min_max_fusion(r, [1.0, 1.0])):
        assert fuse([one, other]) == fuse([other, one])
    ids, scores = min_max_fusion([one, other], [1.0, 1.0])
    # q: 1, b: 0.5 + 0, x: 0 + 0.75, p: 1 -> p and q tie at position 0 -> id order
    assert ids == ["p", "q", "x", "b"]
    assert scores == pytest.approx([1.0, 1.0, 0.75, 0.5])


@pytest.mark.parametrize(
    ("ranking", "message"),
    [
        ((["a", "b"], [1.0]), "a ranking has 2 ids but 1 scores"),
        ((["a", "b"], [1.0, 2.0]), "a ranking is not best first: its scores must never increase"),
        ((["a", "a"], [2.0, 1.0]), "a ranking lists an id more than once"),
        ((["a"], [math.nan]), "a ranking's score at position 0 is nan"),
        ((["a"], [math.inf]), "a ranking's score at position 0 is inf"),
    ],
)
def test_malformed_rankings_are_programming_errors(ranking, message):
    with pytest.raises(ValueError, match=f"^{message}$"):
        reciprocal_rank_fusion([ranking])
    with pytest.raises(ValueError, match=f"^{message}$"):
        min_max_fusion([ranking], [1.0])


def test_bad_weights_and_k():
    with pytest.raises(ValueError, match="2 rankings but 1 weights"):
        min_max_fusion([LEXICAL, SEMANTIC], [1.0])
    with pytest.raises(ValueError, match="not negative"):
        reciprocal_rank_fusion([LEXICAL], weights=[-1.0])
    with pytest.raises(ValueError, match="k must not be negative"):
        reciprocal_rank_fusion([LEXICAL], k=-1)


def test_the_order_is_by_score_then_best_position_then_id_with_many_ties():
    # Scores from a few values, so that many ids tie: the sort by score, then by tie-break only
    # within runs of equal scores, must give the order of the one key it stands for.
    generator = random.Random(4)
    for _ in range(200):
        rankings = []
        for _ranker in range(generator.randint(1, 3)):
            ids = generator.sample(range(60), generator.randint(0, 40))
            scores = sorted((generator.choice([0.5, 1.0, 2.0, 3.0]) for _ in ids), reverse=True)
            rankings.append((ids, scores))
        weights = [generator.choice([0.0, 0.4, 0.6, 1.0]) for _ in rankings]
        for ids, scores in (
            min_max_fusion(rankings, weights),
            reciprocal_rank_fusion(rankings, weights=weights),
        ):
            best = {id_: min(r[0].index(id_) for r in rankings if id_ in r[0]) for id_ in ids}
            assert ids == sorted(ids, key=lambda i: (-scores[ids.index(i)], best[i], i))
            assert sorted(ids) == sorted({id_ for r in rankings for id_ in r[0]})
