"""Each paper's nearest neighbours, computed ahead and stored in the database
(storage/neighbours.py), so that a paper page's similar papers are ten ids read with one indexed
statement on any host or worker, instead of a vector search (12-17 ms of a core on a first
visit) per paper per process.

`paperboy index` computes every list after building the vector index, and embedding new papers
(services/search_index.embed_new_papers, what a sync and `serve` run) computes the lists that
are then missing or out of date: the new and changed papers' own, those naming a changed or
removed paper, and those of older papers a new paper now comes before. That last set is found
exactly, every list's last score against the new vectors (a new paper's 50 nearest missed some:
a paper 99th in the new one's ranking had it 8th in its own). A list the reader finds out of
date is not used (storage/neighbours.py) and the page searches the vectors as before.

The lists are exact up to EXACT_UP_TO vectors, whether or not an approximate index is built: every
vector read into memory (float32) and the lists computed by blocks of papers, one matrix product
a block (services/vector_snapshot.Exact.top_each, at most 64 MB of scores at a time), with the
rules of an exact search (the paper itself left out, ties to the smaller id). Measured on two
busy cores (bench/neighbour_lists.py): 3.9 ms a paper exactly against 8.9 ms through the graph
(usearch at expansion 800, recall@10 0.9995) on 74,728 papers, and 1.2 against 4.8 ms on
20,000. The product's cost a paper grows with the papers and the graph's about with their
logarithm, so the two meet near a quarter of a million papers; above the bound (set below that)
the lists are the approximate index's answers, as `VectorIndex.neighbours_of` gives them.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from sqlalchemy import Engine

from paperboy.services.vector_index import VectorIndex
from paperboy.services.vector_search import in_database
from paperboy.storage.neighbours import (
    NeighbourList,
    last_scores,
    papers_needing_neighbours,
    store_neighbour_lists,
)
from paperboy.storage.transactions import write_transaction
from paperboy.storage.vectors import load_vector_versions, vectors_generation

log = logging.getLogger(__name__)

NEIGHBOURS_KEPT = 10  # a paper page shows ten (web/similar.py's SIMILAR_LIMIT)
BLOCK = 4096  # lists and new vectors compared at a time (a 4096 x 4096 float32 block: 64 MB)
BATCH = 1000  # lists written per transaction
EXACT_UP_TO = 200_000  # vectors up to which the lists are computed exactly (see above)

Progress = Callable[[int, int], None]


@dataclass(frozen=True, slots=True)
class NeighboursReport:
    model: str
    computed: int  # lists written
    seconds: float

    def summary(self) -> str:
        return f"neighbours ({self.model}): {self.computed} papers' nearest stored in {self.seconds:.1f} s"


def stores_neighbours(engine: Engine, vector_search: str) -> bool:
    """Whether this site stores lists ahead: not where PostgreSQL searches the vectors itself
    (pgvector, `vector_search` auto), whose neighbours of a paper are one statement already and
    whose app processes hold no vectors (computing every list would load them all)."""
    return not (vector_search == "auto" and in_database(engine))


def update_paper_neighbours(
    engine: Engine,
    model: str,
    directory: Path | None,
    *,
    k: int = NEIGHBOURS_KEPT,
    progress: Progress | None = None,
    exact_up_to: int = EXACT_UP_TO,
) -> NeighboursReport:
    """Compute and store the `k` nearest of every paper whose list is missing or out of date:
    exactly up to `exact_up_to` vectors, above it from the approximate index in `directory`
    (when built) as `VectorIndex.neighbours_of` searches it."""
    started = time.perf_counter()
    # The versions are read before the vectors: a vector stored in between makes a list say an
    # older version than it was computed from, so the reader distrusts it, never the reverse.
    with engine.connect() as conn:
        generation = vectors_generation(conn)
        ids, versions = load_vector_versions(conn, model)
        todo = papers_needing_neighbours(conn, model)
    if not todo:
        return NeighboursReport(model, 0, time.perf_counter() - started)
    searched = None if len(ids) <= exact_up_to else directory  # None: every vector in memory
    index = VectorIndex(engine, model, directory=searched, refresh_seconds=float("inf"))
    try:
        index.refresh()
        version_of = dict(zip(ids.tolist(), versions.tolist(), strict=True))
        _compute(engine, index, model, generation, todo, version_of, k, progress)
        entered = _entered(engine, index, model, set(todo))
        _compute(engine, index, model, generation, entered, version_of, k, None)
    finally:
        index.close()
    return NeighboursReport(model, len(todo) + len(entered), time.perf_counter() - started)


def _compute(
    engine: Engine,
    index: VectorIndex,
    model: str,
    generation: int,
    paper_ids: Sequence[int],
    version_of: dict[int, int],
    k: int,
    progress: Progress | None,
) -> None:
    """Store the `k` nearest of each of `paper_ids`, BATCH lists per transaction."""
    for start in range(0, len(paper_ids), BATCH):
        batch = index.compute_neighbours(paper_ids[start : start + BATCH], k)
        lists = [
            NeighbourList(
                paper,
                version_of.get(paper, -1),
                near[:k],
                scores[:k],
                [version_of.get(n, -1) for n in near[:k]],
            )
            for paper, (near, scores) in batch.items()
        ]
        with write_transaction(engine) as conn:
            store_neighbour_lists(conn, model, generation, lists)
        if progress:
            progress(len(batch), len(paper_ids))


def _entered(engine: Engine, index: VectorIndex, model: str, done: set[int]) -> list[int]:
    """The other papers whose list a paper of `done` now belongs in: nearer to one of them than
    the list's last neighbour. Found exactly, every list against every paper of `done` (a paper
    far down a new paper's own ranking can still be high in the other's), BLOCK x BLOCK at a time."""
    with engine.connect() as conn:
        last = last_scores(conn, model)
    others = np.array(sorted(set(last) - done), dtype=np.int64)
    if not len(others):
        return []  # every list was just computed (the first build)
    fresh = np.array(sorted(done), dtype=np.int64)
    entered: list[int] = []
    for start in range(0, len(others), BLOCK):
        ids, rows = index.vectors_of(others[start : start + BLOCK])
        nearest = np.full(len(ids), -np.inf, dtype=np.float32)
        for at in range(0, len(fresh), BLOCK):
            _, new = index.vectors_of(fresh[at : at + BLOCK])
            if len(new):
                nearest = np.maximum(nearest, (rows @ new.T).max(axis=1))
        bounds = np.array([last[int(i)] for i in ids], dtype=np.float32)
        entered.extend(int(i) for i in ids[nearest > bounds])
    return entered
