"""Copying every table of a SQLite site into a PostgreSQL database, and comparing the two: the
SQL of `paperboy move-to` (services/move.py).

The tables are `metadata.sorted_tables` (parents before children), so a table added to
schema.py is copied and compared with no change here. Two are not copied row for row:

- `paper_search`, PostgreSQL's lexical index, is empty on SQLite (whose index is the FTS5 table
  `paper_fts`, not in the metadata): it is rebuilt on the target from the copied papers;
- the `sync_state` row `lexical:database`, the identity that keyword indexes on disk are tied
  to (storage/lexical_index.py): the new database makes its own on first use, so no host
  mistakes a keyword folder built from the old database for one of the new.

Rows are read in primary-key order (byte order for text on both: PostgreSQL's `C` collation is
SQLite's BINARY) and streamed in batches, so memory stays bounded whatever the tables hold.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import Column, ColumnElement, Connection, String, Table, Text, func, inspect, select, text

from paperboy.storage.engine import utc
from paperboy.storage.lexical_index import DATABASE_KEY, fill_postgresql_index
from paperboy.storage.schema import metadata, paper_search, papers, sync_state

REBUILT = (paper_search.name,)  # rebuilt on the target, not copied
_LEFT_OUT: dict[str, ColumnElement[bool]] = {sync_state.name: sync_state.c.key != DATABASE_KEY}
VERSION_TABLE = "alembic_version"


def site_tables() -> list[Table]:
    """Every table paperboy declares, parents before children."""
    return list(metadata.sorted_tables)


def copied_tables() -> list[Table]:
    return [table for table in site_tables() if table.name not in REBUILT]


def foreign_tables(conn: Connection) -> list[str]:
    """Tables in the database that are not paperboy's (nor Alembic's)."""
    ours = {table.name for table in site_tables()} | {VERSION_TABLE}
    return sorted(set(inspect(conn).get_table_names()) - ours)


def tables_with_rows(conn: Connection) -> list[str]:
    """Those of paperboy's tables (of the ones the database has) that hold at least one row."""
    present = set(inspect(conn).get_table_names())
    return [
        table.name
        for table in site_tables()
        if table.name in present
        and conn.execute(select(text("1")).select_from(table).limit(1)).first() is not None
    ]


def stream_rows(conn: Connection, table: Table, batch: int) -> Iterator[list[tuple[Any, ...]]]:
    """The table's rows (those that move) in primary-key order, `batch` at a time."""
    query = select(*table.columns).order_by(*_key_order(conn, table))
    if table.name in _LEFT_OUT:
        query = query.where(_LEFT_OUT[table.name])
    result = conn.execution_options(yield_per=batch).execute(query)
    for part in result.partitions():
        yield [tuple(row) for row in part]


def copy_rows(conn: Connection, table: Table, rows: list[tuple[Any, ...]]) -> None:
    """Append rows (in the table's column order) to the PostgreSQL table with COPY, inside the
    connection's transaction."""
    names = ", ".join(f'"{column.name}"' for column in table.columns)
    statement = f'COPY "{table.name}" ({names}) FROM STDIN'
    driver = conn.connection.driver_connection  # psycopg's: the COPY joins the transaction
    with driver.cursor() as cursor, cursor.copy(statement) as copy:  # type: ignore[union-attr]
        for row in rows:
            copy.write_row(row)


def drop_indexes(conn: Connection) -> int:
    """Drop the secondary indexes the metadata declares (keys and unique constraints stay): a
    bulk load is faster without them, and `create_indexes` builds each once at the end."""
    indexes = [index for table in site_tables() for index in table.indexes]
    for index in indexes:
        index.drop(conn)
    return len(indexes)


def create_indexes(conn: Connection) -> None:
    for table in site_tables():
        for index in table.indexes:
            index.create(conn)


def rebuild_lexical_index(conn: Connection, batch: int) -> int:
    """Fill PostgreSQL's `paper_search` from the papers, `batch` at a time; returns how many."""
    done, last = 0, 0
    while True:
        ids = list(
            conn.execute(
                select(papers.c.id).where(papers.c.id > last).order_by(papers.c.id).limit(batch)
            ).scalars()
        )
        if not ids:
            return done
        fill_postgresql_index(conn, ids)
        done, last = done + len(ids), ids[-1]


def advance_sequences(conn: Connection) -> int:
    """Set each PostgreSQL id sequence past the largest id copied, so that the next row inserted
    gets a new one; returns how many sequences were set."""
    advanced = 0
    for table in site_tables():
        column = table.autoincrement_column
        if column is None:
            continue
        sequence = conn.execute(
            text("SELECT pg_get_serial_sequence(:table, :column)"),
            {"table": table.name, "column": column.name},
        ).scalar()
        if sequence is None:
            continue
        largest = conn.execute(select(func.max(column))).scalar() or 0
        conn.execute(
            text("SELECT setval(:sequence, :next, false)"), {"sequence": sequence, "next": largest + 1}
        )
        advanced += 1
    return advanced


@dataclass(frozen=True, slots=True)
class TableSum:
    rows: int
    checksum: str  # sha256 over the rows in key order, each value written the same on both databases


def table_sum(conn: Connection, table: Table, batch: int) -> TableSum:
    digest, count = hashlib.sha256(), 0
    for rows in stream_rows(conn, table, batch):
        for row in rows:
            digest.update(json.dumps([_canonical(value) for value in row]).encode())
            digest.update(b"\n")
        count += len(rows)
    return TableSum(count, digest.hexdigest())


def lexical_entries(conn: Connection) -> int:
    """Papers in the lexical index: FTS5's on SQLite, paper_search on PostgreSQL."""
    source = "paper_search" if conn.dialect.name == "postgresql" else "paper_fts_docsize"
    return int(conn.execute(text(f"SELECT count(*) FROM {source}")).scalar_one())


def _canonical(value: Any) -> Any:
    """A value as JSON can hold it, the same whichever database it was read from: SQLite hands
    back naive datetimes, PostgreSQL aware ones (both UTC)."""
    if isinstance(value, datetime):
        return (utc(value) or value).isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, bytes | memoryview):
        return bytes(value).hex()
    return value


def _key_order(conn: Connection, table: Table) -> list[ColumnElement[Any]]:
    return [_bytewise(conn, column) for column in table.primary_key.columns]


def _bytewise(conn: Connection, column: Column[Any]) -> ColumnElement[Any]:
    textual = isinstance(column.type, String | Text)
    return column.collate("C") if textual and conn.dialect.name == "postgresql" else column
