"""services/neighbour_cache.py: answers kept for one snapshot only, least recently used out."""

from __future__ import annotations

from paperboy.services.neighbour_cache import NeighbourCache
from paperboy.services.vector_snapshot import EMPTY, NO_IDS, Snapshot


def _snapshot(generation: int) -> Snapshot:
    return Snapshot(generation, EMPTY, EMPTY, NO_IDS)


def test_an_answer_is_kept_for_its_snapshot_only():
    cache, first, second = NeighbourCache(), _snapshot(1), _snapshot(1)  # equal, not the same
    assert cache.get(first, 7, 10) is None
    cache.put(first, 7, 10, ([1, 2], [0.9, 0.8]))
    assert cache.get(first, 7, 10) == ([1, 2], [0.9, 0.8])
    assert cache.get(first, 7, 5) is None  # another k is another answer
    assert cache.get(second, 7, 10) is None  # a new snapshot empties the cache
    assert cache.get(first, 7, 10) is None
    assert len(cache) == 0


def test_an_answer_computed_on_an_older_snapshot_is_not_kept():
    cache, old, new = NeighbourCache(), _snapshot(1), _snapshot(2)
    cache.get(new, 1, 10)
    cache.put(old, 1, 10, ([2], [0.5]))
    assert cache.get(new, 1, 10) is None


def test_the_least_recently_used_go_first():
    cache, snapshot = NeighbourCache(capacity=2), _snapshot(1)
    cache.get(snapshot, 0, 10)
    for paper_id in (1, 2):
        cache.put(snapshot, paper_id, 10, ([paper_id], [1.0]))
    cache.get(snapshot, 1, 10)  # 1 used: 2 is the oldest now
    cache.put(snapshot, 3, 10, ([3], [1.0]))
    assert cache.get(snapshot, 2, 10) is None
    assert cache.get(snapshot, 1, 10) == ([1], [1.0])
    assert cache.get(snapshot, 3, 10) == ([3], [1.0])
