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
    """Run jobs one at a time until `stop` is set (a job in progress is finished first)."""
    name = name or worker_name()
    lease = timedelta(seconds=settings.jobs_lease_seconds)
    heartbeat = _Heartbeat(engine, lease, clock, stop)
    heartbeat.start()
    report = WorkerReport()
    next_sweep = 0.0
    while not stop.is_set():
        try:
            if time.monotonic() >= next_sweep:  # lost leases: a few times a lease, not every claim
                with write_transaction(engine) as conn:
                    store.requeue_lost(conn, clock())
                next_sweep = time.monotonic() + lease.total_seconds() / 4
            if run_next_job(engine, settings, kinds, name, stop, clock, report, heartbeat):
                continue
        except SQLAlchemyError:  # the database restarted or is away: its jobs wait in it
            log.exception("job worker: the database failed; trying again in %g s", DATABASE_RETRY_S)
            stop.wait(DATABASE_RETRY_S)
        stop.wait(poll)
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
    with write_transaction(engine) as conn:
        job = store.claim_job(conn, name, clock(), heartbeat.lease)
    if job is None:
        return False
    with heartbeat.lock:
        heartbeat.held.append(job)
    try:
        _run(engine, settings, kinds, job, stop, clock)
        report.done += 1
    except LeaseLost:
        report.lost += 1
        log.warning("job %d (%s) finished after its lease ran out: its result is dropped", job.id, job.kind)
    except Exception as exc:
        report.failed += 1
        _record_failure(engine, settings, job, exc, clock)
    finally:
        with heartbeat.lock:
            heartbeat.held.remove(job)
    return True


def _run(
    engine: Engine,
    settings: Settings,
    kinds: Mapping[str, JobKind],
    job: Job,
    stop: threading.Event,
    clock: Clock,
) -> None:
    kind = kinds.get(job.kind)
    if kind is None:
        raise UnknownKind(f"no job kind {job.kind!r} in this version of paperboy")
    if kind.transactional:
        with write_transaction(engine) as conn:
            if not store.finish_job(conn, job, clock()):  # first: it holds the job's row from here
                raise LeaseLost()
            kind.run(JobContext(engine, settings, job, stop, conn))
        return
    kind.run(JobContext(engine, settings, job, stop, None))
    with write_transaction(engine) as conn:
        if not store.finish_job(conn, job, clock()):
            raise LeaseLost()


def _record_failure(engine: Engine, settings: Settings, job: Job, exc: Exception, clock: Clock) -> None:
    now = clock()
    last = job.attempts >= job.max_attempts or isinstance(exc, UnknownKind)
    retry_at = None if last else now + retry_delay(job.attempts, settings.jobs_retry_seconds)
    log.warning("job %d (%s) failed on try %d: %s", job.id, job.kind, job.attempts, exc, exc_info=exc)
    with write_transaction(engine) as conn:
        store.fail_job(conn, job, now, f"{type(exc).__name__}: {exc}", retry_at)
