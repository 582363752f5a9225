"""Inserting many rows at once: COPY on PostgreSQL, executemany elsewhere.

psycopg sends an executemany as one INSERT per row, and parses a multi-row INSERT … RETURNING
client-side; COPY streams rows in one command, which halves the import of a large corpus.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import psycopg
from sqlalchemy import Connection, Table, func, insert, select
from sqlalchemy.exc import DBAPIError


def insert_rows(conn: Connection, table: Table, rows: Sequence[dict[str, Any]]) -> None:
    """Insert `rows` (dicts with the same keys) in the caller's transaction."""
    if not rows:
        return
    if conn.dialect.name != "postgresql":
        conn.execute(insert(table), list(rows))
        return
    columns = list(rows[0])
    names = ", ".join(conn.dialect.identifier_preparer.quote(name) for name in columns)
    statement = f"COPY {table.name} ({names}) FROM STDIN"
    raw = conn.connection.driver_connection
    try:
        with raw.cursor() as cursor, cursor.copy(statement) as copy:  # type: ignore[union-attr]
            for row in rows:
                copy.write_row([row[name] for name in columns])
    except psycopg.Error as exc:  # raw driver calls bypass SQLAlchemy's wrapping: wrap like it does
        raise DBAPIError.instance(statement, None, exc, psycopg.Error) from exc


def allocate_ids(conn: Connection, table: Table, count: int) -> list[int]:
    """`count` fresh values of `table`'s id sequence (PostgreSQL), for rows about to be copied."""
    sequence = func.pg_get_serial_sequence(table.name, "id")
    query = select(func.nextval(sequence)).select_from(func.generate_series(1, count))
    return [int(value) for value in conn.execute(query).scalars()]
