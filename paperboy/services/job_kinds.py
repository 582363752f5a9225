"""What `paperboy worker` knows how to run: each job kind, calling the same service the command
or `serve`'s background would (services/background.py). Each is idempotent, so that a run again
after its worker died does no harm: sync holds one claim at a time and skips what it has
(content hashes); embedding embeds what has no vector; a digest run sends what the send log
lacks; an import is claimed by one run; `alerts` moves each watched paper's mark in the
transaction that alerts on it."""

from __future__ import annotations

import logging
from datetime import date, timedelta

from paperboy.services.jobs import JobContext, JobKind
from paperboy.storage import jobs as store
from paperboy.storage.engine import now_utc

log = logging.getLogger(__name__)
KEEP_FINISHED = timedelta(days=7)  # done and failed jobs are shown this long, then forgotten


def _sync(ctx: JobContext) -> None:
    from paperboy.services.sync import SyncBusy, sync_catalogue

    try:
        log.info("%s", sync_catalogue(ctx.engine, ctx.settings).summary())
    except SyncBusy:  # `paperboy sync` from cron, or a sync of the slot before still running
        log.info("sync job skipped: another sync is running")


def _embed(ctx: JobContext) -> None:
    from paperboy.services.loading import loading
    from paperboy.services.search_index import embed_waiting_papers

    with loading():
        report = embed_waiting_papers(ctx.engine, ctx.settings, threads=1, stop=ctx.stop)
    if report is not None and report.embedded:
        log.info("%s", report.summary())


def _index(ctx: JobContext) -> None:
    """What `paperboy index` stores in the database: the lexical index, then the embeddings
    (each host's approximate-vector file stays `paperboy index`'s, on that host)."""
    from paperboy.services.search_index import rebuild_lexical_index

    log.info("%s", rebuild_lexical_index(ctx.engine).summary())
    _embed(ctx)


def _digests(ctx: JobContext) -> None:
    from paperboy.domain.digest import EditionBusy
    from paperboy.services.digest_vectors import ProcessVectors
    from paperboy.services.digests import send_due_digests

    today = date.fromisoformat(str(ctx.job.args["today"])) if "today" in ctx.job.args else now_utc().date()
    vectors = ProcessVectors(ctx.engine, ctx.settings)
    try:
        for report in send_due_digests(ctx.engine, ctx.settings, today=today, vectors=vectors):
            log.info("digest %s: %d sent, %d deferred", report.edition.key, report.sent, report.deferred)
    except EditionBusy:  # another run (cron's `paperboy digest send`) holds the edition's lease
        log.info("digest job: another run is sending an edition")


def _alerts(ctx: JobContext) -> None:
    from paperboy.services.alerts import alert_on_activity

    alert_on_activity(ctx.engine, ctx.settings.alert_activity_threshold)


def _library_imports(ctx: JobContext) -> None:
    from paperboy.services.library_imports import run_library_imports

    run_library_imports(ctx.engine, ctx.settings, stop=ctx.stop)


def _prune(ctx: JobContext) -> None:
    assert ctx.conn is not None  # transactional
    store.delete_finished(ctx.conn, now_utc() - KEEP_FINISHED)


def _noop(ctx: JobContext) -> None:
    """Does nothing: `paperboy jobs add noop` shows that some worker is taking jobs."""


KINDS: dict[str, JobKind] = {
    kind.name: kind
    for kind in (
        JobKind("sync", _sync),
        JobKind("embed", _embed),
        JobKind("index", _index),
        JobKind("digests", _digests),
        JobKind("alerts", _alerts),
        JobKind("library_imports", _library_imports),
        JobKind("prune", _prune, transactional=True),
        JobKind("noop", _noop, transactional=True),
    )
}
