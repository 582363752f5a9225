"""bench/fusion_ranks.py places a target where `domain.fusion` itself does, ties included."""

import random

import pytest

from bench import fusion_ranks
from paperboy.domain.fusion import min_max_fusion, reciprocal_rank_fusion


def _ranking(rng: random.Random, pool: int, size: int, levels: int) -> tuple[list[int], list[float]]:
    """A best-first ranking whose scores take few distinct values, so that ties are common."""
    ids = rng.sample(range(pool), size)
    scores = sorted((rng.randrange(levels) / levels for _ in ids), reverse=True)
    return ids, scores


def _rank(ids: list[int], target: int) -> int | None:
    return ids.index(target) + 1 if target in ids else None


@pytest.mark.parametrize("seed", range(40))
def test_the_mirror_ranks_the_target_as_domain_fusion_does(seed):
    rng = random.Random(seed)
    lexical = _ranking(rng, 60, rng.randrange(0, 40), 6)
    semantic = _ranking(rng, 60, rng.randrange(0, 40), 6)
    weights = [(0.6, 0.4), (0.5, 0.5), (1.0, 0.0), (0.35, 0.65)]
    settings = [(60.0, 0.6, 0.4), (10.0, 0.5, 0.5), (1.0, 0.7, 0.3)]
    for target in rng.sample(range(60), 10):
        found = fusion_ranks.pair(lexical, semantic, target)
        expected = [_rank(min_max_fusion([lexical, semantic], list(w))[0], target) for w in weights]
        assert fusion_ranks.min_max_ranks(found, weights) == expected
        expected = [
            _rank(reciprocal_rank_fusion([lexical, semantic], k=k, weights=[wl, ws])[0], target)
            for k, wl, ws in settings
        ]
        assert fusion_ranks.rrf_ranks(found, settings) == expected


def test_a_ranking_with_equal_scores_counts_as_found():
    found = fusion_ranks.pair(([3, 1], [2.0, 2.0]), ([1], [0.9]), target=3)
    assert fusion_ranks.min_max_ranks(found, [(0.6, 0.4)]) == [2]
    # A tie at 1.0: both are first in some ranking, so the smaller id goes first.
    assert fusion_ranks.min_max_ranks(found, [(1.0, 0.0)]) == [2]


def test_a_target_in_neither_ranking_has_no_rank():
    found = fusion_ranks.pair(([1, 2], [2.0, 1.0]), ([], []), target=7)
    assert fusion_ranks.min_max_ranks(found, [(0.6, 0.4)]) == [None]
    assert fusion_ranks.rrf_ranks(found, [(60.0, 0.6, 0.4)]) == [None]
