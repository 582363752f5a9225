"""The INSERT that can say what to do on a conflict: SQLAlchemy builds it per dialect
(`ON CONFLICT DO NOTHING / DO UPDATE` on both databases), so storage asks here for the one its
connection speaks."""

from __future__ import annotations

from sqlalchemy import Connection, Table
from sqlalchemy.dialects import postgresql, sqlite

Upsert = postgresql.Insert | sqlite.Insert


def insert_into(conn: Connection, table: Table) -> Upsert:
    """An INSERT into `table` with `on_conflict_do_nothing` / `on_conflict_do_update` and
    `excluded`, for the connection's database."""
    return insert_for_dialect(conn.dialect.name, table)


def insert_for_dialect(dialect: str, table: Table) -> Upsert:
    """The same, by dialect name ("postgresql"; anything else is SQLite), for statements built
    once and kept."""
    return postgresql.insert(table) if dialect == "postgresql" else sqlite.insert(table)
