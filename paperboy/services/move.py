"""`paperboy move-to URL`: a SQLite site copied into an empty PostgreSQL database, then every
table compared (docs/moving.md).

The copy reads one snapshot of the site: a single SQLite read transaction, so the site keeps
serving and writing (WAL readers never block writers) and what it writes meanwhile is simply
not in the copy. The target is written in one transaction: a move that fails leaves it empty,
ready for the next try. The comparison reads the same snapshot again against the committed
target, table by table: the rows' count and a checksum over the rows in key order.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Connection, Engine
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from paperboy.config import Settings
from paperboy.services.signing_key import key_file
from paperboy.storage import site_copy as store
from paperboy.storage.engine import make_engine
from paperboy.storage.migrate import current_revisions, pending_revisions, upgrade
from paperboy.storage.schema import paper_search
from paperboy.storage.schema import papers as papers_table

BATCH = 5000  # rows read, written and compared at a time

Progress = Callable[[str], None]


class MoveRefused(Exception):
    """The move cannot go ahead; the message says why."""


@dataclass(frozen=True, slots=True)
class TableCheck:
    name: str
    source: store.TableSum
    target: store.TableSum

    @property
    def equal(self) -> bool:
        return self.source == self.target

    def line(self) -> str:
        verdict = (
            "equal" if self.equal else f"DIFFERENT: {self.target.rows:,} rows, {self.target.checksum[:12]}"
        )
        return f"{self.name:<24} {self.source.rows:>10,} rows  {self.source.checksum[:12]}  {verdict}"


@dataclass(frozen=True, slots=True)
class MoveReport:
    target: str  # the URL without its password
    tables: list[TableCheck]
    papers: int
    lexical_entries: int  # in the rebuilt paper_search
    sequences: int
    copy_seconds: float
    verify_seconds: float
    signing_key: str  # where the site's key is, and what the new hosts need

    @property
    def equal(self) -> bool:
        return all(check.equal for check in self.tables) and self.lexical_entries == self.papers

    def lines(self) -> list[str]:
        rows = sum(check.source.rows for check in self.tables)
        lexical = "complete" if self.lexical_entries == self.papers else "INCOMPLETE"
        return [
            *(check.line() for check in self.tables),
            f"{paper_search.name:<24} {self.lexical_entries:>10,} rows  rebuilt from the papers: {lexical}",
            f"{len(self.tables)} tables, {rows:,} rows copied in {self.copy_seconds:.1f} s and compared in "
            f"{self.verify_seconds:.1f} s; {self.sequences} id sequences set past the largest ids",
            self.signing_key,
        ]


def move_site(
    settings: Settings, target_url: str, *, batch: int = BATCH, progress: Progress | None = None
) -> MoveReport:
    """Copy the configured SQLite site into the empty PostgreSQL database at `target_url`."""
    say = progress or (lambda _line: None)
    source = _open_source(settings)
    target = _open_target(target_url)
    try:
        _prepare_target(target)
        with source.connect() as src, src.begin():  # one read transaction: one snapshot throughout
            started = time.monotonic()
            papers, lexical, sequences = _copy(src, target, batch, say)
            copied = time.monotonic()
            checks = _compare(src, target, batch, say)
    finally:
        source.dispose()
        target.dispose()
    return MoveReport(
        make_url(target_url).render_as_string(hide_password=True),
        checks,
        papers,
        lexical,
        sequences,
        copied - started,
        time.monotonic() - copied,
        _signing_key_note(settings),
    )


def check_move(settings: Settings, target_url: str, *, batch: int = BATCH) -> list[TableCheck]:
    """Compare the site as it is now with the database it was moved to (`move-to --check`):
    what the site wrote since the move shows as a difference."""
    source = _open_source(settings)
    target = _open_target(target_url)
    try:
        with source.connect() as src, src.begin():
            return _compare(src, target, batch, lambda _line: None)
    finally:
        source.dispose()
        target.dispose()


def _open_source(settings: Settings) -> Engine:
    url = make_url(settings.effective_database_url)
    if url.get_backend_name() != "sqlite":
        raise MoveRefused(
            "move-to copies a SQLite site; this one is on PostgreSQL already "
            "(to copy it, use `paperboy backup` and `paperboy restore`)"
        )
    if not Path(url.database or "").is_file():
        raise MoveRefused(f"there is no database at {url.database}: nothing to move")
    engine = make_engine(settings.effective_database_url)
    if not current_revisions(engine) or pending_revisions(engine):
        engine.dispose()
        raise MoveRefused("the site's database is not at this version's schema: run `paperboy migrate` first")
    return engine


def _open_target(target_url: str) -> Engine:
    try:
        url = make_url(target_url)
    except ArgumentError:
        raise MoveRefused(
            f"{target_url!r} is not a database URL (postgresql+psycopg://user@host/name)"
        ) from None
    if url.get_backend_name() != "postgresql":
        raise MoveRefused("the target must be a PostgreSQL database: postgresql+psycopg://user@host/name")
    return make_engine(target_url)


def _prepare_target(target: Engine) -> None:
    """Refuse a database that holds anything (before changing it), then give it this version's
    schema."""
    with target.connect() as conn:
        foreign = store.foreign_tables(conn)
        filled = store.tables_with_rows(conn)
    if foreign:
        raise MoveRefused(
            f"the PostgreSQL database is not empty (it has tables {', '.join(foreign[:5])}): "
            "move into a new, empty database"
        )
    if filled:
        raise MoveRefused(
            f"the PostgreSQL database is not empty ({', '.join(filled[:5])} hold rows): "
            "move into a new, empty database"
        )
    upgrade(target)


def _copy(src: Connection, target: Engine, batch: int, say: Progress) -> tuple[int, int, int]:
    """Every table in one target transaction; returns papers, lexical entries and sequences set."""
    papers = 0
    with target.begin() as dst:
        store.drop_indexes(dst)  # built again below, each at once rather than row by row
        for table in store.copied_tables():
            started, rows = time.monotonic(), 0
            for part in store.stream_rows(src, table, batch):
                store.copy_rows(dst, table, part)
                rows += len(part)
            papers = rows if table is papers_table else papers
            say(f"copied {table.name}: {rows:,} rows in {time.monotonic() - started:.1f} s")
        started = time.monotonic()
        lexical = store.rebuild_lexical_index(dst, batch)
        say(f"rebuilt the lexical index: {lexical:,} papers in {time.monotonic() - started:.1f} s")
        started = time.monotonic()
        store.create_indexes(dst)
        say(f"built the indexes in {time.monotonic() - started:.1f} s")
        sequences = store.advance_sequences(dst)
    return papers, lexical, sequences


def _compare(src: Connection, target: Engine, batch: int, say: Progress) -> list[TableCheck]:
    checks = []
    with target.connect() as dst:
        for table in store.copied_tables():
            check = TableCheck(
                table.name, store.table_sum(src, table, batch), store.table_sum(dst, table, batch)
            )
            say(f"compared {check.line()}")
            checks.append(check)
    return checks


def _signing_key_note(settings: Settings) -> str:
    if settings.secret_key:
        return "signing key: PAPERBOY_SECRET_KEY; give every host that serves the new database the same"
    if key_file(settings).exists():
        return (
            f"signing key: {key_file(settings)}; every host of the new database needs it: copy the file "
            "into each host's data directory, or set PAPERBOY_SECRET_KEY to its content"
        )
    return "signing key: none made yet; on PostgreSQL set PAPERBOY_SECRET_KEY (the same on every host)"
