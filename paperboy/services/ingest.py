"""Importing bulk files into the catalogue (`paperboy import`).

Each batch is one transaction, so an interrupted import leaves whole batches behind and a
re-run completes it; unchanged papers are skipped by content hash, so re-runs write nothing.
With `strict`, the whole run is one transaction and the first malformed line aborts it.
Files are read in a thread of their own, a batch or two ahead of the writing (services/read_ahead.py).
"""

from __future__ import annotations

import threading
from collections import defaultdict, deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field, replace
from pathlib import Path

from sqlalchemy import Connection, Engine

from paperboy.domain.iterables import batched
from paperboy.domain.models import Listing, PaperRecord
from paperboy.integrations.bulk_jsonl import LineError, read_listings_tsv, read_papers
from paperboy.services.alerts import alert_on_changes
from paperboy.services.read_ahead import read_ahead
from paperboy.storage.papers import UpsertResult, upsert_papers, write_papers
from paperboy.storage.transactions import write_transaction

MAX_REPORTED_ERRORS = 100
WRITERS = 2  # concurrent batch writers on PostgreSQL (SQLite's writers take turns: one there)


class ImportAborted(Exception):
    """The import cannot proceed; the message is one line for the user."""


@dataclass(slots=True)
class ImportReport:
    read: int = 0
    written: UpsertResult = field(default_factory=UpsertResult)
    errors: list[LineError] = field(default_factory=list)
    error_count: int = 0
    alerts: int = 0  # alerts made for members (services/alerts.py) from what the import changed

    def summary(self) -> str:
        w = self.written
        text = f"{self.read} papers read: {w.inserted} new, {w.updated} updated, {w.unchanged} unchanged"
        if w.unknown:
            text += f"; {len(w.unknown)} listed ids not in the catalogue were skipped"
        if self.error_count:
            text += f"; {self.error_count} malformed lines skipped"
        return text


ErrorCallback = Callable[[LineError], None]
ProgressCallback = Callable[[int], None]  # hears how many more bytes of the paper files were read


def import_files(
    engine: Engine,
    paths: Sequence[Path],
    *,
    listings_path: Path | None = None,
    strict: bool = False,
    batch_size: int = 2000,
    on_error: ErrorCallback | None = None,
    progress: ProgressCallback | None = None,
) -> ImportReport:
    """Import paper files (JSONL / JSONL.gz, Kaggle or paperboy format) and a listings TSV.

    `progress` hears how far into the paper files (in bytes, compressed or not) reading has come.
    """
    for path in [*paths, *([listings_path] if listings_path else [])]:
        _check_readable(path)
    report = ImportReport()
    listings = _read_listings(listings_path, report, strict, on_error) if listings_path else {}
    whole_run: AbstractContextManager[Connection | None] = (
        write_transaction(engine) if strict else nullcontext()
    )
    with whole_run as shared_conn:
        records = _records(paths, listings, report, strict, on_error, progress)
        # Read (gunzip, parse, attach listings) in a thread while the previous batch is written.
        batches = read_ahead(batched(records, batch_size), name="paperboy-import-reader")
        if shared_conn is None and engine.dialect.name == "postgresql":
            _write_concurrently(engine, batches, report)
        else:
            for batch in batches:
                _write(engine, shared_conn, batch, report)
        leftovers = (PaperRecord(arxiv_id, listings=tuple(days)) for arxiv_id, days in listings.items())
        for batch in batched(leftovers, batch_size):
            _write(engine, shared_conn, batch, report)
    report.alerts = alert_on_changes(engine, report.written.changes).total
    report.written.changes.clear()  # told: the report need not hold them
    return report


def _write_concurrently(engine: Engine, batches: Iterable[list[PaperRecord]], report: ImportReport) -> None:
    """PostgreSQL: WRITERS batches at a time, each in a transaction on a connection of its own, so
    that the server builds one batch's index entries while it writes another's rows. A batch that
    shares a paper with one being written waits for it: each paper's records still merge in file
    order. Returns once every batch is committed; the first failure is raised (after the batches
    being written end)."""
    pending: deque[tuple[Future[UpsertResult], frozenset[str]]] = deque()
    turns = _Turns()
    with ThreadPoolExecutor(max_workers=WRITERS, thread_name_prefix="paperboy-import-writer") as pool:
        try:
            for number, batch in enumerate(batches):
                ids = frozenset(record.arxiv_id for record in batch)
                while pending and (len(pending) >= WRITERS or any(held & ids for _, held in pending)):
                    report.written.add(pending.popleft()[0].result())
                pending.append((pool.submit(_write_in_turn, engine, batch, turns.turn(number)), ids))
            while pending:
                report.written.add(pending.popleft()[0].result())
        finally:
            for future, _ in pending:
                future.cancel()


def _write_in_turn(engine: Engine, batch: list[PaperRecord], turn: _Turn) -> UpsertResult:
    try:
        return write_papers(engine, batch, insert_turn=turn)
    finally:
        turn.end()  # also when the batch failed or inserted nothing: the next one may go


class _Turns:
    """Batch n inserts its new papers (and takes their ids) once batches 0 … n-1 have: ids follow
    the files whatever order the writers commit in, as in an import with one writer."""

    def __init__(self) -> None:
        self.done = 0  # batches 0 … done-1 have had their turn
        self.changed = threading.Condition()

    def turn(self, number: int) -> _Turn:
        return _Turn(self, number)


class _Turn:
    def __init__(self, turns: _Turns, number: int) -> None:
        self.turns, self.number, self.ended = turns, number, False

    def __enter__(self) -> None:
        with self.turns.changed:
            self.turns.changed.wait_for(lambda: self.turns.done >= self.number)

    def __exit__(self, *exc_info: object) -> None:
        self.end()

    def end(self) -> None:
        """Let the next batch go (once; waiting first for this batch's turn)."""
        with self.turns.changed:
            if self.ended:
                return
            self.turns.changed.wait_for(lambda: self.turns.done >= self.number)
            self.ended = True
            self.turns.done = self.number + 1
            self.turns.changed.notify_all()


def _check_readable(path: Path) -> None:
    if not path.is_file():
        raise ImportAborted(f"cannot read {path}: no such file")
    try:
        with path.open("rb"):
            pass
    except OSError as exc:
        raise ImportAborted(f"cannot read {path}: {exc.strerror}") from exc


def _write(engine: Engine, conn: Connection | None, batch: list[PaperRecord], report: ImportReport) -> None:
    if conn is not None:
        report.written.add(upsert_papers(conn, batch))
        return
    report.written.add(write_papers(engine, batch))


def _records(
    paths: Sequence[Path],
    listings: dict[str, list[Listing]],
    report: ImportReport,
    strict: bool,
    on_error: ErrorCallback | None,
    progress: ProgressCallback | None,
) -> Iterator[PaperRecord]:
    """Records from every file, each with its listing days attached (and taken out of `listings`)."""
    for path in paths:
        for item in read_papers(path, progress):
            if isinstance(item, LineError):
                _record_error(item, report, strict, on_error)
                continue
            report.read += 1
            days = listings.pop(item.record.arxiv_id, None)
            yield replace(item.record, listings=item.record.listings + tuple(days)) if days else item.record


def _read_listings(
    path: Path, report: ImportReport, strict: bool, on_error: ErrorCallback | None
) -> dict[str, list[Listing]]:
    by_paper: dict[str, list[Listing]] = defaultdict(list)
    for item in read_listings_tsv(path):
        if isinstance(item, LineError):
            _record_error(item, report, strict, on_error)
        else:
            arxiv_id, listing = item
            by_paper[arxiv_id].append(listing)
    return by_paper


def _record_error(
    error: LineError, report: ImportReport, strict: bool, on_error: ErrorCallback | None
) -> None:
    if strict:
        raise ImportAborted(f"{error} (--strict: nothing was imported)")
    report.error_count += 1
    if len(report.errors) < MAX_REPORTED_ERRORS:
        report.errors.append(error)
    if on_error:
        on_error(error)
