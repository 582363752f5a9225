from __future__ import annotations

from datetime import UTC, datetime, timedelta

from paperboy.domain.jobs import retry_delay, slot_job, slot_start


def test_the_retry_delay_doubles_up_to_an_hour():
    assert [retry_delay(n, 30).total_seconds() for n in (1, 2, 3, 4)] == [30, 60, 120, 240]
    assert retry_delay(40, 30) == timedelta(hours=1)


def test_every_host_computes_the_same_slot():
    every = timedelta(hours=6)
    moment = datetime(2026, 12, 7, 14, 59, 59, tzinfo=UTC)
    assert slot_start(moment, every) == datetime(2026, 12, 7, 12, tzinfo=UTC)
    assert slot_start(datetime(2026, 12, 7, 18, tzinfo=UTC), every) == datetime(2026, 12, 7, 18, tzinfo=UTC)
    job = slot_job("digests", moment, timedelta(minutes=5), today="2026-12-07")
    assert job.unique_key == "digests@2026-12-07T14:55:00+00:00"
    assert job.args == {"today": "2026-12-07"}
