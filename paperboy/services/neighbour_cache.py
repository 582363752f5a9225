"""Each paper's nearest neighbours, kept per vectors snapshot: a paper page asks for the same
paper's similar papers again and again, and an approximate search costs milliseconds of a core
(more when requests queue for the index's one search context), while the answer changes only
when the vectors do. services/vector_index.py swaps whole immutable snapshots as the vector
store changes, so an answer is valid exactly as long as the snapshot it was computed on is the
current one: a new snapshot empties the cache. Thread-safe; the least recently used go first.
"""

from __future__ import annotations

import threading
from collections import OrderedDict

from paperboy.services.vector_snapshot import Snapshot

# Answers kept per process: ten ids and cosines each, about 1 KB, so about 20 MB at most.
KEPT_NEIGHBOURS = 20_000
Neighbours = tuple[list[int], list[float]]


class NeighbourCache:
    """(paper id, k) -> its k nearest neighbours, for one snapshot."""

    def __init__(self, capacity: int = KEPT_NEIGHBOURS) -> None:
        self.capacity = capacity
        self._lock = threading.Lock()
        self._snapshot: Snapshot | None = None
        self._answers: OrderedDict[tuple[int, int], tuple[tuple[int, ...], tuple[float, ...]]] = OrderedDict()

    def __len__(self) -> int:
        return len(self._answers)

    def get(self, snapshot: Snapshot, paper_id: int, k: int) -> Neighbours | None:
        """The answer kept for `snapshot`; a different snapshot empties the cache."""
        with self._lock:
            if snapshot is not self._snapshot:
                self._answers.clear()
                self._snapshot = snapshot
                return None
            found = self._answers.get((paper_id, k))
            if found is None:
                return None
            self._answers.move_to_end((paper_id, k))
        return list(found[0]), list(found[1])

    def put(self, snapshot: Snapshot, paper_id: int, k: int, answer: Neighbours) -> None:
        """Keep `answer`, computed on `snapshot`, unless the cache moved to another one meanwhile."""
        with self._lock:
            if snapshot is not self._snapshot or self.capacity <= 0:
                return
            self._answers[(paper_id, k)] = (tuple(answer[0]), tuple(answer[1]))  # kept as they are
            self._answers.move_to_end((paper_id, k))
            while len(self._answers) > self.capacity:
                self._answers.popitem(last=False)
