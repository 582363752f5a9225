"""The job queue: jobs added by any process, run by `paperboy worker` on any host.

A worker takes the oldest due job (`FOR UPDATE SKIP LOCKED`: workers never wait for each other)
under a lease of `jobs_lease_seconds`, which a heartbeat thread renews while the job runs. A
worker killed mid-job leaves its lease to run out; the next worker to look puts the job back in
the queue (or fails it, on its last try) and it runs again. A *transactional* kind does its
work on the connection that marks the job done, after checking that it still holds the lease:
its effect and its completion commit together, so it happens exactly once. The other kinds
(sync, embedding, digests, imports) are idempotent: a second run after a lost lease finds the
work done (sync's claim and content hashes, the vector store, the digest send log, an import's
own claim). A failed try goes back in the queue after an exponential back-off
(`jobs_retry_seconds`, doubled each try, at most an hour), until its `max_attempts`.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import Connection, Engine
from sqlalchemy.exc import SQLAlchemyError

from paperboy.config import Settings
from paperboy.domain.jobs import FAILED, RUNNING, Job, KindCounts, NewJob, retry_delay
from paperboy.storage import jobs as store
from paperboy.storage.engine import now_utc
from paperboy.storage.jobs import JobRow
from paperboy.storage.transactions import write_transaction

__all__ = [
    "JobContext",
    "JobKind",
    "QueueView",
    "WorkerReport",
    "add_jobs",
    "queue_status",
    "queue_view",
    "recent_failures",
    "retry_job",
    "run_next_job",
    "run_worker",
    "worker_name",
]

log = logging.getLogger(__name__)
Clock = Callable[[], datetime]
DATABASE_RETRY_S = 5.0


@dataclass(frozen=True, slots=True)
class JobContext:
    engine: Engine
    settings: Settings
    job: Job
    stop: threading.Event
    conn: Connection | None  # a transactional kind's connection, which also marks the job done


@dataclass(frozen=True, slots=True)
class JobKind:
    name: str
    run: Callable[[JobContext], None]
    transactional: bool = False


@dataclass(slots=True)
class WorkerReport:
    done: int = 0
    failed: int = 0  # tries that failed (retried later, or failed for good)
    lost: int = 0  # finished after their lease had gone to another worker: nothing recorded


class UnknownKind(LookupError):
    """A job of a kind this version does not know (queued by a newer one): failed at once."""


class LeaseLost(RuntimeError):
    """The job's lease ran out and another worker took it: this try records nothing."""


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def add_jobs(engine: Engine, new: Sequence[NewJob], now: datetime | None = None) -> int:
    """Queue jobs (due now); a periodic slot's job that some host already queued is left out."""
    with write_transaction(engine) as conn:
        return store.add_jobs(conn, new, now or now_utc())


def queue_status(engine: Engine, now: datetime | None = None) -> list[KindCounts]:
    with engine.connect() as conn:
        return store.kind_counts(conn, now or now_utc())


def recent_failures(engine: Engine, limit: int = 20) -> list[JobRow]:
    with engine.connect() as conn:
        return store.recent_jobs(conn, [FAILED], limit)


@dataclass(frozen=True, slots=True)
class QueueView:
    """The admin page: each kind's counts, the jobs running now and the latest failed ones."""

    counts: list[KindCounts]
    running: list[JobRow]
    failed: list[JobRow]


def queue_view(engine: Engine, limit: int = 50) -> QueueView:
    now = now_utc()
    with engine.connect() as conn:
        counts = store.kind_counts(conn, now)
        running = store.recent_jobs(conn, [RUNNING], limit)
        failed = store.recent_jobs(conn, [FAILED], limit)
    return QueueView(counts, running, failed)


def retry_job(engine: Engine, job_id: int) -> bool:
    """A failed job back in the queue, tries counted again from zero; False unless it had failed."""
    with write_transaction(engine) as conn:
        return store.retry_failed(conn, job_id, now_utc())


@dataclass(slots=True)
class _Heartbeat:
    """Renews the lease of the job its worker holds, every third of the lease."""

    engine: Engine
    lease: timedelta
    clock: Clock
    stop: threading.Event
    held: list[Job] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def hold(self, job: Job) -> None:
        with self.lock:
            self.held.append(job)

    def drop(self, job: Job) -> None:
        with self.lock:
            self.held.remove(job)

    def start(self) -> threading.Thread:
        thread = threading.Thread(target=self._beat, name="paperboy-job-heartbeat", daemon=True)
        thread.start()
        return thread

    def _beat(self) -> None:
        while not self.stop.wait(self.lease.total_seconds() / 3):
            with self.lock:
                held = list(self.held)
            if held:
                try:
                    with write_transaction(self.engine) as conn:
                        store.extend_leases(conn, held, self.clock() + self.lease)
                except Exception:  # the database is away: the next beat tries again
                    log.exception("job heartbeat failed")


def run_worker(
    engine: Engine,
    settings: Settings,
    kinds: Mapping[str, JobKind],
    *,
    stop: threading.Event,
    poll: float = 1.0,
    clock: Clock = now_utc,
    name: str | None = None,
) -> WorkerReport:
    """Run jobs one at a time until `stop` is set (a job in progress is finished first). A job
    done takes the next one in the transaction that marks it done: one commit a job."""
    name = name or worker_name()
    heartbeat = _Heartbeat(engine, timedelta(seconds=settings.jobs_lease_seconds), clock, stop)
    heartbeat.start()
    report = WorkerReport()
    next_sweep, job = 0.0, None
    while not stop.is_set():
        try:
            if time.monotonic() >= next_sweep:  # lost leases: a few times a lease, not every claim
                with write_transaction(engine) as conn:
                    store.requeue_lost(conn, clock())
                next_sweep = time.monotonic() + heartbeat.lease.total_seconds() / 4
            job = job or _claim(engine, name, clock, heartbeat)
            if job is not None:
                job = _run_held(engine, settings, kinds, job, stop, clock, report, heartbeat, chain=True)
                continue
        except SQLAlchemyError:  # the database restarted or is away: its jobs wait in it
            log.exception("job worker: the database failed; trying again in %g s", DATABASE_RETRY_S)
            job = None  # a job taken before is the lease's to give back
            stop.wait(DATABASE_RETRY_S)
        stop.wait(poll)
    if job is not None:  # taken as the last one finished, then asked to stop: back in the queue
        with write_transaction(engine) as conn:
            store.release_job(conn, job)
    return report


def run_next_job(
    engine: Engine,
    settings: Settings,
    kinds: Mapping[str, JobKind],
    name: str,
    stop: threading.Event,
    clock: Clock,
    report: WorkerReport,
    heartbeat: _Heartbeat,
) -> bool:
    """Take and run one due job; False when none was due."""
    job = _claim(engine, name, clock, heartbeat)
    if job is None:
        return False
    _run_held(engine, settings, kinds, job, stop, clock, report, heartbeat, chain=False)
    return True


def _claim(engine: Engine, name: str, clock: Clock, heartbeat: _Heartbeat) -> Job | None:
    with write_transaction(engine) as conn:
        job = store.claim_job(conn, name, clock(), heartbeat.lease, alone=True)
    if job is not None:
        heartbeat.hold(job)
    return job


def _run_held(
    engine: Engine,
    settings: Settings,
    kinds: Mapping[str, JobKind],
    job: Job,
    stop: threading.Event,
    clock: Clock,
    report: WorkerReport,
    heartbeat: _Heartbeat,
    *,
    chain: bool,
) -> Job | None:
    """Run a job this worker holds; with `chain`, the next job it took (held now), if any."""
    taken: Job | None = None
    try:
        taken = _run(engine, settings, kinds, job, stop, clock, heartbeat.lease if chain else None)
        report.done += 1
    except LeaseLost:
        report.lost += 1
        log.warning("job %d (%s) finished after its lease ran out: its result is dropped", job.id, job.kind)
    except Exception as exc:
        report.failed += 1
        _record_failure(engine, settings, job, exc, clock)
    finally:
        heartbeat.drop(job)
    if taken is not None:
        heartbeat.hold(taken)
    return taken


def _run(
    engine: Engine,
    settings: Settings,
    kinds: Mapping[str, JobKind],
    job: Job,
    stop: threading.Event,
    clock: Clock,
    lease: timedelta | None,
) -> Job | None:
    """Run the job and mark it done; with a `lease`, take the next due job in that transaction."""
    kind = kinds.get(job.kind)
    if kind is None:
        raise UnknownKind(f"no job kind {job.kind!r} in this version of paperboy")
    if not kind.transactional:
        kind.run(JobContext(engine, settings, job, stop, None))
    with write_transaction(engine) as conn:
        if not store.finish_job(conn, job, clock()):  # first: it holds the job's row from here
            raise LeaseLost()
        if kind.transactional:
            kind.run(JobContext(engine, settings, job, stop, conn))
        if lease is None or stop.is_set():
            return None
        return store.claim_job(conn, job.worker, clock(), lease, alone=False)


def _record_failure(engine: Engine, settings: Settings, job: Job, exc: Exception, clock: Clock) -> None:
    now = clock()
    last = job.attempts >= job.max_attempts or isinstance(exc, UnknownKind)
    retry_at = None if last else now + retry_delay(job.attempts, settings.jobs_retry_seconds)
    log.warning("job %d (%s) failed on try %d: %s", job.id, job.kind, job.attempts, exc, exc_info=exc)
    with write_transaction(engine) as conn:
        store.fail_job(conn, job, now, f"{type(exc).__name__}: {exc}", retry_at)
