"""Syncing in the background of `paperboy serve`, so that a site run without cron stays current:
a first sync at once when the catalogue is empty (a new user sees real papers within minutes),
then one every `sync_interval_hours`. Runs in the `serve` process, never in its web workers."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from sqlalchemy import Engine

from paperboy.config import Settings
from paperboy.services.sync import catalogue_is_empty, sync_catalogue, sync_is_running

log = logging.getLogger(__name__)
SyncJob = Callable[[Engine, Settings], object]
FIRST_SYNC_RETRY_S = 30.0


def start_background_sync(
    engine: Engine,
    settings: Settings,
    *,
    stop: threading.Event | None = None,
    job: SyncJob = sync_catalogue,
) -> threading.Thread | None:
    """Start the schedule; None when there is nothing to do (no first sync, no interval)."""
    first = settings.sync_on_empty and catalogue_is_empty(engine)
    if not first and settings.sync_interval_hours <= 0:
        return None
    thread = threading.Thread(
        target=_schedule,
        args=(engine, settings, first, stop or threading.Event(), job),
        name="paperboy-sync",
        daemon=True,
    )
    thread.start()
    return thread


def _schedule(engine: Engine, settings: Settings, first: bool, stop: threading.Event, job: SyncJob) -> None:
    # The first sync waits for one that is running elsewhere (a cron job, another host), then
    # runs unless that one filled the catalogue; an interrupted one goes stale (sync_state.py).
    while first and not _run_once(engine, settings, job) and catalogue_is_empty(engine):
        if stop.wait(FIRST_SYNC_RETRY_S):
            return
    interval = settings.sync_interval_hours * 3600
    while interval > 0 and not stop.wait(interval):
        _run_once(engine, settings, job)


def _run_once(engine: Engine, settings: Settings, job: SyncJob) -> bool:
    """One sync, unless another process's sync is still running (then False); failures are
    logged, not fatal (the sync records them for the front page, and the next turn tries again)."""
    try:
        if sync_is_running(engine):
            log.info("background sync skipped: another sync is running")
            return False
        job(engine, settings)
    except Exception:
        log.exception("background sync failed")
    return True


EMBED_EVERY_S = 300.0  # papers written by another process (`paperboy import`) wait at most this


def start_background_embedding(
    engine: Engine, settings: Settings, *, stop: threading.Event | None = None
) -> threading.Thread | None:
    """Embed, in the background of `serve`, papers no sync embedded (say, from `paperboy import`
    or written before the search index existed), then look again every few minutes. One thread
    of torch, so the web workers keep the other cores. None when `embed_on_sync` is off."""
    if not settings.embed_on_sync:
        return None
    thread = threading.Thread(
        target=_embed_loop,
        args=(engine, settings, stop or threading.Event()),
        name="paperboy-embed",
        daemon=True,
    )
    thread.start()
    return thread


def _embed_loop(engine: Engine, settings: Settings, stop: threading.Event) -> None:
    from paperboy.services.search_index import embed_new_papers

    while True:
        try:
            report = embed_new_papers(engine, settings, threads=1)
            if report.embedded:
                log.info("%s", report.summary())
        except Exception:  # EmbedderUnavailable, a database failure: logged, tried again later
            log.exception("background embedding failed")
        if stop.wait(EMBED_EVERY_S):
            return
