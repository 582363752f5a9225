"""Write transactions: the one way paperboy writes the catalogue.

- Writers lock before they read. On SQLite the transaction begins with BEGIN IMMEDIATE (the
  database's write lock; writers take turns, WAL readers never wait); on PostgreSQL the writers
  read the papers they merge FOR UPDATE, in arxiv_id order (storage/papers.py).
- A transaction that changed what pages show bumps the catalogue version as its very last
  statement, so that the version row is held only for the moment before commit and never
  makes two writers wait on each other in opposite orders. One that changed community counts
  (votes, comments) bumps the community version the same way: rankings kept in memory
  (services/feed.py) are valid for one pair of versions.
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Connection, Engine

from paperboy.storage.engine import WRITER
from paperboy.storage.sync_state import COMMUNITY_VERSION_KEY, bump_catalogue_version, bump_counter

_CATALOGUE_CHANGED = "paperboy_catalogue_changed"
_COMMUNITY_CHANGED = "paperboy_community_changed"


_SQLITE_WRITERS: weakref.WeakKeyDictionary[Engine, threading.RLock] = weakref.WeakKeyDictionary()
_WRITERS_GUARD = threading.Lock()


@contextmanager
def write_transaction(engine: Engine) -> Iterator[Connection]:
    with _sqlite_turn(engine), engine.connect() as conn:
        conn.execution_options(**{WRITER: True})
        try:
            with conn.begin():
                yield conn
                if conn.info.pop(_CATALOGUE_CHANGED, False):
                    bump_catalogue_version(conn)
                if conn.info.pop(_COMMUNITY_CHANGED, False):
                    bump_counter(conn, COMMUNITY_VERSION_KEY)
        finally:
            conn.info.pop(_CATALOGUE_CHANGED, None)  # a rolled-back change changed nothing
            conn.info.pop(_COMMUNITY_CHANGED, None)


@contextmanager
def _sqlite_turn(engine: Engine) -> Iterator[None]:
    """On SQLite, the threads of one process take turns at writing before they ask the database.

    SQLite's own busy handler waits by sleeping and retrying (up to 100 ms a sleep), so writers
    queued on the database lock wait far longer than the lock is held; waiting on a thread lock
    wakes the next writer as soon as the previous one commits. Processes still queue on SQLite's
    lock (busy_timeout), but then only one writer per process does.
    """
    if engine.dialect.name != "sqlite":
        yield
        return
    with _WRITERS_GUARD:
        lock = _SQLITE_WRITERS.setdefault(engine, threading.RLock())
    with lock:
        yield


def mark_catalogue_changed(conn: Connection) -> None:
    """Called by writers of papers and their signals, inside a write_transaction."""
    conn.info[_CATALOGUE_CHANGED] = True


def mark_community_changed(conn: Connection) -> None:
    """Called by writers of community counts (paper_stats), inside a write_transaction."""
    conn.info[_COMMUNITY_CHANGED] = True
