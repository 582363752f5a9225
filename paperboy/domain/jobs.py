"""Jobs in the database, the pure part: what a job is, how long a failed one waits before its
next try, and which periodic jobs fall due when (services/jobs.py, services/job_schedule.py)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

QUEUED, RUNNING, DONE, FAILED = "queued", "running", "done", "failed"
MAX_RETRY_DELAY = timedelta(hours=1)


@dataclass(frozen=True, slots=True)
class Job:
    """A claimed job: `attempts` counts this try, and with `worker` it is the lease's identity."""

    id: int
    kind: str
    args: dict[str, object]
    attempts: int
    max_attempts: int
    worker: str


@dataclass(frozen=True, slots=True)
class NewJob:
    kind: str
    args: dict[str, object] = field(default_factory=dict)
    unique_key: str | None = None  # at most one job ever holds it: a periodic slot
    max_attempts: int = 5


@dataclass(frozen=True, slots=True)
class KindCounts:
    """One kind's line of `paperboy jobs` and the admin page."""

    kind: str
    queued: int  # due now
    waiting: int  # a retry or a job for later
    running: int
    failed: int
    done_last_hour: int
    oldest_due_s: float  # age of the oldest job that is due and not yet taken (0: none)


def retry_delay(attempts: int, base_seconds: float) -> timedelta:
    """Exponential back-off: base, twice that, four times … after the 1st, 2nd, 3rd failed try,
    at most an hour."""
    exponent = min(max(attempts - 1, 0), 30)
    return min(timedelta(seconds=base_seconds * 2**exponent), MAX_RETRY_DELAY)


def slot_start(moment: datetime, every: timedelta) -> datetime:
    """The start of the period of length `every` (counted from the Unix epoch) that holds
    `moment`: every host computes the same one, so a slot's job is made once."""
    epoch = datetime(1970, 1, 1, tzinfo=UTC)
    whole = (moment - epoch) // every
    return epoch + whole * every


def slot_job(kind: str, moment: datetime, every: timedelta, **args: object) -> NewJob:
    start = slot_start(moment, every)
    return NewJob(kind, dict(args), unique_key=f"{kind}@{start.isoformat(timespec='seconds')}")
