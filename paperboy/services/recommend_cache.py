"""What "For you" keeps per process: each period's candidates (the same for every reader),
each reader's personal scores and each reader's blended order (`OrderCache`), all least
recently used out.

A period's candidates are kept under the catalogue version and the vectors' generation they were
read at; a reader's scores under their signals themselves (storage/reader_signals.py reads them
in one statement on every request), the period and those versions. So a save, upvote, hide, undo
or reset is in the very next answer: the scores it would make stale are never looked up again.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

import numpy as np
import numpy.typing as npt

from paperboy.domain.recommend import Candidates, Personal, Scored

# Candidate rows kept per process: about 9 KB a paper (its vector 1.5 KB, its tf-idf row 4 KB,
# its words and title), so a day of ~500 papers is ~5 MB and the budget, ~210 MB at most, holds
# a busy month (up to 12,000 papers: a value over half the budget is used but not kept) with a
# week and days beside it. Personal scores take ~70 bytes a candidate: 500,000 rows (~35 MB)
# are a thousand readers' day pages.
CANDIDATE_ROWS = 24_000
PERSONAL_ROWS = 500_000
ORDERS_KEPT = 2048  # readers' blended orders kept per process (~20 MB)

V = TypeVar("V", Candidates, Personal)
T = TypeVar("T")


class Kept(Generic[T]):
    """Up to `capacity` values by key, least recently used out; `get_or_make` makes a missing
    one outside the lock. Thread-safe."""

    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self._lock = threading.Lock()
        self._kept: OrderedDict[Hashable, T] = OrderedDict()

    def get_or_make(self, key: Hashable, make: Callable[[], T]) -> T:
        with self._lock:
            if key in self._kept:
                self._kept.move_to_end(key)
                return self._kept[key]
        found = make()
        with self._lock:
            self._kept[key] = found
            while len(self._kept) > self.capacity:
                self._kept.popitem(last=False)
        return found


class RowBudgetCache(Generic[V]):
    """Values by key, evicted least recently used first once their rows pass `max_rows`.
    `get_or_make` makes a missing value outside the lock (two threads may both make it; the
    last kept wins, both are right). Thread-safe."""

    def __init__(self, max_rows: int) -> None:
        self.max_rows = max_rows
        self._lock = threading.Lock()
        self._entries: OrderedDict[Hashable, V] = OrderedDict()
        self._rows = 0

    def get(self, key: Hashable) -> V | None:
        """The value kept under `key`, if any (nothing is made)."""
        with self._lock:
            found = self._entries.get(key)
            if found is not None:
                self._entries.move_to_end(key)
            return found

    def get_or_make(self, key: Hashable, make: Callable[[], V]) -> V:
        with self._lock:
            found = self._entries.get(key)
            if found is not None:
                self._entries.move_to_end(key)
                return found
        value = make()
        self._keep(key, value)
        return value

    def _keep(self, key: Hashable, value: V) -> None:
        rows = _rows(value)
        if rows > self.max_rows // 2:
            return
        with self._lock:
            old = self._entries.pop(key, None)
            if old is not None:
                self._rows -= _rows(old)
            self._entries[key] = value
            self._rows += rows
            while self._rows > self.max_rows and self._entries:
                _, dropped = self._entries.popitem(last=False)
                self._rows -= _rows(dropped)

    def __len__(self) -> int:
        return len(self._entries)


def _rows(value: Candidates | Personal) -> int:
    candidates = value if isinstance(value, Candidates) else value.candidates
    return max(1, len(candidates))


class OrderCache:
    """Each reader's blended order, per process, while their kept scores (the very object), the
    community version and the trending moment are the same: a page shown again costs no
    trending statement and no blend. Least recently used out (~10 KB an order). Thread-safe."""

    def __init__(self, capacity: int = ORDERS_KEPT) -> None:
        self.capacity = capacity
        self._lock = threading.Lock()
        self._kept: OrderedDict[Hashable, tuple[Personal, tuple[Scored, npt.NDArray[np.int64]]]] = (
            OrderedDict()
        )

    def get(self, key: Hashable, personal: Personal) -> tuple[Scored, npt.NDArray[np.int64]] | None:
        with self._lock:
            found = self._kept.get(key)
            if found is None or found[0] is not personal:
                return None
            self._kept.move_to_end(key)
            return found[1]

    def put(self, key: Hashable, personal: Personal, order: tuple[Scored, npt.NDArray[np.int64]]) -> None:
        with self._lock:
            self._kept[key] = (personal, order)
            self._kept.move_to_end(key)
            while len(self._kept) > self.capacity:
                self._kept.popitem(last=False)
