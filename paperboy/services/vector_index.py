"""Nearest papers by meaning: one model's vectors held in memory, kept current without a reload
per query.

`VectorIndex` loads the model's vectors from the vector store on first use and answers
`nearest` by exact cosine. Other processes (sync, `paperboy index`) write embeddings too: every
store and delete bumps a generation number in the same transaction (storage/vectors.py), which
the index reads at most every `refresh_seconds`; when it changed, a background thread loads the
vectors again while queries keep being answered from the previous ones, then swaps them in one
assignment. Safe to share between the threads of a web process.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Collection
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from sqlalchemy import Engine

from paperboy.storage.vectors import load_vectors, vectors_generation

log = logging.getLogger(__name__)

Matrix = npt.NDArray[np.float32]
Ids = npt.NDArray[np.int64]
# With fewer allowed rows than this share of all rows, `within` scores only those rows
# (gathering them costs a copy); with more, every row is scored and the others masked.
GATHER_BELOW = 0.125


@dataclass(frozen=True, slots=True)
class _Snapshot:
    """The vectors as of one generation: unit float32 rows, ids ascending."""

    generation: int
    matrix: Matrix
    ids: Ids

    def rows_of(self, paper_ids: Collection[int]) -> npt.NDArray[np.intp]:
        """Row numbers of those of `paper_ids` that have a vector, ascending."""
        wanted = np.unique(np.fromiter(paper_ids, dtype=np.int64, count=len(paper_ids)))
        rows = np.searchsorted(self.ids, wanted)
        found = rows < len(self.ids)
        found[found] = self.ids[rows[found]] == wanted[found]
        return rows[found]


class VectorIndex:
    """Exact cosine nearest neighbours over `model`'s stored vectors."""

    def __init__(self, engine: Engine, model: str, *, refresh_seconds: float = 2.0) -> None:
        self.engine = engine
        self.model = model
        self.refresh_seconds = refresh_seconds
        self._snapshot: _Snapshot | None = None
        self._loading = threading.Lock()  # one load at a time; queries never take it once loaded
        self._next_check = 0.0
        self._refresher: threading.Thread | None = None

    def nearest(
        self,
        query: npt.NDArray[np.floating],
        k: int,
        *,
        exclude: Collection[int] = (),
        within: Collection[int] | None = None,
    ) -> tuple[list[int], list[float]]:
        """The `k` papers whose vectors have the largest cosine with `query`, best first, with
        those cosines; only papers in `within` when given, never those in `exclude`. Ties go to
        the smaller id."""
        snapshot = self._current()
        if k <= 0 or len(snapshot.ids) == 0 or (within is not None and not within):
            return [], []
        unit = _unit_query(query, snapshot.matrix.shape[1])
        rows = None if within is None else snapshot.rows_of(within)
        scores, ids = _scores(snapshot, unit, rows)
        if exclude:
            scores[np.isin(ids, np.fromiter(exclude, dtype=np.int64, count=len(exclude)))] = -np.inf
        return best_of(scores, ids, k)

    def vector_of(self, paper_id: int) -> npt.NDArray[np.float32] | None:
        """The paper's stored vector (unit length, float32; a copy), or None when it has none."""
        snapshot = self._current()
        row = int(np.searchsorted(snapshot.ids, paper_id))
        if row == len(snapshot.ids) or snapshot.ids[row] != paper_id:
            return None
        vector: npt.NDArray[np.float32] = snapshot.matrix[row].copy()
        return vector

    def __len__(self) -> int:
        return len(self._current().ids)

    def refresh(self) -> bool:
        """Load the vectors again now if they changed since the last load (waiting for a load
        in progress first); True when they were loaded."""
        with self._loading:
            return self._refresh_locked()

    def close(self) -> None:
        """Wait for a background refresh in progress, so the engine can be disposed after."""
        refresher = self._refresher
        if refresher is not None:
            refresher.join()

    def _current(self) -> _Snapshot:
        snapshot = self._snapshot
        if snapshot is None:
            with self._loading:
                if self._snapshot is None:
                    self._refresh_locked()
            assert self._snapshot is not None
            return self._snapshot
        if time.monotonic() >= self._next_check:
            self._refresh_in_background()
        return snapshot

    def _refresh_in_background(self) -> None:
        if not self._loading.acquire(blocking=False):
            return  # another thread is checking or loading
        try:
            self._next_check = time.monotonic() + self.refresh_seconds
            self._refresher = threading.Thread(
                target=self._background_refresh, name=f"vector-index-{self.model}", daemon=True
            )
            self._refresher.start()
        except BaseException:
            self._loading.release()
            raise

    def _background_refresh(self) -> None:
        try:
            self._refresh_locked()
        except Exception:  # the previous vectors keep answering; the next check tries again
            log.exception("reloading the %s vectors failed", self.model)
        finally:
            self._loading.release()

    def _refresh_locked(self) -> bool:
        """With `_loading` held: load the vectors if their generation is not the one held."""
        self._next_check = time.monotonic() + self.refresh_seconds
        # The generation is read before the vectors: a write committed in between makes the
        # next check load again, never miss a change.
        with self.engine.connect() as conn:
            generation = vectors_generation(conn)
            if self._snapshot is not None and self._snapshot.generation == generation:
                return False
            matrix, ids = load_vectors(conn, self.model)
        self._snapshot = _Snapshot(generation, matrix, ids)
        self._next_check = time.monotonic() + self.refresh_seconds
        return True


def _unit_query(query: npt.NDArray[np.floating], dimensions: int) -> npt.NDArray[np.float32]:
    if query.shape != (dimensions,):
        raise ValueError(f"query of shape {query.shape} for vectors of {dimensions} dimensions")
    unit = query.astype(np.float32)
    norm = float(np.linalg.norm(unit))
    return unit / norm if norm > 0 else unit


def _scores(
    snapshot: _Snapshot, query: npt.NDArray[np.float32], rows: npt.NDArray[np.intp] | None
) -> tuple[npt.NDArray[np.float32], Ids]:
    """Cosines of the query with every row, or with `rows` only (the others left out)."""
    if rows is None:
        return snapshot.matrix @ query, snapshot.ids
    if len(rows) < GATHER_BELOW * len(snapshot.ids):
        return snapshot.matrix[rows] @ query, snapshot.ids[rows]
    scores = snapshot.matrix @ query
    allowed = np.zeros(len(scores), dtype=bool)
    allowed[rows] = True
    scores[~allowed] = -np.inf
    return scores, snapshot.ids


def best_of(scores: npt.NDArray[np.float32], ids: Ids, k: int) -> tuple[list[int], list[float]]:
    """The `k` best finite scores and their ids, best first; ties go to the smaller id (the rule
    of domain.vectors.nearest)."""
    count = len(ids)
    wanted = min(k, count)
    if wanted <= 0:
        return [], []
    threshold = np.partition(scores, count - wanted)[count - wanted]
    top = np.flatnonzero(scores >= threshold)
    top = top[np.lexsort((ids[top], -scores[top]))]
    top = top[np.isfinite(scores[top])][:k]
    return [int(i) for i in ids[top]], [float(s) for s in scores[top]]
