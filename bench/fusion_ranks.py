"""Where one target lands under many fusions of the same two rankings, at once: a numpy mirror of
`paperboy.domain.fusion` (the same arithmetic, in the same order, and the same tie-break: the
best position in any input, then the smaller id), for the grid of bench/questions_tuning.py.
tests/unit/bench/test_fusion_ranks.py checks it against `domain.fusion` itself."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

Ranking = tuple[Sequence[int], Sequence[float]]  # ids best first, scores never increasing
ABSENT = np.iinfo(np.int64).max  # the position of an id a ranking lacks


@dataclass(frozen=True, slots=True)
class Pair:
    """Two rankings (lexical, semantic) over the union of their ids."""

    ids: np.ndarray  # the union, sorted
    positions: tuple[np.ndarray, np.ndarray]  # 0-based position in each ranking, ABSENT if not in it
    scaled: tuple[np.ndarray, np.ndarray]  # min-max scaled score in each ranking, 0 if not in it
    best: np.ndarray  # the best position in either
    target: int | None  # the target's index in `ids`, None when neither ranking has it


def pair(lexical: Ranking, semantic: Ranking, target: int) -> Pair:
    lex_ids, sem_ids = np.asarray(lexical[0], np.int64), np.asarray(semantic[0], np.int64)
    ids, inverse = np.unique(np.concatenate([lex_ids, sem_ids]), return_inverse=True)
    positions, scaled = [], []
    for (_, scores), where in ((lexical, inverse[: len(lex_ids)]), (semantic, inverse[len(lex_ids) :])):
        position = np.full(len(ids), ABSENT, np.int64)
        position[where] = np.arange(len(where))
        value = np.zeros(len(ids))
        value[where] = _min_max(np.asarray(scores, np.float64))
        positions.append(position)
        scaled.append(value)
    index = int(np.searchsorted(ids, target))
    present = index < len(ids) and ids[index] == target
    best = np.minimum(positions[0], positions[1])
    return Pair(ids, (positions[0], positions[1]), (scaled[0], scaled[1]), best, index if present else None)


def _min_max(scores: np.ndarray) -> np.ndarray:
    """domain.fusion._min_max: (s - last) / (first - last); all 1.0 when they are equal."""
    if not len(scores):
        return scores
    low, high = scores[-1], scores[0]
    if high == low:
        return np.ones(len(scores))
    return (scores - low) / (high - low)


def min_max_ranks(found: Pair, weights: Sequence[tuple[float, float]]) -> list[int | None]:
    """The target's 1-based rank (None: in neither ranking) under min_max_fusion with each
    (lexical weight, semantic weight)."""
    lex, sem = (np.asarray([w[i] for w in weights], np.float64)[:, None] for i in (0, 1))
    fused = (0.0 + lex * found.scaled[0]) + sem * found.scaled[1]
    return _ranks(found, fused)


def rrf_ranks(found: Pair, settings: Sequence[tuple[float, float, float]]) -> list[int | None]:
    """The same under reciprocal_rank_fusion with each (k, lexical weight, semantic weight)."""
    k, lex, sem = (np.asarray([s[i] for s in settings], np.float64)[:, None] for i in (0, 1, 2))
    fused = (0.0 + _reciprocal(lex, k, found.positions[0])) + _reciprocal(sem, k, found.positions[1])
    return _ranks(found, fused)


def _reciprocal(weight: np.ndarray, k: np.ndarray, position: np.ndarray) -> np.ndarray:
    present = position != ABSENT
    rank = np.where(present, position, 0).astype(np.float64) + 1
    return np.where(present, weight / (k + rank), 0.0)


def _ranks(found: Pair, fused: np.ndarray) -> list[int | None]:
    t = found.target
    if t is None:
        return [None] * len(fused)
    own = fused[:, t : t + 1]
    earlier = (found.best < found.best[t]) | ((found.best == found.best[t]) & (found.ids < found.ids[t]))
    ahead = (fused > own) | ((fused == own) & earlier[None, :])
    return [int(n) + 1 for n in ahead.sum(axis=1)]


def single_rank(ranking: Ranking, target: int) -> int | None:
    """The target's rank in one ranking taken alone (a mode with one ranker)."""
    ids = list(ranking[0])
    return ids.index(target) + 1 if target in ids else None
