"""Nearest papers by meaning asked of PostgreSQL itself (pgvector's HNSW index, storage/pgvector.py):
the same questions as services/vector_index.py's `VectorIndex`, with nothing held per process.
A vector stored by any host's process is in the next query of every other; there is nothing to
load at start, to refresh, or to build per host.
"""

from __future__ import annotations

import time
from collections.abc import Collection
from contextlib import nullcontext

import numpy as np
import numpy.typing as npt
from sqlalchemy import Connection, Engine

from paperboy.services.vector_snapshot import as_ids, unit_query
from paperboy.storage.pgvector import (
    embedding_ids,
    model_dimensions,
    search_nearest,
    search_neighbours,
    search_within,
)
from paperboy.storage.vectors import count_embeddings, load_vectors_of, vectors_generation

Ranking = tuple[list[int], list[float]]
COUNT_KEPT_S = 60.0


class PgVectorIndex:
    """`model`'s vectors searched in the database. Thread-safe: every call uses its own
    connection. `len` counts at most every COUNT_KEPT_S (a million rows take ~0.1 s to count;
    searches ask it only whether there are any), and at every call while there are none, so that
    the first vector stored is seen at once."""

    def __init__(self, engine: Engine, model: str) -> None:
        self.engine = engine
        self.model = model
        self._count: tuple[float, int] | None = None  # (when counted, how many)
        self._dimensions: int | None = None

    def nearest(
        self,
        query: npt.NDArray[np.floating],
        k: int,
        *,
        exclude: Collection[int] = (),
        within: Collection[int] | None = None,
        conn: Connection | None = None,
    ) -> Ranking:
        """As `VectorIndex.nearest`: the `k` nearest by cosine, only among `within` when given,
        never `exclude`; ties to the smaller id. Asked on `conn` when given: a request that holds
        a connection must not wait for a second one from the same pool (with as many requests
        in flight as the pool has connections, each would wait for the others': bench/README.md,
        `scale --scale-stack`)."""
        if k <= 0 or (within is not None and len(within) == 0):
            return [], []
        dimensions = self._dimensions_of()
        if dimensions is None:
            return [], []
        unit = unit_query(query, dimensions)
        skip = [int(i) for i in as_ids(exclude)]
        # search_nearest sets ef_search, kept on the connection once its transaction commits
        with nullcontext(conn) if conn is not None else self.engine.begin() as asking:
            if within is None:
                found = search_nearest(asking, self.model, unit, k, skip)
            else:
                found = search_within(asking, self.model, unit, k, [int(i) for i in as_ids(within)], skip)
        return _ranking(found)

    def neighbours_of(self, paper_id: int, k: int) -> Ranking | None:
        """The `k` papers nearest to the paper's stored vector, never itself; None when it has none."""
        dimensions = self._dimensions_of()
        if dimensions is None or k <= 0:
            return None if dimensions is None else ([], [])
        with self.engine.begin() as conn:
            found = search_neighbours(conn, self.model, paper_id, dimensions, k)
        return None if found is None else _ranking(found)

    def kept_neighbours(self, paper_id: int, k: int) -> Ranking | None:
        """Nothing is kept per process: a paper's stored list (storage/neighbours.py) is read
        again, one indexed statement, like every other answer of this index."""
        return None

    def keep_neighbours(self, paper_id: int, k: int, answer: Ranking) -> None:
        """Kept nowhere (see `kept_neighbours`)."""

    def vector_of(self, paper_id: int) -> npt.NDArray[np.float32] | None:
        ids, rows = self.vectors_of([paper_id])
        return rows[0].copy() if len(ids) else None

    def vectors_of(self, paper_ids: Collection[int]) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.float32]]:
        """The stored unit vectors of those of `paper_ids` that have one: (ids ascending, rows)."""
        wanted = [int(i) for i in as_ids(paper_ids)]
        with self.engine.connect() as conn:
            stored = load_vectors_of(conn, self.model, wanted)
        return stored.ids, stored.matrix

    def sample_ids(self, count: int, seed: int) -> npt.NDArray[np.int64]:
        """The paper ids `sample_vectors(count, seed)` draws, in their drawn order."""
        with self.engine.connect() as conn:
            every = embedding_ids(conn, self.model)
        if len(every) == 0:
            return np.zeros(0, dtype=np.int64)
        picked = np.random.default_rng(seed).choice(every, size=min(count, len(every)), replace=False)
        return np.asarray(picked, dtype=np.int64)

    def sample_vectors(self, count: int, seed: int) -> npt.NDArray[np.float32]:
        """Up to `count` stored vectors drawn at random (by `seed`), as `VectorIndex` draws them."""
        picked = self.sample_ids(count, seed)
        if len(picked) == 0:
            return np.zeros((0, 0), dtype=np.float32)
        return self.vectors_of(picked)[1]

    def generation(self) -> int:
        """The vector store's generation now: results computed from it are kept under it."""
        with self.engine.connect() as conn:
            return vectors_generation(conn)

    def __len__(self) -> int:
        now = time.monotonic()
        counted = self._count
        if counted is not None and counted[1] > 0:
            if now - counted[0] < COUNT_KEPT_S:
                return counted[1]
            # One caller counts again; the others keep the last count meanwhile, rather than each
            # asking the pool for a second connection while its request holds one.
            self._count = (now, counted[1])
        with self.engine.connect() as conn:
            count = count_embeddings(conn, self.model)
        self._count = (now, count)
        return count

    def loaded_size(self) -> int | None:
        """How many vectors there are (nothing is loaded: the database answers)."""
        return len(self)

    @property
    def approximate(self) -> bool:
        return True

    def refresh(self) -> bool:
        """Nothing to reload: every query reads the database."""
        return False

    def close(self, timeout: float = 0.0) -> None:
        """Nothing runs in the background."""

    def _dimensions_of(self) -> int | None:
        if self._dimensions is None:
            with self.engine.connect() as conn:
                self._dimensions = model_dimensions(conn, self.model)
        return self._dimensions


def _ranking(found: list[tuple[int, float]]) -> Ranking:
    """Best first; ties to the smaller id (domain.vectors.nearest's rule)."""
    found.sort(key=lambda pair: (-pair[1], pair[0]))
    return [paper for paper, _ in found], [score for _, score in found]
