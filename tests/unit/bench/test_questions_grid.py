"""bench/questions_grid.py's choice: a change must win on the tuning half by the margin."""

import numpy as np

from bench import questions_grid as grid
from bench.lexical_engines.queries import TEST, TUNING

CANDIDATES = [(v, f) for v in grid.variants() for f in grid.fusions()]
ASKED = [
    grid.Asked(kind, half, f"{kind} {half} {n}", f"2401.{n:05d}", words=4 if kind == "keywords" else 20)
    for kind in grid.KINDS
    for half in (TUNING, TEST)
    for n in range(10)
]


def _collected(ranks: np.ndarray) -> grid.Collected:
    product = ranks[:, CANDIDATES.index(grid.BEFORE_CANDIDATE)]
    return grid.Collected(
        CANDIDATES, ranks, np.array([a.words for a in ASKED]), product, grid.BEFORE_CANDIDATE
    )


def test_a_tie_keeps_the_defaults_before(capsys):
    results = grid.report(
        ASKED, _collected(np.ones((len(ASKED), len(CANDIDATES)), np.int16)), [1] * len(ASKED)
    )
    assert not results["adopted"]
    assert results["chosen"] == grid._name(grid.BEFORE_CANDIDATE)
    assert "same rank as offline for 60 of 60" in capsys.readouterr().out


def test_a_candidate_better_on_every_tuning_question_is_adopted():
    ranks = np.full((len(ASKED), len(CANDIDATES)), 2, np.int16)
    better = CANDIDATES.index(((0.0, 1.0, "all, then any"), ("min_max", 0.7)))
    ranks[:, better] = 1
    results = grid.report(ASKED, _collected(ranks), [1] * len(ASKED))
    assert results["adopted"]
    assert results["chosen"] == grid._name(CANDIDATES[better])


def test_a_candidate_that_loses_the_known_items_is_not_adopted():
    ranks = np.full((len(ASKED), len(CANDIDATES)), 2, np.int16)
    better = CANDIDATES.index(((0.0, 1.0, "all, then any"), ("min_max", 0.7)))
    ranks[:, better] = [1 if a.kind == "questions" else 0 for a in ASKED]
    assert not grid.report(ASKED, _collected(ranks), [1] * len(ASKED))["adopted"]
