"""Which vector search a process uses, behind one Protocol: `VectorIndex` (every process holds the
vectors, or memory-maps the HNSW file `paperboy index` built on its host, refreshed from the
database) or `PgVectorIndex` (PostgreSQL with pgvector answers; nothing per host). The
`vector_search` setting picks: `auto` uses the database's index where it has pgvector's column
(migration 0017), `per-host` always the per-host index (docs/search.md)."""

from __future__ import annotations

import time
from collections.abc import Collection
from pathlib import Path
from typing import Protocol

import numpy as np
import numpy.typing as npt
from sqlalchemy import Connection, Engine

from paperboy.services.pgvector_index import PgVectorIndex
from paperboy.services.vector_index import VectorIndex, update_ann_index
from paperboy.storage.ann_index import remove_builds
from paperboy.storage.pgvector import (
    backfill_vectors,
    create_hnsw_index,
    drop_hnsw_index,
    enable_pgvector,
    forget_pgvector,
    has_pgvector,
    hnsw_index_exists,
    model_dimensions,
)

VECTOR_SEARCHES = ("auto", "per-host")


class Vectors(Protocol):
    """One model's vectors, searched by cosine (what search, similar papers and "For you" ask)."""

    def nearest(
        self,
        query: npt.NDArray[np.floating],
        k: int,
        *,
        exclude: Collection[int] = (),
        within: Collection[int] | None = None,
        conn: Connection | None = None,  # the caller's, when it holds one: asked on it
    ) -> tuple[list[int], list[float]]: ...

    def neighbours_of(self, paper_id: int, k: int) -> tuple[list[int], list[float]] | None: ...

    def kept_neighbours(self, paper_id: int, k: int) -> tuple[list[int], list[float]] | None: ...

    def keep_neighbours(self, paper_id: int, k: int, answer: tuple[list[int], list[float]]) -> None: ...

    def vector_of(self, paper_id: int) -> npt.NDArray[np.float32] | None: ...

    def vectors_of(
        self, paper_ids: Collection[int]
    ) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.float32]]: ...

    def sample_vectors(self, count: int, seed: int) -> npt.NDArray[np.float32]: ...

    def sample_ids(self, count: int, seed: int) -> npt.NDArray[np.int64]: ...

    def generation(self) -> int: ...

    def __len__(self) -> int: ...

    def loaded_size(self) -> int | None: ...

    @property
    def approximate(self) -> bool: ...

    def refresh(self) -> bool: ...

    def close(self, timeout: float = ...) -> None: ...


def open_vectors(
    engine: Engine,
    model: str,
    *,
    search: str = "auto",
    refresh_seconds: float = 2.0,
    directory: Path | None = None,
) -> Vectors:
    """The database's index when `search` is auto and the database has pgvector, else the
    per-host one (in memory, or the HNSW file under `directory`)."""
    if search == "auto" and in_database(engine):
        return PgVectorIndex(engine, model)  # nothing to refresh: the database answers
    return VectorIndex(engine, model, refresh_seconds=refresh_seconds, directory=directory)


def in_database(engine: Engine) -> bool:
    """True when this database searches vectors itself (PostgreSQL with pgvector's column)."""
    if engine.dialect.name != "postgresql":
        return False
    with engine.connect() as conn:
        return has_pgvector(conn)


def update_vector_index(
    engine: Engine,
    model: str,
    directory: Path,
    threshold: int,
    *,
    search: str = "auto",
    rebuild: bool = False,
) -> str:
    """What `paperboy index` runs after embedding; returns a summary line. With pgvector (set up
    here too when the server got the extension after migrating): vectors stored before the
    column existed copied into it, and `model`'s HNSW index built if missing (again with
    `rebuild`); the per-host files then have no use and are removed. Otherwise the per-host
    approximate index, as `update_ann_index` keeps it."""
    if search == "auto" and engine.dialect.name == "postgresql" and not in_database(engine):
        with engine.begin() as conn:
            enabled = enable_pgvector(conn)
        forget_pgvector(engine)
        del enabled  # in_database below asks again
    if search != "auto" or not in_database(engine):
        return update_ann_index(engine, model, directory, threshold, rebuild=rebuild)
    with engine.begin() as conn:
        filled = backfill_vectors(conn, model)
    started = time.perf_counter()
    built = ensure_database_index(engine, model, rebuild=rebuild)
    remove_builds(directory, model)
    copied = f"; {filled} vectors copied into it" if filled else ""
    if not built:
        return f"vector index: {model} searched in the database by pgvector's HNSW index, current{copied}"
    seconds = time.perf_counter() - started
    return f"vector index: pgvector HNSW index of {model} built in the database in {seconds:.0f} s{copied}"


def ensure_database_index(engine: Engine, model: str, *, rebuild: bool = False) -> bool:
    """Build `model`'s HNSW index in the database when it is missing (or `rebuild`); True when
    it built one. Nothing without pgvector or without vectors."""
    if not in_database(engine):
        return False
    with engine.connect() as conn:
        exists = hnsw_index_exists(conn, model)
        dimensions = model_dimensions(conn, model)
    if dimensions is None or (exists and not rebuild):
        return False
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        if exists:
            drop_hnsw_index(conn, model)
        create_hnsw_index(conn, model, dimensions)
    return True
