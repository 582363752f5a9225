"""Opening paperboy's database and bringing its schema up to date: what `serve`, every command
and each web worker do first."""

from __future__ import annotations

import logging

from sqlalchemy import Engine

from paperboy.config import Settings
from paperboy.storage.engine import make_engine
from paperboy.storage.migrate import pending_revisions, upgrade

log = logging.getLogger(__name__)


def open_database(settings: Settings, *, ping: bool = True) -> Engine:
    """An engine for the configured database: `database_url`, or SQLite in the data directory.
    Without `ping`, a pooled connection is not tested before each use (a round trip less per
    transaction: `paperboy worker`, whose loop retries after a lost connection)."""
    if ping:
        return make_engine(settings.effective_database_url)
    return make_engine(settings.effective_database_url, pool_pre_ping=False)


def migrate_database(engine: Engine) -> None:
    """Apply every migration this version of paperboy has. On PostgreSQL, hosts doing this at
    once take turns under an advisory lock (storage/migrate.py); on SQLite, under the database lock."""
    upgrade(engine)


def migrate_if_behind(engine: Engine) -> None:
    """Bring the database up to date before serving, whichever server started this worker.

    `paperboy serve` has migrated already, once, before its workers start; a worker started by
    another ASGI server migrates here. Asking costs one query, so every worker may.
    """
    if pending_revisions(engine):
        log.info("upgrading the database schema")
        upgrade(engine)
