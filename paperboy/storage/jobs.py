"""The job queue's SQL (services/jobs.py): jobs added (a periodic slot's at most once), taken
with `FOR UPDATE SKIP LOCKED` under a lease, finished, failed or put back; counts for
`paperboy jobs` and the admin page. Every change to a taken job names its lease (id, worker
and try), so that a worker whose lease ran out and was given to another changes nothing."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Connection, case, func, select, text, update
from sqlalchemy.sql.elements import ColumnElement

from paperboy.domain.jobs import DONE, FAILED, QUEUED, RUNNING, Job, KindCounts, NewJob
from paperboy.storage.dialect import insert_into
from paperboy.storage.schema import jobs

_ASYNC_COMMIT = text("SET LOCAL synchronous_commit = off")
LOST = "its worker stopped before it finished (the lease ran out)"


@dataclass(frozen=True, slots=True)
class JobRow:
    """A job as the admin page and `paperboy jobs` list it."""

    id: int
    kind: str
    state: str
    attempts: int
    max_attempts: int
    run_after: datetime
    worker: str | None
    finished_at: datetime | None
    last_error: str | None


def add_jobs(conn: Connection, new: Sequence[NewJob], now: datetime) -> int:
    """Queue these jobs, due now; one whose unique key a job already holds is left out. Returns
    how many were added."""
    if not new:
        return 0
    rows = [
        {
            "kind": job.kind,
            "args": json.dumps(job.args, sort_keys=True),
            "unique_key": job.unique_key,
            "state": QUEUED,
            "attempts": 0,
            "max_attempts": job.max_attempts,
            "run_after": now,
            "created_at": now,
        }
        for job in new
    ]
    statement = insert_into(conn, jobs).on_conflict_do_nothing(index_elements=[jobs.c.unique_key])
    # Counted from RETURNING: a many-row insert's rowcount is -1 under psycopg.
    return len(conn.execute(statement.returning(jobs.c.id), rows).all())


def claim_job(conn: Connection, worker: str, now: datetime, lease: timedelta, *, alone: bool) -> Job | None:
    """Take the oldest due job for `worker` until `now + lease`; None when none is due. Jobs
    other workers are taking at this moment are skipped, not waited for (PostgreSQL). `alone`:
    the claim is all its transaction does (not a job's completion, which must reach the disk)."""
    oldest = (
        select(jobs.c.id)
        .where(jobs.c.state == QUEUED, jobs.c.run_after <= now)
        .order_by(jobs.c.run_after, jobs.c.id)
        .limit(1)
        .with_for_update(skip_locked=True)
        .scalar_subquery()
    )
    if alone and conn.dialect.name == "postgresql":
        # The claim need not survive a crash of the database server: a claim lost with it
        # leaves the job queued, to run then (every kind may run again, see services/jobs.py).
        # This saves one of the two flushes to disk a job costs.
        conn.execute(_ASYNC_COMMIT)
    taken = conn.execute(
        update(jobs)
        .where(jobs.c.id == oldest)
        .values(
            state=RUNNING,
            attempts=jobs.c.attempts + 1,
            worker=worker,
            lease_until=now + lease,
            started_at=now,
        )
        .returning(jobs.c.id, jobs.c.kind, jobs.c.args, jobs.c.attempts, jobs.c.max_attempts)
    ).first()
    if taken is None:
        return None
    return Job(taken.id, taken.kind, json.loads(taken.args), taken.attempts, taken.max_attempts, worker)


def _held(job: Job) -> ColumnElement[bool]:
    return (
        (jobs.c.id == job.id)
        & (jobs.c.state == RUNNING)
        & (jobs.c.worker == job.worker)
        & (jobs.c.attempts == job.attempts)
    )


def extend_leases(conn: Connection, held: Sequence[Job], until: datetime) -> int:
    """A worker's heartbeat: its jobs' leases now run to `until`."""
    return sum(
        int(conn.execute(update(jobs).where(_held(job)).values(lease_until=until)).rowcount) for job in held
    )


def finish_job(conn: Connection, job: Job, now: datetime) -> bool:
    """Mark a job done; False (nothing changed) when its lease was lost to another worker."""
    done = update(jobs).where(_held(job)).values(state=DONE, finished_at=now, lease_until=None)
    return int(conn.execute(done).rowcount) == 1


def fail_job(conn: Connection, job: Job, now: datetime, error: str, retry_at: datetime | None) -> bool:
    """A failed try: back in the queue from `retry_at`, or failed for good when that is None."""
    values: dict[str, object] = {"last_error": error[:2000], "lease_until": None}
    if retry_at is None:
        values |= {"state": FAILED, "finished_at": now}
    else:
        values |= {"state": QUEUED, "run_after": retry_at}
    return int(conn.execute(update(jobs).where(_held(job)).values(**values)).rowcount) == 1


def release_job(conn: Connection, job: Job) -> bool:
    """Give back a job taken but not started: queued again, this try not counted."""
    back = update(jobs).where(_held(job)).values(state=QUEUED, attempts=jobs.c.attempts - 1, lease_until=None)
    return int(conn.execute(back).rowcount) == 1


def requeue_lost(conn: Connection, now: datetime) -> int:
    """Jobs whose lease ran out (their worker was killed, or its host lost) go back in the queue,
    or fail when that was their last try."""
    last_try = jobs.c.attempts >= jobs.c.max_attempts
    # A row locked now is being finished (a transactional job's completion holds its row until
    # it commits): skipped, not waited for.
    expired = (
        select(jobs.c.id)
        .where(jobs.c.state == RUNNING, jobs.c.lease_until < now)
        .with_for_update(skip_locked=True)
    )
    lost = conn.execute(
        update(jobs)
        .where(jobs.c.id.in_(expired.scalar_subquery()))
        .values(
            state=case((last_try, FAILED), else_=QUEUED),
            finished_at=case((last_try, now), else_=None),
            run_after=now,
            lease_until=None,
            last_error=LOST,
        )
    )
    return int(lost.rowcount)


def retry_failed(conn: Connection, job_id: int, now: datetime) -> bool:
    """A failed job queued again, with its tries counted from zero (the admin page's Retry)."""
    again = (
        update(jobs)
        .where(jobs.c.id == job_id, jobs.c.state == FAILED)
        .values(state=QUEUED, attempts=0, run_after=now, finished_at=None)
    )
    return int(conn.execute(again).rowcount) == 1


def delete_finished(conn: Connection, before: datetime) -> int:
    """Forget done and failed jobs that finished before `before` (their slots are long past)."""
    old = jobs.delete().where(jobs.c.state.in_((DONE, FAILED)), jobs.c.finished_at < before)
    return int(conn.execute(old).rowcount)


def kind_counts(conn: Connection, now: datetime) -> list[KindCounts]:
    """Each kind's queue: due, waiting, running, failed, done in the last hour, oldest due age."""
    due = (jobs.c.state == QUEUED) & (jobs.c.run_after <= now)

    def count(condition: ColumnElement[bool]) -> ColumnElement[int]:
        return func.count().filter(condition)

    rows = conn.execute(
        select(
            jobs.c.kind,
            count(due),
            count((jobs.c.state == QUEUED) & (jobs.c.run_after > now)),
            count(jobs.c.state == RUNNING),
            count(jobs.c.state == FAILED),
            count((jobs.c.state == DONE) & (jobs.c.finished_at >= now - timedelta(hours=1))),
            func.min(case((due, jobs.c.run_after))),
        )
        .group_by(jobs.c.kind)
        .order_by(jobs.c.kind)
    ).all()
    return [
        KindCounts(kind, queued, waiting, running, failed, done, _age(now, oldest))
        for kind, queued, waiting, running, failed, done, oldest in rows
    ]


def _age(now: datetime, oldest: datetime | None) -> float:
    if oldest is None:
        return 0.0
    if oldest.tzinfo is None:  # SQLite gives naive UTC
        oldest = oldest.replace(tzinfo=now.tzinfo)
    return max((now - oldest).total_seconds(), 0.0)


def recent_jobs(conn: Connection, states: Sequence[str], limit: int) -> list[JobRow]:
    """The latest jobs in these states, newest first."""
    rows = conn.execute(
        select(
            jobs.c.id,
            jobs.c.kind,
            jobs.c.state,
            jobs.c.attempts,
            jobs.c.max_attempts,
            jobs.c.run_after,
            jobs.c.worker,
            jobs.c.finished_at,
            jobs.c.last_error,
        )
        .where(jobs.c.state.in_(states))
        .order_by(jobs.c.id.desc())
        .limit(limit)
    ).all()
    return [JobRow(*row) for row in rows]
