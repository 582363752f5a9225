"""The site's state for /metrics, read from the database at scrape time (web/metrics.py): every
web process, on every host, answers a scrape with the same numbers.

Job queues are read through `QUEUE_READERS`: one function per table of jobs, each returning the
`QueueState` of every queue it holds, from one connection: members' library imports
(`library_imports`), and the job table of `paperboy worker` (services/jobs.py), one queue per job
kind, named `job:<kind>` and listed for every kind this version runs, with zeros when none waits.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, Engine

from paperboy.domain.jobs import KindCounts
from paperboy.integrations.embedder import model_id_for
from paperboy.services.job_kinds import KINDS
from paperboy.storage.digests import FINAL
from paperboy.storage.engine import now_utc
from paperboy.storage.jobs import kind_counts
from paperboy.storage.site_state import latest_edition_progress, library_import_queue, sync_succeeded_at
from paperboy.storage.vectors import count_papers_needing_embeddings


@dataclass(frozen=True, slots=True)
class QueueState:
    queue: str
    queued: int  # waiting for a worker
    running: int  # taken by a worker
    oldest_queued_s: float  # age of the oldest waiting one; 0 when none waits
    waiting: int = 0  # not due yet: a retry after its back-off (the job table's)


@dataclass(frozen=True, slots=True)
class DigestProgress:
    edition: str  # "daily:2026-11-27"
    sent: int
    total: int  # subscribers it is for: final send-log rows and those still due
    finished: bool


@dataclass(frozen=True, slots=True)
class SiteState:
    sync_lag_s: float | None  # since the last sync that ended without a failure; None: never
    papers_waiting_for_vectors: int  # the embedder's backlog
    queues: tuple[QueueState, ...]
    digest: DigestProgress | None  # the latest edition; None before the first


QueueReader = Callable[[Connection, datetime], tuple[QueueState, ...]]


def library_imports_queue(conn: Connection, now: datetime) -> tuple[QueueState, ...]:
    counts = library_import_queue(conn)
    oldest = counts.oldest_queued_at
    age = max(0.0, (now - oldest).total_seconds()) if oldest is not None else 0.0
    return (QueueState("library_imports", counts.queued, counts.running, age),)


def job_queues(conn: Connection, now: datetime) -> tuple[QueueState, ...]:
    """The job table's queues, one per kind: every kind this version runs (a steady set of
    series), and any other kind found queued (by a newer version)."""
    found = {counts.kind: counts for counts in kind_counts(conn, now)}
    return tuple(_job_queue(kind, found.get(kind)) for kind in sorted(KINDS.keys() | found.keys()))


def _job_queue(kind: str, counts: KindCounts | None) -> QueueState:
    if counts is None:
        return QueueState(f"job:{kind}", 0, 0, 0.0)
    return QueueState(f"job:{kind}", counts.queued, counts.running, counts.oldest_due_s, counts.waiting)


QUEUE_READERS: tuple[QueueReader, ...] = (library_imports_queue, job_queues)


def read_site_state(
    engine: Engine, embedder: str, *, queue_readers: Sequence[QueueReader] = QUEUE_READERS
) -> SiteState:
    """Everything /metrics reports from the database, through one connection."""
    now = now_utc()
    with engine.connect() as conn:
        succeeded = sync_succeeded_at(conn)
        waiting = count_papers_needing_embeddings(conn, model_id_for(embedder))
        queues = tuple(queue for read in queue_readers for queue in read(conn, now))
        digest = _digest_progress(conn)
    lag = max(0.0, (now - succeeded).total_seconds()) if succeeded is not None else None
    return SiteState(lag, waiting, queues, digest)


def _digest_progress(conn: Connection) -> DigestProgress | None:
    progress = latest_edition_progress(conn)
    if progress is None:
        return None
    final = sum(progress.counts.get(status, 0) for status in FINAL)
    return DigestProgress(
        progress.key, progress.counts.get("sent", 0), final + progress.waiting, progress.finished
    )
