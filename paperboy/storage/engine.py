"""Database engines: SQLite (WAL, foreign keys on) by default, PostgreSQL by URL."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import make_url

from paperboy.private_files import create_private_file, private_dir

WRITER = "paperboy_writer"  # execution option: this connection's transactions will write


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
    kwargs.setdefault("pool_pre_ping", True)
    engine = create_engine(url, **kwargs)
    if parsed.get_backend_name() == "postgresql":
        event.listen(engine, "connect", _utc_session)
    return engine


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


@contextmanager
def read_connection(engine: Engine) -> Iterator[Connection]:
    """A connection for a request's reads. On PostgreSQL in autocommit: each statement reads its
    own snapshot, as it does in a READ COMMITTED transaction anyway, without that transaction's
    BEGIN and ROLLBACK, two round trips of the four a one-statement read costs with the pool's
    ping. On SQLite a connection as `engine.connect()` gives (its transaction is one snapshot
    for all the reads, and costs no round trip)."""
    if engine.dialect.name != "postgresql":
        with engine.connect() as conn:
            yield conn
        return
    with engine.connect() as conn:
        conn.execution_options(isolation_level="AUTOCOMMIT")
        yield conn


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
