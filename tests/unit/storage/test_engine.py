from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta, timezone

import pytest
from conftest import PG_ADMIN_URL
from sqlalchemy import text
from sqlalchemy.engine import make_url

from paperboy.storage import engine as engine_module
from paperboy.storage.engine import make_engine, read_connection, utc


def test_utc_normalises_naive_and_foreign_zones():
    plus_two = timezone(timedelta(hours=2))
    assert utc(datetime(2025, 6, 12, 4, 30, tzinfo=plus_two)) == datetime(2025, 6, 12, 2, 30, tzinfo=UTC)
    assert utc(datetime(2025, 6, 12, 2, 30)).tzinfo is UTC
    assert utc(None) is None


@pytest.mark.skipif(not PG_ADMIN_URL, reason="needs PAPERBOY_TEST_DATABASE_URL (PostgreSQL)")
def test_postgres_sessions_are_utc_and_keep_the_urls_own_options():
    url = make_url(PG_ADMIN_URL).update_query_dict({"options": "-c search_path=paperboy_elsewhere"})
    engine = make_engine(url.render_as_string(hide_password=False))
    try:
        with engine.connect() as conn:
            assert conn.execute(text("SHOW timezone")).scalar() == "UTC"
            assert conn.execute(text("SHOW search_path")).scalar() == "paperboy_elsewhere"
    finally:
        engine.dispose()


needs_postgres = pytest.mark.skipif(not PG_ADMIN_URL, reason="needs PAPERBOY_TEST_DATABASE_URL (PostgreSQL)")


def _backend_pid(engine):
    with engine.connect() as conn:
        return conn.execute(text("SELECT pg_backend_pid()")).scalar()


def _counting_pings(engine):
    pings = []
    real = engine.dialect.do_ping

    def do_ping(dbapi_connection):
        pings.append(dbapi_connection)
        return real(dbapi_connection)

    engine.dialect.do_ping = do_ping
    return pings


@needs_postgres
def test_a_pooled_connection_dead_while_idle_is_replaced_before_use(monkeypatch):
    # The idle threshold shortened from a second so that the test need not wait that long.
    monkeypatch.setattr(engine_module, "PING_AFTER_IDLE_S", 0.05)
    engine = make_engine(PG_ADMIN_URL, pool_size=1, max_overflow=0)
    admin = make_engine(PG_ADMIN_URL)
    try:
        dead = _backend_pid(engine)
        with admin.connect() as conn:  # what a server restart or a proxy's idle timeout does
            conn.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": dead})
        time.sleep(0.1)
        assert _backend_pid(engine) != dead  # pinged, found dead, replaced: no error
    finally:
        engine.dispose()
        admin.dispose()


@needs_postgres
def test_a_connection_returned_just_now_is_reused_without_a_ping():
    engine = make_engine(PG_ADMIN_URL, pool_size=1, max_overflow=0)
    try:
        pings = _counting_pings(engine)
        first = _backend_pid(engine)  # a new connection needs no ping
        again = [_backend_pid(engine) for _ in range(5)]
        assert again == [first] * 5
        assert pings == []
        time.sleep(engine_module.PING_AFTER_IDLE_S + 0.1)
        assert _backend_pid(engine) == first
        assert len(pings) == 1  # idle long enough to be tested
    finally:
        engine.dispose()


@needs_postgres
def test_a_read_connection_on_postgres_runs_each_statement_alone():
    engine = make_engine(PG_ADMIN_URL)
    try:
        with read_connection(engine) as conn:
            conn.execute(text("SELECT pg_sleep(0.02)"))
            # now() is the transaction's start: equal to the statement's own only outside a
            # transaction begun earlier (no BEGIN sent, no ROLLBACK to send back)
            assert conn.execute(text("SELECT now() = statement_timestamp()")).scalar() is True
        with engine.connect() as conn:  # other connections keep their transactions
            conn.execute(text("SELECT pg_sleep(0.02)"))
            assert conn.execute(text("SELECT now() = statement_timestamp()")).scalar() is False
    finally:
        engine.dispose()


def test_a_read_connection_on_sqlite_reads_one_snapshot(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path}/db.sqlite3")
    try:
        with engine.begin() as conn:
            conn.execute(text("CREATE TABLE t (n INTEGER)"))
            conn.execute(text("INSERT INTO t VALUES (1)"))
        with read_connection(engine) as conn:
            assert conn.execute(text("SELECT count(*) FROM t")).scalar() == 1
            with engine.begin() as writer:
                writer.execute(text("INSERT INTO t VALUES (2)"))
            assert conn.execute(text("SELECT count(*) FROM t")).scalar() == 1  # the same snapshot
    finally:
        engine.dispose()
