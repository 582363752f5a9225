"""SharedCounts (services/api_budget.py) with a fake clock on a real database: memory stays
bounded by dropping ended windows a few at a time and the oldest past the cap, two of them
(two processes) over one database admit one budget, and closing stops the background thread."""

from __future__ import annotations

import threading

from paperboy.domain.rates import Rate
from paperboy.services.api_budget import EXACT, SharedCounts, Verdict

HOUR = Rate(1_000_000, 3600)


def _take(counts: SharedCounts, bucket: str, rate: Rate, now: float) -> Verdict:
    verdict = counts.take(bucket, rate, now)
    return counts.count_exactly(bucket, rate, now) if verdict == EXACT else verdict


def test_many_clients_in_one_window_stay_under_the_cap(engine):
    counts = SharedCounts(engine, max_keys=1000)
    try:
        for number in range(5000):
            assert _take(counts, f"ip:{number}", HOUR, 7200.0 + number / 100).admitted
        assert counts.size() == 1000
    finally:
        counts.close()


def test_ended_windows_are_dropped_as_new_clients_come(engine):
    counts = SharedCounts(engine)
    try:
        for number in range(1000):
            _take(counts, f"old:{number}", HOUR, 3600.0)
        for number in range(300):  # the next window: each newcomer drops up to four ended ones
            _take(counts, f"new:{number}", HOUR, 7200.0)
        assert counts.size() == 300
    finally:
        counts.close()


def test_two_processes_admit_one_budget(engine):
    rate = Rate(100, 3600)
    first, second = SharedCounts(engine), SharedCounts(engine)
    try:
        verdicts = [
            _take(counts, "ip:10.0.0.1", rate, 3600.0) for _ in range(200) for counts in (first, second)
        ]
    finally:
        first.close()
        second.close()
    admitted = sum(verdict.admitted for verdict in verdicts)
    assert 99 <= admitted <= 101, admitted
    assert not any(verdict.admitted for verdict in verdicts[-50:])


class _NotedEvent(threading.Event):
    """An Event that says when a thread has started waiting on it."""

    def __init__(self) -> None:
        super().__init__()
        self.waited_on = threading.Event()

    def wait(self, timeout: float | None = None) -> bool:
        self.waited_on.set()
        return super().wait(timeout)


def test_closing_while_a_batch_gathers_stops_the_thread_and_writes_the_batch(engine):
    counts = SharedCounts(engine, flush_seconds=3600)  # the batch would gather for an hour
    counts._urgent = gathering = _NotedEvent()  # the thread's wait for more of the batch
    try:
        assert _take(counts, "ip:10.0.0.1", HOUR, 3600.0).admitted  # starts the thread
        assert gathering.waited_on.wait(timeout=30)
    finally:
        counts.close()
    thread = counts._thread
    assert thread is not None
    assert not thread.is_alive()  # it used to wait for the next batch: close() gave up after 5 s
    reader = SharedCounts(engine)
    try:
        assert reader.count_exactly("ip:10.0.0.1", HOUR, 3600.0).remaining == HOUR.limit - 2
    finally:
        reader.close()
