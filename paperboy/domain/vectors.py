"""Exact nearest neighbours by cosine over L2-normalised rows. Pure numpy, no I/O.

One matrix-vector product and a partial sort: a few ms for 75k rows of 384 on 2 cores (docs/search.md),
so an approximate index is needed only well past 200k papers. Like every ranker, it returns
`(ids, scores)`, best first.
"""

from __future__ import annotations

from collections.abc import Collection

import numpy as np
import numpy.typing as npt

Matrix = npt.NDArray[np.float32]
Ids = npt.NDArray[np.int64]


def nearest(
    matrix: Matrix,
    ids: Ids,
    query: npt.NDArray[np.floating],
    k: int,
    exclude: Collection[int] | None = None,
) -> tuple[list[int], list[float]]:
    """The `k` ids whose rows have the largest dot product with `query` (the cosine, for unit
    rows), best first, skipping `exclude` (say, the paper whose neighbours are asked for).
    Ties go to the smaller id, so the same inputs always give the same order."""
    if matrix.ndim != 2 or len(ids) != matrix.shape[0]:
        raise ValueError(f"matrix {matrix.shape} and {len(ids)} ids do not match")
    if query.shape != (matrix.shape[1],):
        raise ValueError(f"query of shape {query.shape} for rows of {matrix.shape[1]}")
    if k <= 0 or len(ids) == 0:
        return [], []
    scores = matrix @ query.astype(matrix.dtype, copy=False)
    if exclude:
        scores = np.where(np.isin(ids, np.fromiter(exclude, dtype=np.int64)), -np.inf, scores)
    wanted = min(k, len(ids))
    # Every row scoring at least the k-th best score: ties at the boundary are all kept, then
    # ordered, so the smaller id wins whatever order the partition left them in.
    threshold = np.partition(scores, len(ids) - wanted)[len(ids) - wanted]
    top = np.flatnonzero(scores >= threshold)
    top = top[np.lexsort((ids[top], -scores[top]))]
    top = top[np.isfinite(scores[top])][:k]
    return [int(i) for i in ids[top]], [float(s) for s in scores[top]]
