"""One snapshot of a model's vectors, and how it is searched: the nearest papers by cosine from
a base (every vector in memory, searched exactly, or the approximate index on disk,
storage/ann_index.py) and a delta (the vectors stored since the base was read, in memory,
exact), with the base's hidden ids skipped. Immutable: services/vector_index.py swaps whole
snapshots as the vector store changes. Ties go to the smaller id (domain.vectors.nearest's rule).
"""

from __future__ import annotations

import math
from collections.abc import Collection
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from paperboy.storage.ann_index import AnnFile
from paperboy.storage.vectors import StoredVectors

Matrix = npt.NDArray[np.float32]
Ids = npt.NDArray[np.int64]
NO_IDS: Ids = np.zeros(0, dtype=np.int64)

# With fewer allowed rows than this share of all rows, `within` scores only those rows
# (gathering them costs a copy); with more, every row is scored and the others masked.
GATHER_BELOW = 0.125
# Approximate search with `within`: when the allowed papers are few, score them exactly (reading
# their float16 rows back costs ~1.4 us a row here); otherwise over-fetch about twice the
# neighbours expected to be allowed, up to MAX_FETCH (~4.6 us a candidate), then score the
# allowed ones exactly after all (bench/search_speed.py measures both).
EXACT_WITHIN = 5_000
MAX_FETCH = 8192
EXACT_CHUNK = 50_000  # rows read back and scored at a time (77 MB of float32)
# `nearest_each` on vectors in memory scores a block of queries against every row in one matrix
# product (float32 GEMM: a scan a query was memory-bound), this many scores at a time (64 MB;
# the partition that picks each row's best copies them once more).
SCORES_PER_BLOCK = 1 << 24


@dataclass(frozen=True, slots=True)
class Exact:
    """Vectors in memory: unit float32 rows, ids ascending."""

    ids: Ids
    matrix: Matrix

    def rows_of(self, paper_ids: Ids) -> npt.NDArray[np.intp]:
        """Row numbers of those of `paper_ids` (ascending, unique) that have a vector."""
        return _positions(self.ids, paper_ids)

    def top(self, query: Matrix, k: int, drop: Ids, allowed: Ids | None) -> tuple[Ids, Matrix]:
        if len(self.ids) == 0:
            return NO_IDS, np.zeros(0, dtype=np.float32)
        ids, scores = self.ids, None
        if allowed is not None:
            rows = self.rows_of(allowed)
            if len(rows) < GATHER_BELOW * len(self.ids):
                ids, scores = self.ids[rows], self.matrix[rows] @ query
            else:
                scores = np.full(len(self.ids), -np.inf, dtype=np.float32)
                scores[rows] = (self.matrix @ query)[rows]
        if scores is None:
            scores = self.matrix @ query
        if len(drop):
            scores[_positions(ids, drop)] = -np.inf
        return _top(scores, ids, k)

    def top_each(self, queries: Matrix, k: int, own: Ids, drop: Ids) -> list[tuple[Ids, Matrix]]:
        """`top(queries[i], k, drop + own[i], None)` for each row, a block of rows per matrix
        product, at most SCORES_PER_BLOCK scores in memory at a time."""
        if len(self.ids) == 0:
            return [(NO_IDS, np.zeros(0, dtype=np.float32)) for _ in range(len(queries))]
        rows = max(1, SCORES_PER_BLOCK // len(self.ids))
        dropped = _positions(self.ids, drop)
        answers: list[tuple[Ids, Matrix]] = []
        for start in range(0, len(queries), rows):
            scores = queries[start : start + rows] @ self.matrix.T
            scores[:, dropped] = -np.inf
            block = own[start : start + rows]
            at = np.searchsorted(self.ids, block)
            inside = np.flatnonzero(at < len(self.ids))
            inside = inside[self.ids[at[inside]] == block[inside]]
            scores[inside, at[inside]] = -np.inf
            answers += _top_rows(scores, self.ids, k)
        return answers


EMPTY = Exact(NO_IDS, np.zeros((0, 0), dtype=np.float32))


@dataclass(frozen=True, slots=True)
class Snapshot:
    """What queries are answered from between two refreshes."""

    generation: int
    base: Exact | AnnFile
    delta: Exact  # stored since the base was read, exact
    hidden: Ids  # base ids not to return (on an AnnFile: changed or deleted since its build)

    @property
    def size(self) -> int:
        return len(self.base.ids) - len(self.hidden) + len(self.delta.ids)

    @property
    def dimensions(self) -> int:
        if isinstance(self.base, AnnFile):
            return self.base.pointer.dimensions
        return int(self.base.matrix.shape[1]) if len(self.base.ids) else int(self.delta.matrix.shape[1])

    @property
    def base_top_id(self) -> int:
        return int(self.base.ids[-1]) if len(self.base.ids) else 0

    def nearest(self, query: Matrix, k: int, drop: Ids, allowed: Ids | None) -> tuple[Ids, Matrix]:
        hidden = np.union1d(drop, self.hidden) if len(self.hidden) else drop
        if isinstance(self.base, AnnFile):
            base = _approximate_top(self.base, query, k, hidden, allowed)
        else:
            base = self.base.top(query, k, hidden, allowed)
        fresh = self.delta.top(query, k, drop, allowed)
        return _top(np.concatenate([base[1], fresh[1]]), np.concatenate([base[0], fresh[0]]), k)

    def nearest_each(self, queries: Matrix, k: int, own: Ids) -> list[tuple[Ids, Matrix]]:
        """`nearest(queries[i], k, own[i:i+1], None)` for each row: on an index on disk, the
        graph searched for every row in one call (a search a row spent as long again in Python
        and locking), each row then finished as `nearest` finishes it; a row whose search comes
        short (hidden papers among its nearest) is searched again alone."""
        if not isinstance(self.base, AnnFile):
            return self._exact_each(queries, k, own)
        if not len(own):
            return [self.nearest(query, k, own[i : i + 1], None) for i, query in enumerate(queries)]
        count = k + min(len(self.hidden) + 1, k)
        found = self.base.search_many(queries, min(count, len(self.base.ids)))
        answers = []
        for i, query in enumerate(queries):
            drop = own[i : i + 1]
            hidden = np.union1d(drop, self.hidden) if len(self.hidden) else drop
            ids, scores = found[i]
            keep = ~_member(hidden, ids)
            if k + min(len(hidden), k) != count or not (keep.sum() >= k or len(ids) < count):
                answers.append(self.nearest(query, k, drop, None))
                continue
            base = _top(scores[keep], ids[keep], k)
            fresh = self.delta.top(query, k, drop, None)
            answers.append(_top(np.concatenate([base[1], fresh[1]]), np.concatenate([base[0], fresh[0]]), k))
        return answers

    def _exact_each(self, queries: Matrix, k: int, own: Ids) -> list[tuple[Ids, Matrix]]:
        """`nearest_each` on vectors in memory: the base and the delta scored by blocks of rows."""
        assert isinstance(self.base, Exact)
        base = self.base.top_each(queries, k, own, self.hidden)
        if not len(self.delta.ids):
            return base
        fresh = self.delta.top_each(queries, k, own, NO_IDS)
        return [
            _top(np.concatenate([b[1], f[1]]), np.concatenate([b[0], f[0]]), k)
            for b, f in zip(base, fresh, strict=True)
        ]

    def vectors_of(self, paper_ids: Ids) -> tuple[Ids, Matrix]:
        """The unit vectors of those of `paper_ids` (ascending, unique) that have one, in one
        gather per part (the "For you" model reads a period's papers at once)."""
        parts: list[tuple[Ids, Matrix]] = []
        fresh = self.delta.rows_of(paper_ids)
        if len(fresh):
            parts.append((self.delta.ids[fresh], self.delta.matrix[fresh]))
        rest = paper_ids[~_member(self.delta.ids, paper_ids)] if len(self.delta.ids) else paper_ids
        if len(self.hidden):
            rest = rest[~_member(self.hidden, rest)]
        inside = self.base.ids[_positions(self.base.ids, rest)]
        if len(inside):
            if isinstance(self.base, AnnFile):
                rows = self.base.vectors(inside)
                rows /= np.maximum(np.linalg.norm(rows, axis=1, keepdims=True), np.float32(1e-9))
            else:
                rows = self.base.matrix[_positions(self.base.ids, inside)]
            parts.append((inside, rows))
        if not parts:
            return NO_IDS, np.zeros((0, self.dimensions if self.size else 0), dtype=np.float32)
        ids = np.concatenate([ids for ids, _ in parts])
        order = np.argsort(ids, kind="stable")
        return ids[order], np.vstack([rows for _, rows in parts]).astype(np.float32)[order]

    def vector_of(self, paper_id: int) -> Matrix | None:
        wanted = np.array([paper_id], dtype=np.int64)
        found: Matrix
        if len(rows := self.delta.rows_of(wanted)):
            found = self.delta.matrix[rows[0]]
        elif len(_positions(self.hidden, wanted)):
            return None
        elif isinstance(self.base, AnnFile):
            if not len(_positions(self.base.ids, wanted)):
                return None
            found = self.base.vectors(wanted)[0]
            found /= np.float32(np.linalg.norm(found))  # float16 in the index
        elif len(rows := self.base.rows_of(wanted)):
            found = self.base.matrix[rows[0]]
        else:
            return None
        return found.copy()


NOT_LOADED = Snapshot(-1, EMPTY, EMPTY, NO_IDS)  # what queries see while another thread loads


def _approximate_top(
    ann: AnnFile, query: Matrix, k: int, drop: Ids, allowed: Ids | None
) -> tuple[Ids, Matrix]:
    """The index's nearest, skipping `drop` and keeping `allowed` only: over-fetched from the
    graph when many papers are allowed, scored exactly when few are or too few survive."""
    count = k + min(len(drop), k)
    if allowed is not None:
        expected = 2 * k * len(ann.ids) / len(allowed)  # candidates for about 2k allowed ones
        if len(allowed) <= EXACT_WITHIN or expected > MAX_FETCH:
            return _exact_among(ann, query, k, drop, allowed)
        count = math.ceil(expected)
    while True:
        ids, scores = ann.search(query, min(count, len(ann.ids)))
        keep = ~_member(drop, ids)
        if allowed is not None:
            keep &= _member(allowed, ids)
        if keep.sum() >= k or len(ids) < count:
            return _top(scores[keep], ids[keep], k)
        if count >= MAX_FETCH:
            if allowed is None:  # the rest of the neighbourhood is hidden or excluded
                return _top(scores[keep], ids[keep], k)
            return _exact_among(ann, query, k, drop, allowed)
        count = min(MAX_FETCH, count * 4)


def _exact_among(ann: AnnFile, query: Matrix, k: int, drop: Ids, allowed: Ids) -> tuple[Ids, Matrix]:
    """Exact scores of the allowed papers in the index, read back in chunks."""
    inside = ann.ids[_positions(ann.ids, allowed)]
    inside = inside[~_member(drop, inside)]
    chunks = [inside[start : start + EXACT_CHUNK] for start in range(0, len(inside), EXACT_CHUNK)]
    scores = [ann.vectors(chunk) @ query for chunk in chunks]
    return _top(np.concatenate(scores) if scores else np.zeros(0, np.float32), inside, k)


def _member(members: Ids, ids: Ids) -> npt.NDArray[np.bool_]:
    """Which of `ids` are in `members` (ascending): a binary search each, for few ids."""
    if len(members) == 0:
        return np.zeros(len(ids), dtype=bool)
    positions = np.minimum(np.searchsorted(members, ids), len(members) - 1)
    found: npt.NDArray[np.bool_] = members[positions] == ids
    return found


def exact_of(stored: StoredVectors) -> Exact:
    return Exact(stored.ids, stored.matrix) if len(stored.ids) else EMPTY


def as_ids(paper_ids: Collection[int]) -> Ids:
    """Ascending unique ids; an int64 array passes with one sort (a set or list of a million
    ids costs ~0.1 s to convert)."""
    if isinstance(paper_ids, np.ndarray):
        ids = np.sort(paper_ids.astype(np.int64))
    elif not paper_ids:
        return NO_IDS
    else:
        ids = np.sort(np.fromiter(paper_ids, dtype=np.int64, count=len(paper_ids)))
    # Not np.unique: numpy 2's hashing unique takes ~0.15 s for 300,000 ids, a sort 0.01 s.
    distinct: Ids = ids[np.concatenate(([True], ids[1:] != ids[:-1]))]
    return distinct


def _positions(ids: Ids, wanted: Ids) -> npt.NDArray[np.intp]:
    """Positions in `ids` (ascending) of those of `wanted` it holds."""
    if len(ids) == 0 or len(wanted) == 0:
        return np.zeros(0, dtype=np.intp)
    positions = np.minimum(np.searchsorted(ids, wanted), len(ids) - 1)
    found: npt.NDArray[np.intp] = positions[ids[positions] == wanted]
    return found


def unit_query(query: npt.NDArray[np.floating], dimensions: int) -> Matrix:
    if query.shape != (dimensions,):
        raise ValueError(f"query of shape {query.shape} for vectors of {dimensions} dimensions")
    unit = query.astype(np.float32)
    norm = float(np.linalg.norm(unit))
    return unit / norm if norm > 0 else unit


def _top(scores: Matrix, ids: Ids, k: int) -> tuple[Ids, Matrix]:
    """The `k` best finite scores and their ids, best first; ties go to the smaller id (the rule
    of domain.vectors.nearest)."""
    count = len(ids)
    wanted = min(k, count)
    if wanted <= 0:
        return NO_IDS, np.zeros(0, dtype=np.float32)
    threshold = np.partition(scores, count - wanted)[count - wanted]
    top = np.flatnonzero(scores >= threshold)
    top = top[np.lexsort((ids[top], -scores[top]))]
    top = top[np.isfinite(scores[top])][:k]
    return ids[top], scores[top]


def _top_rows(scores: Matrix, ids: Ids, k: int) -> list[tuple[Ids, Matrix]]:
    """`_top(scores[r], ids, k)` for each row r of a block, the threshold of every row found in
    one partition and the ties sorted in one pass (the same rule: best first, smaller id first)."""
    count = scores.shape[1]
    wanted = min(k, count)
    if wanted <= 0:
        return [(NO_IDS, np.zeros(0, dtype=np.float32)) for _ in range(len(scores))]
    threshold = np.partition(scores, count - wanted, axis=1)[:, count - wanted]
    rows, columns = np.nonzero(scores >= threshold[:, None])
    found = scores[rows, columns]
    order = np.lexsort((ids[columns], -found, rows))
    rows, columns, found = rows[order], columns[order], found[order]
    ends = np.cumsum(np.bincount(rows, minlength=len(scores)))
    answers = []
    for row, end in enumerate(ends):
        begin = 0 if row == 0 else int(ends[row - 1])
        best = slice(begin, min(int(end), begin + wanted))
        finite = np.isfinite(found[best])
        answers.append((ids[columns[best]][finite], found[best][finite]))
    return answers
