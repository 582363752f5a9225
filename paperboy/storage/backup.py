"""Copies of the database that stay consistent while the site writes, and their restore.

SQLite: the online backup API copies a snapshot (one read transaction, so WAL writers never
wait) into a new file. PostgreSQL: pg_dump's custom format (one snapshot too) and pg_restore.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
from contextlib import closing
from pathlib import Path

from sqlalchemy import Engine, inspect
from sqlalchemy.engine import make_url

from paperboy.private_files import PRIVATE_FILE, create_private_file


class BackupToolMissing(RuntimeError):
    """pg_dump or pg_restore is not installed where paperboy can find it."""


class BackupToolFailed(RuntimeError):
    """pg_dump or pg_restore exited with an error."""


def copy_sqlite(source: Path, target: Path) -> None:
    """Copy the database at `source` into the new file `target`, 0600, as of one moment."""
    create_private_file(target)
    with closing(sqlite3.connect(source, timeout=30)) as live, closing(sqlite3.connect(target)) as copy:
        live.backup(copy)  # all pages in one step: one snapshot, whatever is written meanwhile
        copy.execute("PRAGMA journal_mode=DELETE")  # the copy is one self-contained file
    os.chmod(target, PRIVATE_FILE)


def integrity_problems(path: Path) -> list[str]:
    """What PRAGMA integrity_check finds wrong in the SQLite file `path` (empty: nothing)."""
    with closing(sqlite3.connect(path)) as conn:
        rows = [row[0] for row in conn.execute("PRAGMA integrity_check")]
    return [] if rows == ["ok"] else rows


def dump_postgresql(database_url: str, target: Path) -> None:
    """pg_dump in its custom format (compressed, for pg_restore) into the new file `target`, 0600."""
    create_private_file(target)
    _run_tool(
        "pg_dump", "--format=custom", "--no-owner", "--no-privileges", f"--file={target}", url=database_url
    )
    os.chmod(target, PRIVATE_FILE)


def restore_postgresql(database_url: str, source: Path) -> None:
    _run_tool(
        "pg_restore",
        "--no-owner",
        "--no-privileges",
        "--exit-on-error",
        "--single-transaction",
        str(source),
        url=database_url,
        database_flag="--dbname",
    )


def table_names(engine: Engine) -> list[str]:
    return sorted(inspect(engine).get_table_names())


def pg_tool(name: str) -> str | None:
    """`name` on PATH, else in the newest /usr/lib/postgresql/*/bin (Debian keeps them there)."""
    found = shutil.which(name)
    if found:
        return found
    candidates = sorted(Path("/usr/lib/postgresql").glob(f"*/bin/{name}"), key=_major_version)
    return str(candidates[-1]) if candidates else None


def _major_version(path: Path) -> int:
    version = path.parent.parent.name
    return int(version) if version.isdigit() else 0


def _run_tool(name: str, *args: str, url: str, database_flag: str = "--dbname") -> None:
    tool = pg_tool(name)
    if tool is None:
        raise BackupToolMissing(
            f"{name} is not installed (it comes with PostgreSQL's client tools, e.g. the "
            "postgresql-client package); it must be no older than the server"
        )
    libpq_url = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    result = subprocess.run(  # noqa: S603 - a fixed tool, arguments as a list
        [tool, *args, f"{database_flag}={libpq_url}"], capture_output=True, text=True, check=False
    )
    if result.returncode != 0:
        lines = result.stderr.strip().splitlines() or [f"exit status {result.returncode}"]
        raise BackupToolFailed(f"{name}: {lines[0]}")
