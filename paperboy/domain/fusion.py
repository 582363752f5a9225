"""Rank fusion: one ranking out of several rankers' `(ids, scores)`. Pure code, no I/O.

Every input ranking is best first, each id once, with higher scores better (negate SQLite's
bm25(), whose best score is the most negative, and distances); a ranking that breaks this is a
programming error and raises ValueError. Both fusions return every id found by any
ranker, best first, with its fused score. Ties go to the id with the best rank in any input,
then to the smaller id, so the same inputs always give the same order.
docs/search.md describes both; issue 4's benchmark chooses between them.
"""

from __future__ import annotations

import math
import operator
from collections.abc import Callable, Sequence
from itertools import compress, count, islice
from typing import TypeVar

Id = TypeVar("Id", int, str)
Ranking = tuple[Sequence[Id], Sequence[float]]

RRF_K = 60  # Cormack, Clarke & Büttcher (2009): a constant that works across collections


def reciprocal_rank_fusion(
    rankings: Sequence[Ranking[Id]], k: float = RRF_K, weights: Sequence[float] | None = None
) -> tuple[list[Id], list[float]]:
    """score(id) = Σ weight_i / (k + rank_i(id)), rank counted from 1; a ranking without the id
    adds nothing. Only positions count: the input scores are checked but not used."""
    if k < 0:
        raise ValueError(f"k must not be negative, not {k}")
    weights = _weights(rankings, weights)
    fused: dict[Id, float] = {}
    for (ids, scores), weight in zip(rankings, weights, strict=True):
        for position, id_ in enumerate(_checked(ids, scores)):
            fused[id_] = fused.get(id_, 0.0) + weight / (k + position + 1)
    return _ordered(fused, rankings)


def min_max_fusion(rankings: Sequence[Ranking[Id]], weights: Sequence[float]) -> tuple[list[Id], list[float]]:
    """score(id) = Σ weight_i * (s_i(id) - min_i) / (max_i - min_i): each ranking's scores scaled
    to [0, 1] and summed; a ranking without the id adds 0. When a ranking's scores are all equal
    (one result, say) each of its ids gets 1: being found is all that ranking says."""
    weights = _weights(rankings, weights)
    fused: dict[Id, float] = {}
    for (ids, scores), weight in zip(rankings, weights, strict=True):
        get = fused.get
        fused.update({id_: get(id_, 0.0) + weight * scaled for id_, scaled in _min_max(ids, scores).items()})
    return _ordered(fused, rankings)


def _min_max(ids: Sequence[Id], scores: Sequence[float]) -> dict[Id, float]:
    scored = _checked(ids, scores)
    if not scored:
        return {}
    low, high = scores[-1], scores[0]  # best first, so the ends are the extremes
    if high == low:
        return dict.fromkeys(scored, 1.0)
    return {id_: (score - low) / (high - low) for id_, score in scored.items()}


def _checked(ids: Sequence[Id], scores: Sequence[float]) -> dict[Id, float]:
    """Each id with its score, in ranking order, after checking the ranking's shape."""
    if len(ids) != len(scores):
        raise ValueError(f"a ranking has {len(ids)} ids but {len(scores)} scores")
    # A search fuses about 1,200 scores: checked in C first, position by position only to say
    # what is wrong.
    if not (all(map(math.isfinite, scores)) and all(map(operator.ge, scores, islice(scores, 1, None)))):
        for position, score in enumerate(scores):
            if not math.isfinite(score):
                raise ValueError(f"a ranking's score at position {position} is {score}")
            if position and score > scores[position - 1]:
                raise ValueError("a ranking is not best first: its scores must never increase")
    scored = dict(zip(ids, scores, strict=True))
    if len(scored) != len(ids):
        raise ValueError("a ranking lists an id more than once")
    return scored


def _weights(rankings: Sequence[Ranking[Id]], weights: Sequence[float] | None) -> list[float]:
    if weights is None:
        return [1.0] * len(rankings)
    if len(weights) != len(rankings):
        raise ValueError(f"{len(rankings)} rankings but {len(weights)} weights")
    if any(not math.isfinite(w) or w < 0 for w in weights):
        raise ValueError(f"weights must be finite and not negative, not {list(weights)}")
    return list(weights)


def _ordered(fused: dict[Id, float], rankings: Sequence[Ranking[Id]]) -> tuple[list[Id], list[float]]:
    """Best fused score first; ties to the best position in any input, then the smaller id.
    Sorted by score alone (stable, in C), then each run of equal scores by the tie-break: the
    positions are looked up only for tied ids, rare beyond a ranking's equal scores."""
    order = sorted(fused, key=fused.__getitem__, reverse=True)
    ordered = [fused[id_] for id_ in order]
    tied = list(compress(count(1), map(operator.eq, ordered, islice(ordered, 1, None))))
    runs: list[tuple[int, int]] = []  # [start, end) of each run of equal scores
    for position in tied:
        if runs and runs[-1][1] == position:
            runs[-1] = (runs[-1][0], position + 1)
        else:
            runs.append((position - 1, position + 1))
    if runs:
        key = _tie_break(rankings, {id_ for start, end in runs for id_ in order[start:end]})
        for start, end in runs:
            order[start:end] = sorted(order[start:end], key=key)
    return order, ordered


def _tie_break(rankings: Sequence[Ranking[Id]], tied: set[Id]) -> Callable[[Id], tuple[int, Id]]:
    """The key of ids with equal fused scores: their best position in any input, then the id."""
    best_position: dict[Id, int] = {}
    for ids, _ in rankings:
        for position, id_ in enumerate(ids):
            if id_ in tied and position < best_position.get(id_, position + 1):
                best_position[id_] = position
    return lambda id_: (best_position[id_], id_)
