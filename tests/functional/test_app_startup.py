"""Start-up: the database is migrated, embedded SQLite and shared PostgreSQL alike (PostgreSQL's
hosts take turns under an advisory lock: tests/functional/test_several_hosts.py)."""

from __future__ import annotations

import uuid

import pytest
from app_client import open_client
from conftest import PG_ADMIN_URL
from sqlalchemy import text
from sqlalchemy.engine import make_url

from paperboy.storage.engine import make_engine
from paperboy.storage.migrate import pending_revisions


def test_a_new_sqlite_database_is_migrated_at_start(settings, tmp_path):
    fresh = settings.replace(database_url=f"sqlite:///{tmp_path / 'new' / 'paperboy.sqlite3'}")
    with open_client(fresh) as client:
        assert client.get("/healthz").json() == {
            "status": "ok",
            "papers": 0,
            "search_by_meaning": "no vectors yet",
            "keyword_index": "current",
        }
        assert not pending_revisions(client.app.state.paperboy.engine)


@pytest.mark.skipif(not PG_ADMIN_URL, reason="needs PAPERBOY_TEST_DATABASE_URL (PostgreSQL)")
def test_a_postgresql_database_behind_is_migrated_at_start(settings):
    name = f"paperboy_behind_{uuid.uuid4().hex[:8]}"
    admin = make_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        url = make_url(PG_ADMIN_URL).set(database=name).render_as_string(hide_password=False)
        behind = settings.replace(database_url=url)
        with open_client(behind) as client:
            assert client.get("/healthz").json() == {
                "status": "ok",
                "papers": 0,
                "search_by_meaning": "no vectors yet",
                "keyword_index": "current",
            }
            assert not pending_revisions(client.app.state.paperboy.engine)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def test_what_the_warm_up_loads_is_kept_out_of_the_collectors_generations(settings):
    """The model and the vectors live as long as the process: once loaded they are frozen
    (gc.freeze), so that no full collection walks them again (app.py)."""
    import gc
    import threading

    with open_client(settings) as client:
        for thread in threading.enumerate():
            if thread.name == "gc-freeze":
                thread.join()
        meaning = client.app.state.paperboy.searcher.meaning
        loaded = [meaning.embedder(), meaning.vector_index()]
        assert all(obj is not None for obj in loaded)
        made_now = object.__new__(type("Later", (), {}))  # made after the freeze: still collected
        generations = {id(obj) for obj in gc.get_objects()}
    assert all(id(obj) not in generations for obj in loaded)
    assert id(made_now) in generations
