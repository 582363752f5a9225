"""Nearest papers by meaning: one model's vectors held by each process, kept current without a
reload per query.

A `VectorIndex` answers from a *base* and a *delta*:

- the base is either every vector, loaded from the vector store into memory and searched exactly
  (up to a few hundred thousand papers), or the model's approximate (HNSW) index on disk, built
  by `paperboy index` (`update_ann_index`, above the `vector_ann_threshold` setting) and
  memory-mapped, so every web worker shares one copy (storage/ann_index.py);
- the delta holds, in memory, searched exactly, the vectors stored since the base was read:
  those of papers with larger ids than any in the base (new papers), and on the approximate
  index also the papers whose vector changed (a new version) or went since it was built; the
  base's copies of those are hidden.

Together they make one immutable snapshot, searched as services/vector_snapshot.py says.

Every store and delete of vectors bumps a generation number in its own transaction
(storage/vectors.py). A query finding that `refresh_seconds` have passed starts a background
check of it; when it changed, only the new papers' vectors are read (one range query by id),
while a full reconciliation (every vector again, or every id and version against the index on
disk) runs when the index on disk was rebuilt, and otherwise at most every `RECONCILE_SECONDS`
(longer when reconciling is slow), so that changed and deleted vectors are noticed too. Queries
keep being answered from the previous snapshot meanwhile; the new one replaces it in one
assignment. Safe to share between the threads of a process.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Collection, Iterator
from pathlib import Path

import numpy as np
import numpy.typing as npt
from sqlalchemy import Connection, Engine

from paperboy.services.loading import lower_this_thread
from paperboy.services.neighbour_cache import NeighbourCache, Neighbours
from paperboy.services.vector_snapshot import (
    EMPTY,
    NO_IDS,
    NOT_LOADED,
    Exact,
    Snapshot,
    as_ids,
    exact_of,
    unit_query,
)
from paperboy.storage.ann_index import (
    AnnFile,
    AnnPointer,
    AnnUnavailable,
    build_ann_file,
    open_ann_file,
    read_pointer,
    remove_builds,
)
from paperboy.storage.vectors import (
    StoredVectors,
    count_embeddings,
    load_vector_versions,
    load_vectors_after,
    load_vectors_of,
    vectors_generation,
)

log = logging.getLogger(__name__)

ANN_DIRECTORY = "vectors"  # under data_dir: the approximate indexes `paperboy index` builds
RECONCILE_SECONDS = 60.0  # at least this long between full reconciliations...
RECONCILE_SHARE = 0.05  # ...and long enough that they take at most this share of the time
REBUILD_SHARE = 0.10  # `update_ann_index` rebuilds when the count moved this much since the build
BUILD_BATCH = 50_000  # vectors read per query while building
CLOSE_WAIT_S = 0.5  # how long `close` waits for a refresh in progress


class VectorIndex:
    """Cosine nearest neighbours over `model`'s stored vectors: exact in memory, or approximate
    from the index `paperboy index` built in `directory` (None: always exact)."""

    def __init__(
        self,
        engine: Engine,
        model: str,
        *,
        refresh_seconds: float = 2.0,
        directory: Path | None = None,
    ) -> None:
        self.engine = engine
        self.model = model
        self.refresh_seconds = refresh_seconds
        self.directory = directory
        self._snapshot: Snapshot | None = None
        self._loading = threading.Lock()  # one load at a time; queries never wait once loaded
        self._next_check = 0.0
        self._reconcile_after = 0.0
        self._refresher: threading.Thread | None = None
        self._neighbours = NeighbourCache()

    def nearest(
        self,
        query: npt.NDArray[np.floating],
        k: int,
        *,
        exclude: Collection[int] = (),
        within: Collection[int] | None = None,
        conn: Connection | None = None,
    ) -> tuple[list[int], list[float]]:
        """The `k` papers whose vectors have the largest cosine with `query`, best first, with
        those cosines; only papers in `within` when given, never those in `exclude`. Ties go to
        the smaller id. The first call loads the vectors; calls from other threads during that
        load find none (len 0) rather than wait. `conn` is not needed (the vectors are here)."""
        return _nearest_in(self._current(), query, k, exclude, within)

    def neighbours_of(self, paper_id: int, k: int) -> Neighbours | None:
        """The `k` papers nearest to the paper's stored vector (never the paper itself), as
        `nearest` answers; None when it has no stored vector. Kept until the vectors change
        (services/neighbour_cache.py): a paper page's similar papers cost one search a paper."""
        snapshot = self._current()
        found = self._neighbours.get(snapshot, paper_id, k)
        if found is not None:
            return found
        vector = snapshot.vector_of(paper_id)
        if vector is None:
            return None
        found = _nearest_in(snapshot, vector, k, (paper_id,), None)
        if snapshot.size:  # not while the first load is still under way
            self._neighbours.put(snapshot, paper_id, k, found)
        return found

    def kept_neighbours(self, paper_id: int, k: int) -> Neighbours | None:
        """`neighbours_of`'s answer when this process keeps one for the vectors in memory now;
        never loads them."""
        snapshot = self._snapshot
        return None if snapshot is None else self._neighbours.get(snapshot, paper_id, k)

    def keep_neighbours(self, paper_id: int, k: int, answer: Neighbours) -> None:
        """Keep `answer` (a list stored ahead, found current) until the vectors in memory change."""
        snapshot = self._snapshot
        if snapshot is not None and snapshot.size:
            self._neighbours.get(snapshot, paper_id, k)  # moves the cache to this snapshot
            self._neighbours.put(snapshot, paper_id, k, answer)

    def compute_neighbours(self, paper_ids: Collection[int], k: int) -> dict[int, Neighbours]:
        """What `neighbours_of` answers now for each of `paper_ids` that has a stored vector,
        searched anew and kept nowhere (services/paper_neighbours.py stores them)."""
        snapshot = self._current()
        if k <= 0 or snapshot.size == 0:
            return {}
        own, vectors = [], []
        for paper_id in paper_ids:
            vector = snapshot.vector_of(paper_id)
            if vector is not None:
                own.append(paper_id)
                vectors.append(unit_query(vector, snapshot.dimensions))
        if not own:
            return {}
        answers = snapshot.nearest_each(np.vstack(vectors), k, np.asarray(own, dtype=np.int64))
        return {
            paper_id: ([int(i) for i in ids], [float(s) for s in scores])
            for paper_id, (ids, scores) in zip(own, answers, strict=True)
        }

    def vector_of(self, paper_id: int) -> npt.NDArray[np.float32] | None:
        """The paper's stored vector (unit length, float32; a copy), or None when it has none."""
        return self._current().vector_of(paper_id)

    def __len__(self) -> int:
        return self._current().size

    def vectors_of(self, paper_ids: Collection[int]) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.float32]]:
        """The stored unit vectors of those of `paper_ids` that have one: (ids ascending, rows)."""
        return self._current().vectors_of(as_ids(paper_ids))

    def sample_vectors(self, count: int, seed: int) -> npt.NDArray[np.float32]:
        """Up to `count` stored vectors drawn at random (by `seed`) from every paper's."""
        picked = self.sample_ids(count, seed)
        if len(picked) == 0:
            return np.zeros((0, 0), dtype=np.float32)
        return self._current().vectors_of(as_ids(picked))[1]

    def sample_ids(self, count: int, seed: int) -> npt.NDArray[np.int64]:
        """The paper ids `sample_vectors(count, seed)` draws, in their drawn order."""
        snapshot = self._current()
        # Every stored paper once, ascending (as pgvector's index draws): the same sample in
        # every process whatever its split between the file on disk and the newer vectors.
        base = np.setdiff1d(snapshot.base.ids, snapshot.hidden) if len(snapshot.hidden) else snapshot.base.ids
        every = np.union1d(base, snapshot.delta.ids)
        if len(every) == 0:
            return np.zeros(0, dtype=np.int64)
        picked = np.random.default_rng(seed).choice(every, size=min(count, len(every)), replace=False)
        return np.asarray(picked, dtype=np.int64)

    def generation(self) -> int:
        """The vectors' generation in memory now (-1 before the first load): what a result
        computed from them is kept under."""
        return self._current().generation

    def loaded_size(self) -> int | None:
        """How many vectors are in memory, or None before the first load, which this never
        starts (a health check must not). Once loaded, it checks for new vectors in the
        background as every use does."""
        return None if self._snapshot is None else len(self)

    @property
    def approximate(self) -> bool:
        """True when answering from an approximate index on disk."""
        return isinstance(self._current().base, AnnFile)

    def refresh(self) -> bool:
        """Reconcile with the vector store now if anything changed since the last load (after
        a load in progress); True when something was loaded."""
        with self._loading:
            return self._refresh_locked(reconcile=True)

    def close(self, timeout: float = CLOSE_WAIT_S) -> None:
        """Wait for a background refresh in progress, so the engine can be disposed after; at
        most `timeout` (a reconciliation reads every vector: one still running ends with the
        process, holding the one connection it checked out)."""
        refresher = self._refresher
        if refresher is not None:
            refresher.join(timeout)

    def _current(self) -> Snapshot:
        snapshot = self._snapshot
        if snapshot is None:
            # The first caller loads; callers meanwhile find no vectors rather than wait, since a
            # web worker's request threads would pile up here holding database connections that
            # the load itself needs.
            if not self._loading.acquire(blocking=False):
                return NOT_LOADED
            try:
                if self._snapshot is None:
                    self._refresh_locked(reconcile=False)
            finally:
                self._loading.release()
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
        lower_this_thread()  # a reload runs on what requests leave (services/loading.py)
        try:
            self._refresh_locked(reconcile=False)
        except Exception:  # the previous vectors keep answering; the next check tries again
            log.exception("reloading the %s vectors failed", self.model)
        finally:
            self._loading.release()

    def _refresh_locked(self, *, reconcile: bool) -> bool:
        """With `_loading` held: load what changed, if anything did; `reconcile` asks for every
        change now (not only new papers) rather than when RECONCILE_SECONDS are due."""
        self._next_check = time.monotonic() + self.refresh_seconds
        old = self._snapshot
        pointer = read_pointer(self.directory, self.model) if self.directory else None
        opening = old is None or _build_of(pointer) != _build_of(old)
        # The generation is read before the vectors: a write committed in between makes the
        # next check load again, never miss a change.
        with self.engine.connect() as conn:
            generation = vectors_generation(conn)
            if old is not None and not opening and generation == old.generation:
                return False
            started = time.monotonic()
            snapshot = self._opened(conn, generation, pointer) if opening or old is None else old
            if snapshot.generation != generation and (reconcile or not opening):
                if reconcile or started >= self._reconcile_after:
                    snapshot = self._reconciled(conn, generation, snapshot)
                    spent = time.monotonic() - started
                    self._reconcile_after = started + max(RECONCILE_SECONDS, spent / RECONCILE_SHARE)
                else:
                    snapshot = self._with_new_papers(conn, generation, snapshot)
            elif opening:  # an index on disk was just opened: reconcile at the next change
                on_disk = isinstance(snapshot.base, AnnFile)
                self._reconcile_after = 0.0 if on_disk else started + RECONCILE_SECONDS
            self._snapshot = snapshot
        self._next_check = time.monotonic() + self.refresh_seconds
        return True

    def _opened(self, conn: Connection, generation: int, pointer: AnnPointer | None) -> Snapshot:
        """Every vector in memory; or, quickly, the index on disk plus the papers newer than
        it, as of the generation it was built at (changes to older papers wait for a reconcile)."""
        ann = self._open_ann() if pointer is not None else None
        if ann is None:
            return Snapshot(generation, exact_of(load_vectors_after(conn, self.model, 0)), EMPTY, NO_IDS)
        opened = Snapshot(ann.pointer.generation, ann, EMPTY, NO_IDS)
        return self._with_new_papers(conn, ann.pointer.generation, opened)

    def _reconciled(self, conn: Connection, generation: int, old: Snapshot) -> Snapshot:
        """Every vector again: all of them into memory, or the differences from the index on
        disk (read as every id and version: seconds for a million)."""
        ann = old.base
        if not isinstance(ann, AnnFile):
            return Snapshot(generation, exact_of(load_vectors_after(conn, self.model, 0)), EMPTY, NO_IDS)
        ids, versions = load_vector_versions(conn, self.model)
        positions = np.minimum(np.searchsorted(ann.ids, ids), max(len(ann.ids) - 1, 0))
        unchanged = (ann.ids[positions] == ids) & (ann.versions[positions] == versions)
        # What the index has but the store no longer has at that version.
        hidden = np.setdiff1d(ann.ids, ids[unchanged], assume_unique=True)
        delta = exact_of(load_vectors_of(conn, self.model, ids[~unchanged].tolist()))
        if len(hidden) > len(ann.ids) // 2:
            log.warning("the %s index on disk is mostly out of date: run paperboy index", self.model)
        return Snapshot(generation, ann, delta, hidden)

    def _with_new_papers(self, conn: Connection, generation: int, old: Snapshot) -> Snapshot:
        """`old` with the vectors of papers newer than its base read again."""
        top = old.base_top_id
        kept = old.delta.ids <= top  # changed papers found by the last reconciliation
        fresh = load_vectors_after(conn, self.model, top)
        if not len(fresh.ids):
            delta = Exact(old.delta.ids[kept], old.delta.matrix[kept])
        elif not kept.any():
            delta = exact_of(fresh)
        else:
            delta = Exact(
                np.concatenate([old.delta.ids[kept], fresh.ids]),
                np.concatenate([old.delta.matrix[kept], fresh.matrix]),
            )
        return Snapshot(generation, old.base, delta, old.hidden)

    def _open_ann(self) -> AnnFile | None:
        assert self.directory is not None
        try:
            return open_ann_file(self.directory, self.model)
        except (AnnUnavailable, OSError, ValueError, RuntimeError) as exc:
            log.warning("searching %s exactly: its index on disk cannot be opened (%s)", self.model, exc)
            return None


def _nearest_in(
    snapshot: Snapshot,
    query: npt.NDArray[np.floating],
    k: int,
    exclude: Collection[int],
    within: Collection[int] | None,
) -> Neighbours:
    if k <= 0 or snapshot.size == 0 or (within is not None and len(within) == 0):
        return [], []
    unit = unit_query(query, snapshot.dimensions)
    allowed = None if within is None else as_ids(within)
    ids, scores = snapshot.nearest(unit, k, as_ids(exclude), allowed)
    return [int(i) for i in ids], [float(s) for s in scores]


def update_ann_index(
    engine: Engine, model: str, directory: Path, threshold: int, *, rebuild: bool = False, threads: int = 0
) -> str:
    """What `paperboy index` runs after embedding: build `model`'s approximate index when it has
    at least `threshold` vectors and the index is missing, `rebuild` is asked, or its count moved
    by more than REBUILD_SHARE; remove it below the threshold. Returns a summary line."""
    with engine.connect() as conn:
        count = count_embeddings(conn, model)
    if count < max(threshold, 1):
        remove_builds(directory, model)
        return f"vector index: {count} vectors of {model}, searched exactly (below {threshold})"
    pointer = read_pointer(directory, model)
    if pointer is not None and not rebuild and abs(count - pointer.count) <= REBUILD_SHARE * pointer.count:
        return f"vector index: the approximate index of {model} is current ({pointer.count} vectors)"
    started = time.perf_counter()
    pointer = build_ann_index(engine, model, directory, threads=threads)
    seconds = time.perf_counter() - started
    return f"vector index: approximate index of {pointer.count} {model} vectors built in {seconds:.0f} s"


def build_ann_index(engine: Engine, model: str, directory: Path, *, threads: int = 0) -> AnnPointer:
    """Build `model`'s approximate index from the vector store, in batches, and make it current."""
    with engine.connect() as conn:
        generation = vectors_generation(conn)
    return build_ann_file(directory, model, generation, _batches(engine, model), threads=threads)


def _batches(engine: Engine, model: str) -> Iterator[StoredVectors]:
    after = 0
    while True:
        with engine.connect() as conn:  # a short read each, not one transaction for minutes
            batch = load_vectors_after(conn, model, after, limit=BUILD_BATCH)
        if not len(batch.ids):
            return
        yield batch
        after = int(batch.ids[-1])


def _build_of(source: AnnPointer | Snapshot | None) -> str | None:
    if isinstance(source, Snapshot):
        return source.base.pointer.build if isinstance(source.base, AnnFile) else None
    return source.build if source is not None else None
