"""`paperboy worker` (run jobs from the queue in the database) and `paperboy jobs` (the queue:
status, add a job, retry a failed one); docs/operations.md, "Jobs"."""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading
from types import FrameType

from paperboy.cli_common import CommandError, add_command, migrated_engine
from paperboy.config import Settings
from paperboy.domain.jobs import KindCounts, NewJob


def add_jobs_commands(commands: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    worker = add_command(
        commands,
        "worker",
        "Run jobs from the queue in the database (sync, embedding, digests, alerts, library "
        "imports) until stopped; run any number, on any host sharing the PostgreSQL database.",
        _worker,
    )
    worker.add_argument(
        "--no-schedule",
        action="store_true",
        help="take jobs only; leave queuing the periodic ones to other hosts",
    )
    jobs = add_command(
        commands, "jobs", "The job queue: each kind's jobs waiting, running and failed.", _status
    )
    actions = jobs.add_subparsers(title="actions", metavar="ACTION")
    add_command(actions, "status", "Each kind's jobs due, waiting, running, failed (the default).", _status)
    add = add_command(actions, "add", "Queue a job now (a worker takes it).", _add)
    add.add_argument(
        "kind", metavar="KIND", help="sync, embed, index, digests, alerts, library_imports or noop"
    )
    retry = add_command(actions, "retry", "Queue a failed job again, its tries counted from zero.", _retry)
    retry.add_argument("job_id", metavar="ID", type=int)


def _worker(args: argparse.Namespace, settings: Settings) -> int:
    from paperboy.services.database import migrate_database, open_database
    from paperboy.services.job_kinds import KINDS
    from paperboy.services.job_schedule import start_scheduler
    from paperboy.services.jobs import run_worker, worker_name

    if not logging.getLogger().handlers:
        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    stop = threading.Event()

    def ask_to_stop(signum: int, frame: FrameType | None) -> None:
        stop.set()  # the job in progress finishes first

    signal.signal(signal.SIGTERM, ask_to_stop)
    signal.signal(signal.SIGINT, ask_to_stop)
    engine = open_database(settings, ping=False)
    try:
        migrate_database(engine)
        if not args.no_schedule:
            start_scheduler(engine, settings, stop=stop)
        print(f"paperboy: worker {worker_name()} taking jobs", file=sys.stderr)
        report = run_worker(engine, settings, KINDS, stop=stop)
    finally:
        engine.dispose()
    print(f"paperboy: worker stopped: {report.done} done, {report.failed} failed tries", file=sys.stderr)
    return 0


def _status(args: argparse.Namespace, settings: Settings) -> int:
    from paperboy.services.jobs import queue_status, recent_failures

    with migrated_engine(settings) as engine:
        counts = queue_status(engine)
        failures = recent_failures(engine, limit=5)
    print(format_counts(counts))
    for job in failures:
        print(f"failed: job {job.id} ({job.kind}) after {job.attempts} tries: {job.last_error}")
    return 0


def format_counts(counts: list[KindCounts]) -> str:
    """The queue as a table: one line a kind."""
    header = ("kind", "due", "waiting", "running", "failed", "done 1h", "oldest due")
    lines = [_row(header)]
    for c in counts:
        age = f"{c.oldest_due_s:.0f} s" if c.queued else "-"
        lines.append(_row((c.kind, c.queued, c.waiting, c.running, c.failed, c.done_last_hour, age)))
    if not counts:
        lines.append("(no jobs)")
    return "\n".join(lines)


def _row(cells: tuple[object, ...]) -> str:
    kind, *numbers, age = cells
    return f"{kind!s:<16}" + "".join(f" {n!s:>7}" for n in numbers) + f"  {age}"


def _add(args: argparse.Namespace, settings: Settings) -> int:
    from paperboy.services.job_kinds import KINDS
    from paperboy.services.jobs import add_jobs

    if args.kind not in KINDS or args.kind == "prune":
        raise CommandError(f"no job kind {args.kind!r}: one of {', '.join(k for k in KINDS if k != 'prune')}")
    with migrated_engine(settings) as engine:
        add_jobs(engine, [NewJob(args.kind)])
    print(f"paperboy: queued a {args.kind} job")
    return 0


def _retry(args: argparse.Namespace, settings: Settings) -> int:
    from paperboy.services.jobs import retry_job

    with migrated_engine(settings) as engine:
        if not retry_job(engine, args.job_id):
            raise CommandError(f"job {args.job_id} has not failed (or does not exist)")
    print(f"paperboy: job {args.job_id} queued again")
    return 0
