"""`paperboy serve`: the background jobs, then uvicorn (one process, or a supervisor of workers).

The background jobs run in this process's threads (services/background.py), unless
`jobs_in_workers` hands them to `paperboy worker` processes: then this process only queues the
periodic ones (services/job_schedule.py), as every worker does, each slot once.

Stopping (SIGTERM or SIGINT; docs/deploy.md). uvicorn stops taking connections, lets the
requests in flight finish, runs each worker's lifespan shutdown (app.py) and returns; the
background jobs are then told to stop and given STOP_WAIT_S to end their batch, and the process
ends without the interpreter's finalization: a daemon thread still busy (importing torch to
embed, say) held that for seconds, and nothing is left to save by then (every write is a committed
transaction; uvicorn's workers end the same way). A stop asked for this way is a success: exit
status 0 (uvicorn on its own re-raises the signal, and the process would die of it: 143).
Imported by cli.py when `serve` runs, not before: uvicorn is no other command's concern.
"""

from __future__ import annotations

import logging
import os
import shutil
import sys
import threading
import time
from dataclasses import replace
from socket import socket
from typing import NoReturn

import uvicorn
from sqlalchemy import Engine
from uvicorn.config import STARTUP_FAILURE
from uvicorn.supervisors import Multiprocess

from paperboy.config import Settings
from paperboy.logs import configure_logging
from paperboy.private_files import private_dir
from paperboy.services.background import (
    start_background_embedding,
    start_background_sync,
    start_digest_schedule,
    start_library_imports,
)
from paperboy.services.database import migrate_database, open_database
from paperboy.services.signing_key import check_shared_key
from paperboy.services.sync import catalogue_is_empty
from paperboy.services.web_workers import choose_workers
from paperboy.web.metrics import MULTIPROC_ENV
from paperboy.web.slow_clients import PROTOCOL

METRICS_DIRECTORY = "metrics"
STOP_WAIT_S = 0.5  # for all of the background jobs together, once the web server has stopped


def serve(settings: Settings) -> int:
    """Serve until a signal stops it, then end the process (status 0) rather than return."""
    configure_logging(settings.log_format)
    choice = choose_workers(settings.workers)
    settings = replace(settings, workers=choice.workers)
    _share_metrics(settings)
    engine = open_database(settings)
    migrate_database(engine)  # once here, before workers start; the background jobs keep using the engine
    check_shared_key(engine, settings)  # PostgreSQL's hosts must share one signing key
    note = outbox_note(settings, engine.dialect.name)
    if note:
        print(note, file=sys.stderr)
    stop = threading.Event()
    jobs = _start_background(engine, settings, stop)
    workers = f"{choice.workers} web worker{'s' if choice.workers > 1 else ''} ({choice.reason})"
    print(f"paperboy: serving on http://{settings.host}:{settings.port} with {workers}", file=sys.stderr)
    try:
        _run_uvicorn(_config(settings))
    finally:
        stop.set()
        _join(jobs, STOP_WAIT_S)
        engine.dispose()
    _exit_now(0)


def outbox_note(settings: Settings, dialect: str) -> str | None:
    """A note when mail goes to this host's outbox while other hosts may share the database."""
    if settings.smtp_host or dialect != "postgresql":
        return None
    return (
        f"paperboy: note: no smtp_host: mail goes to {settings.data_dir / 'outbox'} on this host only; "
        "with several hosts set PAPERBOY_SMTP_HOST (docs/architecture.md, State and where it lives)"
    )


def _share_metrics(settings: Settings) -> None:
    """With several workers and /metrics on, each worker writes its request counts to files in
    data_dir/metrics, and a scrape of any of them reads them all (web/metrics.py). Emptied at
    each start: the counts of a previous run's processes would be added in forever."""
    if settings.metrics == "off" or settings.workers < 2:
        return
    folder = settings.data_dir / METRICS_DIRECTORY
    if folder.exists():
        shutil.rmtree(folder)
    private_dir(folder)
    os.environ[MULTIPROC_ENV] = str(folder.resolve())  # the workers, spawned after, inherit it


def _start_background(engine: Engine, settings: Settings, stop: threading.Event) -> list[threading.Thread]:
    if settings.jobs_in_workers:  # `paperboy worker`s run them; this host only queues the periodic ones
        from paperboy.services.job_schedule import start_scheduler

        print("paperboy: background jobs go to the job queue (jobs_in_workers)", file=sys.stderr)
        return [start_scheduler(engine, settings, stop=stop)]
    sync = start_background_sync(engine, settings, stop=stop)
    if sync is not None:
        print(_sync_plan(settings, engine), file=sys.stderr)
    # Papers imported, or stored before search existed.
    embedding = start_background_embedding(engine, settings, stop=stop)
    digests = start_digest_schedule(engine, settings, stop=stop)
    if digests is not None:
        print(
            f"paperboy: sending digests from {settings.digest_send_hour:02d}:00 UTC as they fall due",
            file=sys.stderr,
        )
    imports = start_library_imports(engine, settings, stop=stop)  # members' imports, fetched from arXiv
    return [job for job in (sync, embedding, digests, imports) if job is not None]


def _sync_plan(settings: Settings, engine: Engine) -> str:
    every = f"every {settings.sync_interval_hours:g} h" if settings.sync_interval_hours > 0 else ""
    first = "now (empty catalogue)" if settings.sync_on_empty and catalogue_is_empty(engine) else ""
    when = " and ".join(part for part in (first, every) if part)
    return f"paperboy: syncing from arXiv and Hugging Face in the background {when}"


def _join(threads: list[threading.Thread], seconds: float) -> None:
    deadline = time.monotonic() + seconds
    for thread in threads:
        thread.join(timeout=max(0.0, deadline - time.monotonic()))


def _exit_now(status: int) -> NoReturn:
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(status)


def _run_uvicorn(config: uvicorn.Config) -> None:
    """What `uvicorn.run` does, with a server that takes a stop asked for by a signal as done."""
    if config.workers > 1:
        sockets: list[socket] = [config.bind_socket()]
        Multiprocess(config, sockets=sockets).run()  # each worker's own stop is uvicorn's
        return
    config.load_app()
    server = _Server(config)
    server.run()
    if not server.started:  # the app or the socket failed; uvicorn logged why
        raise SystemExit(STARTUP_FAILURE)


class _Server(uvicorn.Server):
    async def _serve(self, sockets: list[socket] | None = None) -> None:
        await super()._serve(sockets)
        # uvicorn (0.55) raises the signals that stopped it again once its handlers are put
        # back, so that the process dies of them: the stop is done, and was asked for.
        self._captured_signals.clear()


def _config(settings: Settings) -> uvicorn.Config:
    return uvicorn.Config(
        "paperboy.asgi:app",
        factory=True,
        host=settings.host,
        port=settings.port,
        workers=settings.workers,
        log_level="warning",
        # JSON lines: uvicorn's loggers go through the root's JSON handler (paperboy/logs.py).
        log_config=None if settings.log_format == "json" else uvicorn.config.LOGGING_CONFIG,
        # The client address decides per-IP rate limits: believe X-Forwarded-For only from the
        # proxies the operator names (uvicorn would otherwise trust 127.0.0.1 by default).
        proxy_headers=bool(settings.trusted_proxies),
        forwarded_allow_ips=settings.trusted_proxies or None,
        # Slow and idle clients (docs/deploy.md): headers within header_timeout (uvicorn has
        # no such timeout of its own), idle keep-alive connections closed, a bound on what one
        # worker holds at once (past it: an immediate 503, not a queue).
        http=PROTOCOL,
        timeout_keep_alive=settings.keep_alive_timeout,
        limit_concurrency=settings.limit_concurrency or None,
    )
