"""Periodic jobs, scheduled once across every host: each periodic job has slots (a sync every
`sync_interval_hours`, embedding every 5 minutes, digests every 5 minutes from
`digest_send_hour`, the queue's pruning daily), and a slot's job carries the slot as its unique
key. Every `paperboy worker`, and every `serve` with `jobs_in_workers`, runs this scheduler;
whichever asks first queues the slot's job, the others' inserts find the key taken."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy import Engine

from paperboy.config import Settings
from paperboy.domain.jobs import NewJob, slot_job
from paperboy.services.jobs import add_jobs
from paperboy.storage.engine import now_utc

log = logging.getLogger(__name__)
SCHEDULE_EVERY_S = 5.0  # how often a scheduler looks: a slot's job is queued this long after it opens
EMBED_EVERY = timedelta(minutes=5)  # papers from `paperboy import` wait at most this for vectors
DIGESTS_EVERY = timedelta(minutes=5)  # a due edition goes out at most this long after it is due
IMPORTS_EVERY = timedelta(seconds=5)  # a member's import waits at most this before its fetch starts
PRUNE_EVERY = timedelta(days=1)


def due_jobs(settings: Settings, now: datetime, *, imports_waiting: bool, empty: bool) -> list[NewJob]:
    """The periodic jobs whose current slot is open at `now`."""
    due: list[NewJob] = [slot_job("prune", now, PRUNE_EVERY)]
    if settings.sync_interval_hours > 0:
        due.append(slot_job("sync", now, timedelta(hours=settings.sync_interval_hours)))
    elif settings.sync_on_empty and empty:
        due.append(NewJob("sync", unique_key="sync@first"))
    if settings.embed_on_sync:
        due.append(slot_job("embed", now, EMBED_EVERY))
    if settings.digest_schedule and now.hour >= settings.digest_send_hour:
        due.append(slot_job("digests", now, DIGESTS_EVERY, today=now.date().isoformat()))
    if imports_waiting:
        due.append(slot_job("library_imports", now, IMPORTS_EVERY))
    return due


def schedule_jobs(engine: Engine, settings: Settings, now: datetime | None = None) -> int:
    """Queue the due periodic jobs no host has queued yet; how many this call added."""
    from paperboy.services.library_imports import imports_waiting
    from paperboy.services.sync import catalogue_is_empty

    now = now or now_utc()
    empty = settings.sync_interval_hours <= 0 and settings.sync_on_empty and catalogue_is_empty(engine)
    due = due_jobs(settings, now, imports_waiting=imports_waiting(engine, now), empty=empty)
    return add_jobs(engine, due, now)


def start_scheduler(
    engine: Engine,
    settings: Settings,
    *,
    stop: threading.Event,
    every: float = SCHEDULE_EVERY_S,
    clock: Callable[[], datetime] = now_utc,
) -> threading.Thread:
    thread = threading.Thread(
        target=_loop, args=(engine, settings, stop, every, clock), name="paperboy-job-schedule", daemon=True
    )
    thread.start()
    return thread


def _loop(
    engine: Engine, settings: Settings, stop: threading.Event, every: float, clock: Callable[[], datetime]
) -> None:
    while not stop.is_set():
        try:
            schedule_jobs(engine, settings, clock())
        except Exception:  # the database is away: the next look tries again
            log.exception("job schedule failed")
        stop.wait(every)
