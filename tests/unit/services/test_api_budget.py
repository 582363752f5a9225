"""SharedCounts (services/api_budget.py) with a fake clock on a real database: memory stays
bounded by dropping ended windows a few at a time and the oldest past the cap, and two of them
(two processes) over one database admit one budget."""

from __future__ import annotations

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
