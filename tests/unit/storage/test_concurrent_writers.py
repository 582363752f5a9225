"""Two writers merging into the same paper never lose each other's changes."""

from __future__ import annotations

import sys
import threading
import time
from datetime import date

from conftest import make_record
from sqlalchemy import text

from paperboy.domain.models import Listing
from paperboy.storage.papers import load_records, upsert_papers, write_papers
from paperboy.storage.transactions import write_transaction


def _waits_for_a_lock(engine, thread: threading.Thread, seconds: float = 30) -> bool:
    """Whether `thread` comes to wait for the write lock: on SQLite the writers' turn in this
    process (its innermost frame is _sqlite_turn), on PostgreSQL a row lock (pg_stat_activity)."""
    deadline = time.monotonic() + seconds
    while thread.is_alive() and time.monotonic() < deadline:
        if engine.dialect.name == "sqlite":
            frame = sys._current_frames().get(thread.ident or 0)
            if frame is not None and frame.f_code.co_name == "_sqlite_turn":
                return True
        else:
            with engine.connect() as conn:
                waiting = conn.execute(
                    text(
                        "SELECT count(*) FROM pg_stat_activity "
                        "WHERE wait_event_type = 'Lock' AND datname = current_database()"
                    )
                ).scalar_one()
            if waiting:
                return True
        time.sleep(0.01)  # polling for the proof, not waiting for it to happen by itself
    return False


def test_a_second_writer_merges_onto_the_first_writers_commit(engine, add_papers):
    add_papers(make_record("2506.00001", comment=None, listings=(Listing(date(2025, 6, 12), "new"),)))
    second_done = threading.Event()

    def second_writer():
        write_papers(engine, [make_record("2506.00001", listings=(Listing(date(2025, 6, 13), "replace"),))])
        second_done.set()

    with write_transaction(engine) as conn:
        upsert_papers(conn, [make_record("2506.00001", comment="Accepted at ICML")])
        other = threading.Thread(target=second_writer)
        other.start()
        assert _waits_for_a_lock(engine, other), "the second writer must wait for the first to commit"
        assert not second_done.is_set()
    other.join(timeout=30)

    with engine.connect() as conn:
        stored = load_records(conn, ["2506.00001"])["2506.00001"][1]
    assert stored.comment == "Accepted at ICML"
    assert [item.day for item in stored.listings] == [date(2025, 6, 12), date(2025, 6, 13)]


def test_writers_of_the_same_new_papers_in_opposite_orders_both_succeed(engine):
    from concurrent.futures import ThreadPoolExecutor

    from sqlalchemy import func, select

    from paperboy.storage.schema import papers

    records = [make_record(f"2506.{n:05d}", comment=f"c{n}") for n in range(1, 301)]
    barrier = threading.Barrier(2)

    def write(batch):
        barrier.wait()
        return write_papers(engine, batch)

    with ThreadPoolExecutor(2) as pool:
        results = list(pool.map(write, [records, records[::-1]]))
    assert sum(r.inserted for r in results) == 300
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(papers)).scalar_one() == 300
