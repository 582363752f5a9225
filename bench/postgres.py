"""Throw-away PostgreSQL databases on the server named by PAPERBOY_BENCH_POSTGRES_URL (an admin URL)."""

from __future__ import annotations

import os

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError

ENV_VAR = "PAPERBOY_BENCH_POSTGRES_URL"


def admin_url() -> tuple[str | None, str]:
    """(the admin URL, "") when the server answers, else (None, why PostgreSQL is skipped)."""
    url = os.environ.get(ENV_VAR, "")
    if not url:
        return None, f"{ENV_VAR} is unset: PostgreSQL skipped"
    try:
        server_version(url)
    except (SQLAlchemyError, ValueError) as exc:
        reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
        return None, f"PostgreSQL at {ENV_VAR} unreachable ({reason}): skipped"
    return url, ""


def server_version(url: str) -> str:
    """The version, and the durability settings that change write speed (fsync=off is a test server)."""
    engine = create_engine(url, connect_args={"connect_timeout": 5})
    try:
        with engine.connect() as conn:
            version = conn.execute(text("SHOW server_version")).scalar_one()
            fsync = conn.execute(text("SHOW fsync")).scalar_one()
            commit = conn.execute(text("SHOW synchronous_commit")).scalar_one()
    finally:
        engine.dispose()
    return f"{version.split()[0]} (fsync={fsync}, synchronous_commit={commit})"


def create_database(admin: str, name: str) -> str:
    """Create database `name` (dropping a leftover of that name) and return its URL."""
    _autocommit(admin, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)', f'CREATE DATABASE "{name}"')
    return make_url(admin).set(database=name).render_as_string(hide_password=False)


def copy_database(admin: str, template: str, name: str) -> str:
    """Create database `name` as a copy of `template` (nobody may be connected to the template
    meanwhile) and return its URL."""
    _autocommit(
        admin,
        f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)',
        f'CREATE DATABASE "{name}" TEMPLATE "{template}"',
    )
    return make_url(admin).set(database=name).render_as_string(hide_password=False)


def drop_database(admin: str, name: str) -> None:
    _autocommit(admin, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def database_size_mib(url: str) -> float:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            size = conn.execute(text("SELECT pg_database_size(current_database())")).scalar_one()
    finally:
        engine.dispose()
    return int(size) / 2**20


def _autocommit(url: str, *statements: str) -> None:
    engine = create_engine(url, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            for statement in statements:
                conn.execute(text(statement))
    finally:
        engine.dispose()
