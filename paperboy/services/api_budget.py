"""Request budgets shared by every web process, counted in memory and added up in the database.

A budget is a fixed window per bucket ("api:user:42", "api:ip:10.0.0.1"). Counting a request
in the database as it happens would make every API read a write transaction (on SQLite writers
take turns), so each process counts here and a background thread adds its counts to the shared
`rate_counters` table (storage/rate_counters.py) in one batch, about every 50 ms, reading back the
windows' totals. A request is admitted on what is known: the total last read for its window plus
what this process admitted since. Counts only grow within a window, so a refusal is always right;
an admission can be wrong only by what other processes admitted and have not yet written:

- a bucket's unwritten count wakes the thread at once when it reaches 1/200 of the limit, and
  at twice that (the thread is behind) requests go the exact way below: another process can be
  ahead by at most 1% of the limit before this one sees it;
- the last requests of a window (`_exact_zone`) are counted in the database one by one,
  atomically (`count_exactly`, in the caller's thread pool): near the limit no two processes
  can both take the last place. The first requests of a window never wait for the database.

The request's own thread never writes or waits for the thread, except in that last zone. Memory
stays bounded without pauses: each window length has a table in window order (an OrderedDict);
every new entry drops up to a few ended windows from its front, and past `max_keys` the oldest.
"""

from __future__ import annotations

import logging
import math
import threading
from collections import OrderedDict
from dataclasses import dataclass
from typing import Literal

from sqlalchemy import Engine

from paperboy.domain.rates import Rate
from paperboy.storage import rate_counters
from paperboy.storage.transactions import write_transaction

log = logging.getLogger(__name__)

FLUSH_SECONDS = 0.05  # how stale another process's counts may be when nothing is urgent
MAX_KEYS = 100_000  # per window length; past it the oldest window is forgotten here
_DROPS_PER_ENTRY = 4  # ended windows dropped per new entry: amortised O(1), never a sweep
_PURGE_SECONDS = 60.0  # how often ended windows are deleted from the table
_MAX_BACKOFF = 5.0  # seconds between tries while the database cannot be written
EXACT: Literal["exact"] = "exact"  # take() cannot decide here: call count_exactly() off the event loop


@dataclass(slots=True)
class _Count:
    window: int  # the window's start, epoch seconds
    known: int  # the window's total in the database, as last read
    pending: int  # admitted by this process and not yet read back as part of `known`


@dataclass(frozen=True, slots=True)
class Verdict:
    admitted: bool
    remaining: int
    reset: int  # seconds until the window ends


Key = tuple[str, int]  # (bucket, window start)


class SharedCounts:
    """Fixed-window counts of this process, added to the database's by a background thread."""

    def __init__(
        self, engine: Engine, *, max_keys: int = MAX_KEYS, flush_seconds: float = FLUSH_SECONDS
    ) -> None:
        self.engine = engine
        self.max_keys = max_keys
        self.flush_seconds = flush_seconds
        self._tables: dict[int, OrderedDict[str, _Count]] = {}  # by window length
        self._outbox: dict[Key, list[int]] = {}  # unwritten counts: [hits, expires_at]
        self._lock = threading.Lock()  # guards the tables and the outbox; held for microseconds
        self._writing = threading.Lock()  # one write of this process's counts at a time
        self._work = threading.Event()  # the outbox holds something
        self._urgent = threading.Event()  # a bucket's unwritten count reached its threshold
        self._thread: threading.Thread | None = None
        self._closed = False
        self._closing = threading.Event()  # ends a back-off pause at once
        self._latest = 0.0  # the latest time a request was counted at (the clock may be a test's)
        self._purged = 0.0

    # --- the request's side -------------------------------------------------------------------

    def take(self, bucket: str, rate: Rate, now: float) -> Verdict | Literal["exact"]:
        """Count one request if the budget allows, without I/O; EXACT near the window's end."""
        start = int(now // rate.seconds) * rate.seconds
        reset = max(1, math.ceil(start + rate.seconds - now))
        with self._lock:
            self._latest = now
            count = self._entry(bucket, rate.seconds, start, now)
            hits = count.known + count.pending + 1
            if hits > rate.limit:
                return Verdict(False, 0, reset)
            if hits > rate.limit - _exact_zone(rate) or count.pending >= 2 * _threshold(rate):
                return EXACT  # near the limit, or the thread is behind: ask the database
            count.pending += 1
            unwritten = self._add_to_outbox((bucket, start), 1, start + rate.seconds)
        self._wake(urgent=unwritten >= _threshold(rate), first=unwritten == 1)
        return Verdict(True, rate.limit - hits, reset)

    def count_exactly(self, bucket: str, rate: Rate, now: float) -> Verdict:
        """Count one request in the database at once (blocking: call it from a worker thread)."""
        start = int(now // rate.seconds) * rate.seconds
        reset = max(1, math.ceil(start + rate.seconds - now))
        key = (bucket, start)
        with self._writing:  # no batch of this process is half-written while we read the total
            with self._lock:
                earlier = self._outbox.pop(key, [0, 0])[0]
            try:
                with write_transaction(self.engine) as conn:
                    total = rate_counters.add_hits(
                        conn, [(bucket, start, earlier + 1, start + rate.seconds)]
                    )[key]
            except Exception:
                self._give_back({key: [earlier, start + rate.seconds]})
                raise
        with self._lock:
            count = self._entry(bucket, rate.seconds, start, now)
            count.known = max(count.known, total)
            count.pending = max(0, count.pending - earlier)
        return Verdict(total <= rate.limit, max(0, rate.limit - total), reset)

    def _entry(self, bucket: str, seconds: int, start: int, now: float) -> _Count:
        table = self._tables.get(seconds)
        if table is None:
            table = self._tables[seconds] = OrderedDict()
        count = table.get(bucket)
        if count is not None and count.window == start:
            return count
        if count is None:
            count = table[bucket] = _Count(start, 0, 0)
        else:  # a new window: to the back of the line, which stays in window order
            count.window, count.known, count.pending = start, 0, 0
            table.move_to_end(bucket)
        self._drop_ended(table, seconds, now)
        return count

    def _drop_ended(self, table: OrderedDict[str, _Count], seconds: int, now: float) -> None:
        for _ in range(_DROPS_PER_ENTRY):
            oldest = next(iter(table.values()))
            if oldest.window + seconds > now:
                break
            table.popitem(last=False)
        while len(table) > self.max_keys:
            table.popitem(last=False)

    def _add_to_outbox(self, key: Key, hits: int, expires_at: int) -> int:
        entry = self._outbox.get(key)
        if entry is None:
            entry = self._outbox[key] = [0, expires_at]
        entry[0] += hits
        return entry[0]

    def _wake(self, *, urgent: bool, first: bool) -> None:
        if self._thread is None:
            self._start()
        if urgent:
            self._urgent.set()
            self._work.set()
        elif first:
            self._work.set()

    # --- the background thread ----------------------------------------------------------------

    def _start(self) -> None:
        with self._lock:
            if self._thread is None and not self._closed:
                self._thread = threading.Thread(target=self._run, name="rate-counts", daemon=True)
                self._thread.start()

    def _run(self) -> None:
        failures = 0
        while not self._closed:  # close() may come while a batch gathers: its wake-up is cleared below
            self._work.wait()
            if self._closed:
                return
            self._urgent.wait(self.flush_seconds)  # gather a batch, unless something is urgent
            self._work.clear()
            self._urgent.clear()  # cleared before the outbox is taken: no wake-up is lost
            failures = 0 if self.flush() else failures + 1
            if failures:
                self._closing.wait(min(_MAX_BACKOFF, self.flush_seconds * 2**failures))

    def flush(self) -> bool:
        """Write this process's counts and read back the totals; False when the database refused
        (the counts are kept for the next try)."""
        with self._writing:
            with self._lock:
                batch, self._outbox = self._outbox, {}
            if not batch:
                return True
            rows = [(bucket, start, hits, expires) for (bucket, start), (hits, expires) in batch.items()]
            try:
                with write_transaction(self.engine) as conn:
                    totals = rate_counters.add_hits(conn, rows)
                    if self._latest - self._purged > _PURGE_SECONDS:  # the table keeps ended windows a minute
                        rate_counters.purge_expired(conn, int(self._latest) - 60)
                        self._purged = self._latest
            except Exception:
                log.warning("could not add the request counts to the database; retrying", exc_info=True)
                self._give_back(batch)
                return False
            self._learn(batch, totals)  # before count_exactly may read `pending`
        return True

    def _give_back(self, batch: dict[Key, list[int]]) -> None:
        with self._lock:
            for key, (hits, expires) in batch.items():
                if expires > self._latest:  # an ended window's count no longer matters
                    self._add_to_outbox(key, hits, expires)
            if self._outbox:
                self._work.set()

    def _learn(self, batch: dict[Key, list[int]], totals: dict[Key, int]) -> None:
        items = list(totals.items())
        for first in range(0, len(items), 512):  # let the event loop in between chunks
            with self._lock:
                for (bucket, start), total in items[first : first + 512]:
                    hits, expires = batch[(bucket, start)]
                    table = self._tables.get(expires - start)
                    count = table.get(bucket) if table is not None else None
                    if count is not None and count.window == start:
                        count.known = max(count.known, total)
                        count.pending = max(0, count.pending - hits)

    def close(self) -> None:
        """Write what is left and stop the thread."""
        self._closed = True
        self._closing.set()
        self._work.set()
        self._urgent.set()
        if self._thread is not None:
            self._thread.join(timeout=1)  # a write in progress; the one below then waits for it
        self.flush()

    def size(self) -> int:
        return sum(len(table) for table in self._tables.values())


def _threshold(rate: Rate) -> int:
    """Unwritten requests of one bucket that make the thread write at once (0.5% of the limit)."""
    return max(1, rate.limit // 200)


def _exact_zone(rate: Rate) -> int:
    """How many of a window's last requests are counted in the database one by one."""
    return max(8, math.ceil(rate.limit * 0.005))
