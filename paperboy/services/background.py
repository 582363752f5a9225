"""Jobs in the background of `paperboy serve`, so that a site run without cron stays current:
a first sync at once when the catalogue is empty (a new user sees real papers within minutes),
then one every `sync_interval_hours`; embeddings of papers no sync embedded; and, with
`digest_schedule`, the digest editions as they fall due. Runs in the `serve` process, never in
its web workers."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import datetime

from sqlalchemy import Engine

from paperboy.config import Settings
from paperboy.services.loading import loading, lower_this_thread
from paperboy.services.sync import SyncBusy, catalogue_is_empty, sync_catalogue, sync_is_running
from paperboy.storage.engine import now_utc

log = logging.getLogger(__name__)
SyncJob = Callable[[Engine, Settings], object]
Wait = Callable[[float], bool]  # waits up to that many seconds; True when it is time to stop
FIRST_SYNC_RETRY_S = 30.0


def start_background_sync(
    engine: Engine,
    settings: Settings,
    *,
    stop: threading.Event | None = None,
    job: SyncJob = sync_catalogue,
    wait: Wait | None = None,
) -> threading.Thread | None:
    """Start the schedule; None when there is nothing to do (no first sync, no interval). It
    waits between turns with `wait` (default: `stop.wait`)."""
    first = settings.sync_on_empty and catalogue_is_empty(engine)
    if not first and settings.sync_interval_hours <= 0:
        return None
    stop = stop or threading.Event()
    thread = threading.Thread(
        target=_schedule,
        args=(engine, settings, first, wait or stop.wait, job),
        name="paperboy-sync",
        daemon=True,
    )
    thread.start()
    return thread


def _schedule(engine: Engine, settings: Settings, first: bool, wait: Wait, job: SyncJob) -> None:
    # The first sync waits for one that is running elsewhere (a cron job, another host), then
    # runs unless that one filled the catalogue; an interrupted one goes stale (sync_state.py).
    while first and not _run_once(engine, settings, job) and catalogue_is_empty(engine):
        if wait(FIRST_SYNC_RETRY_S):
            return
    interval = settings.sync_interval_hours * 3600
    while interval > 0 and not wait(interval):
        _run_once(engine, settings, job)


def _run_once(engine: Engine, settings: Settings, job: SyncJob) -> bool:
    """One sync, unless another process's sync is still running (then False); failures are
    logged, not fatal (the sync records them for the front page, and the next turn tries again)."""
    try:
        if sync_is_running(engine):
            log.info("background sync skipped: another sync is running")
            return False
        job(engine, settings)
    except SyncBusy:  # another process claimed it between the look and the claim
        log.info("background sync skipped: another sync is running")
        return False
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
    from paperboy.services.search_index import embed_waiting_papers

    lower_this_thread()  # and the torch thread it starts: requests come first (services/loading.py)
    while not stop.is_set():
        try:
            with loading():
                report = embed_waiting_papers(engine, settings, threads=1, stop=stop)
            if report is not None and report.embedded:
                log.info("%s", report.summary())
        except Exception:  # EmbedderUnavailable, a database failure: logged, tried again later
            log.exception("background embedding failed")
        if stop.wait(EMBED_EVERY_S):
            return


DIGEST_CHECK_EVERY_S = 300.0  # a due edition goes out at most this long after it is due


def start_digest_schedule(
    engine: Engine,
    settings: Settings,
    *,
    stop: threading.Event | None = None,
    every: float = DIGEST_CHECK_EVERY_S,
    now: Callable[[], datetime] = now_utc,
) -> threading.Thread | None:
    """Send due digest editions from the `serve` process: every few minutes, from
    `digest_send_hour` (UTC) on, whatever `paperboy digest send` would send. None when
    `digest_schedule` is off. Several hosts may run it: an edition's lease lets one send."""
    if not settings.digest_schedule:
        return None
    thread = threading.Thread(
        target=_digest_loop,
        args=(engine, settings, stop or threading.Event(), every, now),
        name="paperboy-digest",
        daemon=True,
    )
    thread.start()
    return thread


def _digest_loop(
    engine: Engine, settings: Settings, stop: threading.Event, every: float, now: Callable[[], datetime]
) -> None:
    from paperboy.domain.digest import EditionBusy
    from paperboy.services.digest_vectors import ProcessVectors
    from paperboy.services.digests import send_due_digests

    # The app's own index when this process serves it (one worker), else one kept for every run.
    vectors = ProcessVectors(engine, settings)
    while True:
        moment = now()
        if moment.hour >= settings.digest_send_hour:
            try:
                for report in send_due_digests(
                    engine, settings, today=moment.date(), now=now, vectors=vectors
                ):
                    if report.subscribers:
                        log.info(
                            "digest %s: %d sent, %d deferred",
                            report.edition.key,
                            report.sent,
                            report.deferred,
                        )
            except EditionBusy:
                log.info("digest schedule: another run is sending an edition")
            except Exception:  # the mail server is down, a database failure: tried again later
                log.exception("digest schedule failed")
        if stop.wait(every):
            return


IMPORTS_CHECK_EVERY_S = 5.0  # an import waits at most this long before its papers are fetched


def start_library_imports(
    engine: Engine,
    settings: Settings,
    *,
    stop: threading.Event | None = None,
    every: float = IMPORTS_CHECK_EVERY_S,
) -> threading.Thread:
    """Fetch the papers of members' library imports (services/library_imports.py) from arXiv:
    every few seconds, whatever any web worker queued. Several hosts may run it: each import is
    claimed by one."""
    thread = threading.Thread(
        target=_imports_loop,
        args=(engine, settings, stop or threading.Event(), every),
        name="paperboy-library-imports",
        daemon=True,
    )
    thread.start()
    return thread


def _imports_loop(engine: Engine, settings: Settings, stop: threading.Event, every: float) -> None:
    from paperboy.services.library_imports import run_library_imports

    while True:
        try:
            run_library_imports(engine, settings, stop=stop)
        except Exception:  # a database failure: logged, tried again at the next turn
            log.exception("library imports failed")
        if stop.wait(every):
            return
