"""services/recommend_cache.py: values kept by key, evicted least recently used first once their
candidate rows pass the budget; a value over half the budget is made but not kept."""

from __future__ import annotations

import numpy as np

from paperboy.domain.recommend import Candidates
from paperboy.domain.term_vectors import term_matrix
from paperboy.services.recommend_cache import RowBudgetCache


def _candidates(rows: int) -> Candidates:
    return Candidates(
        ids=np.arange(rows, dtype=np.int64),
        arxiv_ids=[""] * rows,
        titles=[""] * rows,
        authors=[()] * rows,
        categories=[()] * rows,
        terms=term_matrix([""] * rows),
        vectors=np.zeros((rows, 0), dtype=np.float32),
    )


def test_made_once_then_kept_and_the_least_recently_used_go_first():
    cache: RowBudgetCache[Candidates] = RowBudgetCache(max_rows=10)
    made: list[str] = []

    def make(key: str, rows: int):
        def build() -> Candidates:
            made.append(key)
            return _candidates(rows)

        return cache.get_or_make(key, build)

    first = make("a", 4)
    assert make("a", 4) is first
    make("b", 4)
    make("a", 4)  # a is now the most recently used
    make("c", 4)  # 12 rows: b goes
    assert made == ["a", "b", "c"]
    make("a", 4)
    make("b", 4)
    assert made == ["a", "b", "c", "b"]
    make("big", 6)  # over half the budget: made, never kept
    make("big", 6)
    assert made.count("big") == 2
    assert len(cache) <= 3
