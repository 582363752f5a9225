"""Scratch space for one `python -m bench` run: temp data dirs and PostgreSQL databases,
and the imported corpus that later benchmarks reuse. Everything is removed on exit."""

from __future__ import annotations

import itertools
import os
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType

from sqlalchemy.engine import make_url

from bench import postgres

SQLITE = "SQLite"
POSTGRES = "PostgreSQL"

PG_KEY = "a signing key shared by the benchmark's hosts"


@dataclass(frozen=True, slots=True)
class Target:
    """One database an import or a server uses: its label, environment and where it lives."""

    label: str
    env: dict[str, str]
    sqlite_dir: Path | None = None
    pg_url: str | None = None

    @property
    def url(self) -> str:
        """The database's SQLAlchemy URL, as `paperboy` finds it from `env`."""
        return self.pg_url or f"sqlite:///{self.sqlite_dir}/paperboy.sqlite3"


@dataclass
class Workspace:
    pg_admin: str | None
    pg_note: str = ""
    only: str | None = None  # "sqlite" or "postgresql": `--databases`, the one kind measured
    root: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="paperboy-bench-")))
    imported: dict[str, Target] = field(default_factory=dict)  # label -> a fully imported database
    import_failures: dict[str, str] = field(default_factory=dict)  # label -> why its import failed
    _databases: list[str] = field(default_factory=list)
    _counter: itertools.count[int] = field(default_factory=itertools.count)

    def labels(self) -> list[str]:
        both = [SQLITE, POSTGRES] if self.pg_admin else [SQLITE]
        return [label for label in both if self.only is None or label.lower() == self.only]

    def fresh(self, label: str) -> Target:
        """A new, empty database of kind `label`."""
        n = next(self._counter)
        if label == SQLITE:
            data_dir = self.root / f"sqlite-{n}"
            data_dir.mkdir()
            return Target(label, {"PAPERBOY_DATA_DIR": str(data_dir)}, sqlite_dir=data_dir)
        if not self.pg_admin:
            raise ValueError("a PostgreSQL target needs PAPERBOY_BENCH_POSTGRES_URL")
        name = f"bench_import_{os.getpid()}_{n}"
        self._databases.append(name)
        url = postgres.create_database(self.pg_admin, name)
        data_dir = self.root / f"pg-{n}"
        data_dir.mkdir()
        # Every process on a PostgreSQL site needs the key its hosts share (docs/operations.md).
        env = {"PAPERBOY_DATA_DIR": str(data_dir), "PAPERBOY_DATABASE_URL": url}
        env["PAPERBOY_SECRET_KEY"] = PG_KEY
        return Target(label, env, pg_url=url)

    def copy(self, target: Target, suffix: str) -> Target:
        """A copy of `target`: its data directory, and for PostgreSQL its database, made from it
        as a template (nothing may be connected to it meanwhile); removed on exit like the rest."""
        data_dir = self.root / f"{Path(target.env['PAPERBOY_DATA_DIR']).name}-{suffix}"
        shutil.copytree(target.env["PAPERBOY_DATA_DIR"], data_dir)
        env = {**target.env, "PAPERBOY_DATA_DIR": str(data_dir)}
        if target.pg_url is None:
            return Target(target.label, env, sqlite_dir=data_dir)
        if not self.pg_admin:
            raise ValueError("a PostgreSQL copy needs PAPERBOY_BENCH_POSTGRES_URL")
        name = f"{make_url(target.pg_url).database}_{suffix}"
        self._databases.append(name)
        env["PAPERBOY_DATABASE_URL"] = url = postgres.copy_database(
            self.pg_admin, make_url(target.pg_url).database or "", name
        )
        return Target(target.label, env, pg_url=url)

    def discard(self, target: Target) -> None:
        """Remove a database no later benchmark needs (repeats would fill the disk otherwise)."""
        if target.sqlite_dir:
            shutil.rmtree(target.sqlite_dir, ignore_errors=True)
        if target.pg_url and self.pg_admin:
            name = make_url(target.pg_url).database or ""
            postgres.drop_database(self.pg_admin, name)
            self._databases.remove(name)

    def log_dir(self, name: str) -> Path:
        return Path(tempfile.mkdtemp(prefix=f"{name}-", dir=self.root))

    def __enter__(self) -> Workspace:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        for name in self._databases:
            if self.pg_admin:
                postgres.drop_database(self.pg_admin, name)
        shutil.rmtree(self.root, ignore_errors=True)
