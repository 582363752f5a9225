"""Two writers merging into the same paper never lose each other's changes."""

from __future__ import annotations

import threading
import time
from datetime import date

from conftest import make_record

from paperboy.domain.models import Listing
from paperboy.storage.papers import load_records, upsert_papers, write_papers
from paperboy.storage.transactions import write_transaction


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
        time.sleep(0.5)  # without locking, the second writer would read the old paper now
        assert not second_done.is_set(), "the second writer must wait for the first to commit"
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
