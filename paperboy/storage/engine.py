"""Database engines: SQLite (WAL, foreign keys on) by default, PostgreSQL by URL."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event, exc
from sqlalchemy.engine import make_url
from sqlalchemy.pool import ConnectionPoolEntry

from paperboy.private_files import create_private_file, private_dir

WRITER = "paperboy_writer"  # execution option: this connection's transactions will write
# A pooled PostgreSQL connection idle for longer than this is tested (a round trip) before use;
# one returned more recently is not: a busy web worker reuses its connections within
# milliseconds, and the test was one of a paper page's nine round trips (bench/README.md).
PING_AFTER_IDLE_S = 1.0
_RETURNED = "paperboy_returned_at"  # in a pooled connection's `info`: when it was last returned


def make_engine(url: str, **kwargs: Any) -> Engine:
    """An engine for `url`; SQLite files get their directory created and are tuned per connection."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            # Owner-only from the start: SQLite gives the -wal and -shm files the database's mode.
            private_dir(Path(parsed.database).parent)
            create_private_file(Path(parsed.database))
        engine = create_engine(url, connect_args={"timeout": 30}, **kwargs)
        event.listen(engine, "connect", _tune_sqlite)
        event.listen(engine, "begin", _begin_sqlite)
        return engine
    ping = kwargs.pop("pool_pre_ping", True)
    engine = create_engine(url, **kwargs)
    if parsed.get_backend_name() == "postgresql":
        event.listen(engine, "connect", _utc_session)
    if ping:
        _ping_when_idle(engine)
    return engine


def _ping_when_idle(engine: Engine) -> None:
    """SQLAlchemy's `pool_pre_ping`, for connections idle longer than PING_AFTER_IDLE_S only: a
    dead one (the server restarted, a proxy closed it) is replaced before a request gets it.
    One that was in use less than that ago is handed out as it is; were the server restarted
    just then, the statement fails, and SQLAlchemy replaces every connection of the pool."""

    def on_connect(_dbapi_connection: Any, record: ConnectionPoolEntry) -> None:
        record.info[_RETURNED] = time.monotonic()

    def on_checkin(_dbapi_connection: Any, record: ConnectionPoolEntry) -> None:
        record.info[_RETURNED] = time.monotonic()

    def on_checkout(dbapi_connection: Any, record: ConnectionPoolEntry, _proxy: Any) -> None:
        returned = record.info.get(_RETURNED)
        if returned is not None and time.monotonic() - returned <= PING_AFTER_IDLE_S:
            return
        try:
            engine.dialect.do_ping(dbapi_connection)
        except engine.dialect.loaded_dbapi.Error as error:
            if engine.dialect.is_disconnect(error, dbapi_connection, None):
                raise exc.DisconnectionError(str(error)) from error  # the pool connects anew
            raise

    event.listen(engine, "connect", on_connect)
    event.listen(engine.pool, "checkin", on_checkin)
    event.listen(engine.pool, "checkout", on_checkout)


def read_connection(engine: Engine) -> Connection:
    """A connection for reading alone. On PostgreSQL in autocommit: at its default isolation
    (read committed, which paperboy keeps) each statement sees its own snapshot inside a
    transaction too, so the BEGIN and ROLLBACK around a page's reads were two round trips
    that bought nothing. On SQLite, a transaction as usual: one snapshot for every statement."""
    conn = engine.connect()
    if engine.dialect.name == "postgresql":
        conn.execution_options(isolation_level="AUTOCOMMIT")
    return conn


def _utc_session(dbapi_connection: Any, _record: Any) -> None:
    """timestamptz values come back in the session's zone: make that UTC, whatever the server's.
    (A connect-time SET, not an `options` startup parameter, which would override the URL's own
    and which PgBouncer refuses.)"""
    autocommit = dbapi_connection.autocommit
    dbapi_connection.autocommit = True
    dbapi_connection.execute("SET TIME ZONE 'UTC'")
    dbapi_connection.autocommit = autocommit


def _begin_sqlite(conn: Connection) -> None:
    mode = "IMMEDIATE" if conn.get_execution_options().get(WRITER) else "DEFERRED"
    conn.exec_driver_sql(f"BEGIN {mode}")


def _tune_sqlite(dbapi_connection: Any, _record: Any) -> None:
    # paperboy emits BEGIN itself (_begin_sqlite): the driver's own transaction handling would
    # start transactions only at the first write, after the reads they depend on.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")  # durable at checkpoints; safe with WAL
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute("PRAGMA cache_size=-65536")  # 64 MiB page cache
    cursor.close()


def is_sqlite(engine: Engine) -> bool:
    return engine.dialect.name == "sqlite"


def utc(value: datetime | None) -> datetime | None:
    """Every datetime paperboy stores is UTC; SQLite hands them back naive, drivers may hand
    them back in another zone."""
    if value is None:
        return None
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def now_utc() -> datetime:
    return datetime.now(UTC)
