"""The job queue in one process, on SQLite and PostgreSQL: retries with back-off, a lost lease
run again once, a failed job's retry, unknown kinds, and periodic slots made once by two
schedulers at the same moment. (Four worker processes and a SIGKILL:
tests/functional/test_job_workers.py.)"""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from paperboy.domain.jobs import NewJob
from paperboy.services import jobs as service
from paperboy.services.job_kinds import KINDS
from paperboy.services.job_schedule import schedule_jobs
from paperboy.services.jobs import JobContext, JobKind, WorkerReport, add_jobs, queue_status, retry_job
from paperboy.storage import jobs as store
from paperboy.storage.schema import jobs
from paperboy.storage.sync_state import bump_counter, get_counter
from paperboy.storage.transactions import write_transaction

T0 = datetime(2026, 12, 7, 12, 0, 30, tzinfo=UTC)


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        return self.now


def _counting(transactional: bool, fail_first: int = 0) -> JobKind:
    """Counts its runs in sync_state (in the completing transaction when transactional); its
    first `fail_first` tries raise."""
    tries = []

    def run(ctx: JobContext) -> None:
        tries.append(ctx.job.attempts)
        if len(tries) <= fail_first:
            raise RuntimeError(f"upstream failed on try {len(tries)}")
        if ctx.conn is not None:
            bump_counter(ctx.conn, "test:runs")
        else:
            with write_transaction(ctx.engine) as conn:
                bump_counter(conn, "test:runs")

    return JobKind("count", run, transactional=transactional)


def _next(engine, settings, kind, clock, name="host:1"):
    heartbeat = service._Heartbeat(
        engine, timedelta(seconds=settings.jobs_lease_seconds), clock, threading.Event()
    )
    return service.run_next_job(
        engine, settings, {kind.name: kind}, name, threading.Event(), clock, WorkerReport(), heartbeat
    )


def _row(engine, job_id=None):
    with engine.connect() as conn:
        query = select(jobs).order_by(jobs.c.id)
        return conn.execute(query.where(jobs.c.id == job_id) if job_id else query).first()


def _runs(engine) -> int:
    with engine.connect() as conn:
        return get_counter(conn, "test:runs")


def test_a_failing_job_is_retried_with_back_off_then_done_once(engine, settings):
    settings = settings.replace(jobs_retry_seconds=10.0)
    clock, kind = Clock(), _counting(transactional=False, fail_first=2)
    add_jobs(engine, [NewJob("count")], clock.now)
    assert _next(engine, settings, kind, clock)
    first = _row(engine)
    assert (first.state, first.attempts) == ("queued", 1)
    assert "try 1" in first.last_error
    assert first.run_after.replace(tzinfo=UTC) == T0 + timedelta(seconds=10)
    clock.now += timedelta(seconds=9)
    assert not _next(engine, settings, kind, clock), "taken before its back-off was over"
    clock.now += timedelta(seconds=1)
    assert _next(engine, settings, kind, clock)
    second = _row(engine)
    assert second.run_after.replace(tzinfo=UTC) == clock.now + timedelta(seconds=20), "the delay doubles"
    clock.now += timedelta(seconds=20)
    assert _next(engine, settings, kind, clock)
    done = _row(engine)
    assert (done.state, done.attempts, _runs(engine)) == ("done", 3, 1)


def test_a_job_out_of_tries_fails_and_a_retry_queues_it_again(engine, settings):
    settings = settings.replace(jobs_retry_seconds=0.0)
    clock, kind = Clock(), _counting(transactional=True, fail_first=5)
    add_jobs(engine, [NewJob("count", max_attempts=2)], clock.now)
    assert _next(engine, settings, kind, clock)
    assert _next(engine, settings, kind, clock)
    failed = _row(engine)
    assert (failed.state, failed.attempts, _runs(engine)) == ("failed", 2, 0)
    assert not _next(engine, settings, kind, clock)
    [counts] = queue_status(engine, clock.now)
    assert (counts.kind, counts.failed, counts.queued) == ("count", 1, 0)
    assert retry_job(engine, failed.id)
    assert not retry_job(engine, failed.id)
    assert _row(engine).state == "queued"


@pytest.mark.parametrize("transactional", [True, False])
def test_a_job_whose_worker_died_runs_again_once(engine, settings, transactional):
    clock, kind = Clock(), _counting(transactional=transactional)
    add_jobs(engine, [NewJob("count")], clock.now)
    lease = timedelta(seconds=settings.jobs_lease_seconds)
    with write_transaction(engine) as conn:  # a worker takes it, then is killed
        dead = store.claim_job(conn, "host:dead", clock.now, lease, alone=True)
    assert dead is not None
    with write_transaction(engine) as conn:
        assert store.requeue_lost(conn, clock.now + lease / 2) == 0, "its lease still runs"
    clock.now += lease + timedelta(seconds=1)
    with write_transaction(engine) as conn:
        assert store.requeue_lost(conn, clock.now) == 1
    assert _next(engine, settings, kind, clock, name="host:alive")
    row = _row(engine)
    assert (row.state, row.attempts, row.worker, _runs(engine)) == ("done", 2, "host:alive", 1)
    with write_transaction(engine) as conn:  # the dead worker's late word changes nothing
        assert not store.finish_job(conn, dead, clock.now)


def test_a_transactional_job_that_lost_its_lease_records_nothing(engine, settings):
    clock = Clock()
    add_jobs(engine, [NewJob("count")], clock.now)
    lease = timedelta(seconds=settings.jobs_lease_seconds)
    with write_transaction(engine) as conn:
        slow = store.claim_job(conn, "host:slow", clock.now, lease, alone=True)
    clock.now += lease * 2
    with write_transaction(engine) as conn:
        store.requeue_lost(conn, clock.now)
    assert _next(engine, settings, _counting(transactional=True), clock, name="host:fast")
    with pytest.raises(service.LeaseLost):  # the slow worker finishes after all
        service._run(
            engine, settings, {"count": _counting(transactional=True)}, slow, threading.Event(), clock, None
        )
    assert _runs(engine) == 1


def test_a_kind_this_version_lacks_fails_at_once(engine, settings):
    clock = Clock()
    add_jobs(engine, [NewJob("from-the-future")], clock.now)
    assert _next(engine, settings, _counting(transactional=True), clock)
    row = _row(engine)
    assert (row.state, row.attempts) == ("failed", 1)
    assert "no job kind 'from-the-future'" in row.last_error


def test_two_schedulers_at_the_same_moments_queue_each_slot_once(engine, settings):
    settings = settings.replace(sync_interval_hours=6, embed_on_sync=True, digest_schedule=True)
    moments = [T0, T0 + timedelta(seconds=5), T0 + timedelta(minutes=5)]
    start = threading.Barrier(2)
    added = []

    def scheduler() -> None:
        start.wait()
        for moment in moments:
            added.append(schedule_jobs(engine, settings, moment))

    threads = [threading.Thread(target=scheduler) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    with engine.connect() as conn:
        keys = sorted(conn.execute(select(jobs.c.unique_key)).scalars())
    assert keys == [
        "digests@2026-12-07T12:00:00+00:00",
        "digests@2026-12-07T12:05:00+00:00",
        "embed@2026-12-07T12:00:00+00:00",
        "embed@2026-12-07T12:05:00+00:00",
        "prune@2026-12-07T00:00:00+00:00",
        "sync@2026-12-07T12:00:00+00:00",
    ]
    assert sum(added) == len(keys), "each scheduler counts only the jobs it added"


def test_the_product_kinds_run_on_an_empty_site(engine, settings):
    """noop and prune (transactional) and alerts run through the worker as they would in
    `paperboy worker`: done, once each."""
    clock = Clock()
    add_jobs(engine, [NewJob("noop"), NewJob("prune"), NewJob("alerts")], clock.now)
    heartbeat = service._Heartbeat(engine, timedelta(seconds=60), clock, threading.Event())
    report = WorkerReport()
    while service.run_next_job(
        engine, settings, KINDS, "host:1", threading.Event(), clock, report, heartbeat
    ):
        pass
    assert (report.done, report.failed) == (3, 0)
    with engine.connect() as conn:
        assert set(conn.execute(select(jobs.c.state)).scalars()) == {"done"}


@pytest.mark.parametrize("transactional", [True, False])
def test_a_worker_runs_every_job_once_and_stops_when_asked(engine, settings, transactional):
    """run_worker takes each next job in the transaction that completes the last one."""
    kind = _counting(transactional=transactional)
    add_jobs(engine, [NewJob("count") for _ in range(30)])
    stop = threading.Event()
    reports = []
    thread = threading.Thread(
        target=lambda: reports.append(
            service.run_worker(engine, settings, {"count": kind}, stop=stop, poll=0.01)
        )
    )
    thread.start()
    try:
        deadline = time.monotonic() + 60
        while _runs(engine) < 30 and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        stop.set()
        thread.join(timeout=30)
    assert (_runs(engine), reports[0].done, reports[0].failed) == (30, 30, 0)
    with engine.connect() as conn:
        assert set(conn.execute(select(jobs.c.state)).scalars()) == {"done"}
