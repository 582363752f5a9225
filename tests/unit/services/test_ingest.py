"""services/ingest.py with many small batches: on PostgreSQL several are written at once
(WRITERS); the catalogue must be the one a single writer makes, on either database."""

from __future__ import annotations

import json
import threading
import time

import pytest
from sqlalchemy import select

from paperboy.services.ingest import ImportAborted, _Turns, import_files
from paperboy.storage.schema import paper_versions, papers


def _line(arxiv_id: str, title: str, versions: int = 1) -> str:
    return json.dumps(
        {
            "id": arxiv_id,
            "authors": "A. Author",
            "title": title,
            "abstract": f"About {title}.",
            "categories": "cs.LG",
            "versions": [
                {"version": f"v{n}", "created": f"Mon, {n} Jun 2025 10:00:00 GMT"}
                for n in range(1, versions + 1)
            ],
        }
    )


def _write(tmp_path, lines):
    path = tmp_path / "papers.jsonl"
    path.write_text("\n".join(lines) + "\n")
    return path


def test_small_batches_give_ids_in_file_order_and_merge_repeats_in_file_order(engine, tmp_path):
    ids = [f"2506.{n:05d}" for n in range(1, 21)]
    lines = [_line(arxiv_id, f"First {arxiv_id}") for arxiv_id in ids]
    # The same paper again, in later batches: each record must merge onto the one before it.
    lines += [_line(ids[3], "Second title", versions=2), _line(ids[3], "Third title", versions=3)]
    report = import_files(engine, [_write(tmp_path, lines)], batch_size=3)
    assert (report.read, report.written.inserted, report.written.updated) == (22, 20, 2)
    with engine.connect() as conn:
        assert list(conn.execute(select(papers.c.arxiv_id).order_by(papers.c.id)).scalars()) == ids
        title, latest = conn.execute(
            select(papers.c.title, papers.c.latest_version).where(papers.c.arxiv_id == ids[3])
        ).one()
        assert (title, latest) == ("Third title", 3)
        assert conn.execute(
            select(paper_versions.c.version).order_by(paper_versions.c.version)
        ).scalars().all()[-3:] == [1, 2, 3]


def test_a_rerun_with_small_batches_writes_nothing(engine, tmp_path):
    path = _write(tmp_path, [_line(f"2506.{n:05d}", f"Paper {n}") for n in range(1, 30)])
    import_files(engine, [path], batch_size=4)
    again = import_files(engine, [path], batch_size=4)
    assert (again.written.inserted, again.written.updated, again.written.unchanged) == (0, 0, 29)


def test_strict_import_with_a_bad_line_in_a_later_batch_writes_nothing(engine, tmp_path):
    lines = [_line(f"2506.{n:05d}", f"Paper {n}") for n in range(1, 12)] + ["{not json"]
    with pytest.raises(ImportAborted, match="line 12"):
        import_files(engine, [_write(tmp_path, lines)], batch_size=2, strict=True)
    with engine.connect() as conn:
        assert conn.execute(select(papers.c.id)).first() is None


def test_a_batch_inserts_only_after_the_batches_before_it_had_their_turn():
    turns = _Turns()
    order: list[int] = []

    def insert(number: int) -> None:
        turn = turns.turn(number)
        with turn:
            order.append(number)

    later = [threading.Thread(target=insert, args=(n,)) for n in (2, 1)]
    for thread in later:
        thread.start()
    time.sleep(0.2)
    assert order == []  # batches 1 and 2 wait for batch 0
    turns.turn(0).end()  # batch 0 failed before inserting: its turn still ends
    for thread in later:
        thread.join(timeout=5)
    assert order == [1, 2]
