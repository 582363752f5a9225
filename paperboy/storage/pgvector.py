"""Vectors searched inside PostgreSQL with the pgvector extension (docs/search.md, "Vectors in
the database").

Where the extension is installed, migration 0017 (or `paperboy index`, for an extension added
later: `enable_pgvector`) gives `paper_embeddings` a second copy of each vector in a `halfvec`
column, `embedding`, which `store_embeddings` writes in the same statement as the float16 bytes
(storage/vectors.py; both are 16-bit, so they hold the same numbers). Each model gets an HNSW
index of its own (`ensure_hnsw_index`, from `paperboy index` and after each embedding batch): a
partial index (`WHERE model = '…'`) on the column cast to the model's dimensions, since one
index needs one dimension count and the table holds every model's vectors. Queries repeat that
cast and the model as a literal, so the planner matches them to the partial index.

Without the extension (Debian's PostgreSQL, SQLite) nothing here runs: `has_pgvector` is False
and services keep the per-host index (services/vector_index.py).
"""

from __future__ import annotations

import hashlib
import logging
import threading
import weakref
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt
from sqlalchemy import Connection, Engine, event, text
from sqlalchemy.exc import DBAPIError

log = logging.getLogger(__name__)

COLUMN = "embedding"
# pgvector's defaults (m 16, ef_construction 64) reach recall@10 0.99+ on the corpus when a query
# explores EF_SEARCH candidates (bench/scale.py); a query asking for more rows explores as many.
EF_SEARCH = 100
EF_SEARCH_MAX = 1000  # pgvector's limit
# The build's maintenance_work_mem: pgvector builds fast while the graph fits in it (64 MB by
# default; a 384-dimension halfvec graph takes ~1.3 KB a vector, ~100 MB at 74,728 papers, ~1.3 GB
# at a million), and much slower once it spills. Sized to the vectors, within these bounds.
BUILD_MEMORY_MIN_MB = 256
BUILD_MEMORY_MAX_MB = 4096
_known: weakref.WeakKeyDictionary[Engine, bool] = weakref.WeakKeyDictionary()
_known_lock = threading.Lock()


def has_pgvector(conn: Connection) -> bool:
    """True when the database is PostgreSQL with `paper_embeddings.embedding` (the extension
    installed and migration 0017 or `enable_pgvector` run); asked once per engine."""
    if conn.dialect.name != "postgresql":
        return False
    engine = conn.engine
    with _known_lock:
        known = _known.get(engine)
    if known is None:
        known = _column_exists(conn)
        with _known_lock:
            _known[engine] = known
    return known


def forget_pgvector(engine: Engine) -> None:
    """Ask the database again next time (after `enable_pgvector`)."""
    with _known_lock:
        _known.pop(engine, None)


def _column_exists(conn: Connection) -> bool:
    found = conn.execute(
        text(
            "SELECT 1 FROM information_schema.columns WHERE table_schema = current_schema() "
            "AND table_name = 'paper_embeddings' AND column_name = :column"
        ),
        {"column": COLUMN},
    ).first()
    return found is not None


def pgvector_available(conn: Connection) -> bool:
    """True when the server has the extension to install (`pg_available_extensions`)."""
    if conn.dialect.name != "postgresql":
        return False
    found = conn.execute(text("SELECT 1 FROM pg_available_extensions WHERE name = 'vector'")).first()
    return found is not None


def enable_pgvector(conn: Connection) -> bool:
    """Install the extension and add the column when the server has it; True when the column is
    there after. What migration 0017 does, for a server that got pgvector after migrating."""
    if not pgvector_available(conn):
        return False
    try:
        with conn.begin_nested():  # a role that may not create it leaves the per-host index on
            conn.execute(text("CREATE EXTENSION IF NOT EXISTS vector"))
            conn.execute(text(f"ALTER TABLE paper_embeddings ADD COLUMN IF NOT EXISTS {COLUMN} halfvec"))
    except DBAPIError as exc:
        log.warning("pgvector is installed but cannot be used here (%s): vectors stay per host", exc.orig)
        return False
    return True


def as_halfvec(row: npt.NDArray[np.floating]) -> str:
    """A vector as pgvector's text form, `[x,y,…]`."""
    return "[" + ",".join(repr(float(x)) for x in row.tolist()) + "]"


def backfill_vectors(conn: Connection, model: str, batch: int = 5000) -> int:
    """Copy into the column the vectors stored before it existed (their float16 bytes); returns
    how many rows it filled."""
    filled = 0
    while True:
        rows = conn.execute(
            text(
                "SELECT paper_id, vector FROM paper_embeddings "
                f"WHERE model = :model AND {COLUMN} IS NULL LIMIT :batch"
            ),
            {"model": model, "batch": batch},
        ).all()
        if not rows:
            return filled
        conn.execute(
            text(
                f"UPDATE paper_embeddings SET {COLUMN} = CAST(:e AS halfvec) "
                "WHERE paper_id = :id AND model = :m"
            ),
            [
                {"id": row[0], "m": model, "e": as_halfvec(np.frombuffer(bytes(row[1]), dtype="<f2"))}
                for row in rows
            ],
        )
        filled += len(rows)


def index_name(model: str) -> str:
    return f"ix_paper_embeddings_hnsw_{hashlib.sha256(model.encode()).hexdigest()[:12]}"


def _literal(model: str) -> str:
    return "'" + model.replace("'", "''") + "'"


def _cast(dimensions: int) -> str:
    return f"({COLUMN}::halfvec({int(dimensions)}))"


def model_dimensions(conn: Connection, model: str) -> int | None:
    """The dimensions of `model`'s stored vectors (None when it has none)."""
    found = conn.execute(
        text(
            f"SELECT vector_dims({COLUMN}) FROM paper_embeddings "
            f"WHERE model = :m AND {COLUMN} IS NOT NULL LIMIT 1"
        ),
        {"m": model},
    ).scalar()
    return None if found is None else int(found)


def hnsw_index_exists(conn: Connection, model: str) -> bool:
    found = conn.execute(
        text("SELECT 1 FROM pg_indexes WHERE schemaname = current_schema() AND indexname = :name"),
        {"name": index_name(model)},
    ).first()
    return found is not None


def create_hnsw_index(conn: Connection, model: str, dimensions: int) -> None:
    """`model`'s HNSW index (cosine), if missing. Run with autocommit: CONCURRENTLY lets writers
    go on while it builds."""
    count = conn.execute(
        text("SELECT count(*) FROM paper_embeddings WHERE model = :m"), {"m": model}
    ).scalar()
    wanted = int(count or 0) * (2 * dimensions + 600) * 5 // 4 // 2**20
    memory = min(max(wanted, BUILD_MEMORY_MIN_MB), BUILD_MEMORY_MAX_MB)
    conn.execute(text(f"SET maintenance_work_mem = '{memory}MB'"))
    conn.execute(
        text(
            f"CREATE INDEX CONCURRENTLY IF NOT EXISTS {index_name(model)} ON paper_embeddings "
            f"USING hnsw ({_cast(dimensions)} halfvec_cosine_ops) WHERE model = {_literal(model)}"
        )
    )
    conn.execute(text("RESET maintenance_work_mem"))


def drop_hnsw_index(conn: Connection, model: str) -> None:
    conn.execute(text(f"DROP INDEX IF EXISTS {index_name(model)}"))


def search_nearest(
    conn: Connection,
    model: str,
    query: npt.NDArray[np.floating],
    limit: int,
    exclude: Sequence[int] = (),
) -> list[tuple[int, float]]:
    """The `limit` nearest of `model`'s papers to `query` by cosine through the HNSW index,
    skipping `exclude`: (paper id, cosine) nearest first. Call inside `engine.begin()`: the
    search settings it may set on the connection last only once committed."""
    _tune(conn, limit + len(exclude))
    distance = f"{_cast(len(query))} <=> CAST(:q AS halfvec({len(query)}))"
    skip = "AND paper_id <> ALL(:exclude)" if exclude else ""
    rows = conn.execute(
        text(
            f"SELECT paper_id, {distance} AS d FROM paper_embeddings "
            f"WHERE model = {_literal(model)} AND {COLUMN} IS NOT NULL {skip} ORDER BY d LIMIT :limit"
        ),
        {"q": as_halfvec(query), "limit": limit, "exclude": list(exclude)},
    ).all()
    return [(int(row[0]), 1.0 - float(row[1])) for row in rows]


def search_neighbours(
    conn: Connection, model: str, paper_id: int, dimensions: int, limit: int
) -> list[tuple[int, float]] | None:
    """The `limit` papers nearest to the paper's own stored vector, never itself, in one
    statement (the vector read by a subquery pgvector's index takes as its query); None when the
    paper has no vector. Call inside `engine.begin()`, as `search_nearest`."""
    _tune(conn, limit + 1)
    cast = _cast(dimensions)
    rows = conn.execute(
        text(
            f"SELECT paper_id, {cast} <=> (SELECT {cast} FROM paper_embeddings "
            f"WHERE paper_id = :paper AND model = {_literal(model)}) AS d FROM paper_embeddings "
            f"WHERE model = {_literal(model)} AND {COLUMN} IS NOT NULL AND paper_id <> :paper "
            "ORDER BY d LIMIT :limit"
        ),
        {"paper": paper_id, "limit": limit},
    ).all()
    if not rows or rows[0][1] is None:  # no vector (or no other paper: the same answer)
        return None
    return [(int(row[0]), 1.0 - float(row[1])) for row in rows]


def _tune(conn: Connection, wanted: int) -> None:
    """The connection's ef_search at least `wanted` (in steps of EF_SEARCH, up to pgvector's
    limit), and iterative scans on, so that filtered results keep the index walking until
    enough rows pass (pgvector 0.8). Set for the session and remembered on the pooled
    connection: a search costs no statement for them once its connection has them."""
    ef = min(EF_SEARCH * -(-max(wanted, 1) // EF_SEARCH), EF_SEARCH_MAX)
    info = conn.connection.info
    if info.get("hnsw.ef_search") == ef:
        return
    conn.execute(
        text(
            "SELECT set_config('hnsw.ef_search', :ef, false), "
            "set_config('hnsw.iterative_scan', 'relaxed_order', false)"
        ),
        {"ef": str(ef)},
    )
    info["hnsw.ef_search"] = ef
    # Kept only if the transaction commits: forget it otherwise, so the next search sets it again.
    event.listen(conn, "rollback", lambda _conn: info.pop("hnsw.ef_search", None), once=True)


def search_within(
    conn: Connection,
    model: str,
    query: npt.NDArray[np.floating],
    limit: int,
    within: Sequence[int],
    exclude: Sequence[int] = (),
) -> list[tuple[int, float]]:
    """The same among the papers `within` only, scored exactly (no index: the order's `+ 0`
    keeps the planner from walking the graph for a few allowed papers)."""
    distance = f"({_cast(len(query))} <=> CAST(:q AS halfvec({len(query)})))"
    rows = conn.execute(
        text(
            f"SELECT paper_id, {distance} AS d FROM paper_embeddings "
            f"WHERE model = {_literal(model)} AND paper_id = ANY(:within) AND paper_id <> ALL(:exclude) "
            f"AND {COLUMN} IS NOT NULL ORDER BY {distance} + 0 LIMIT :limit"
        ),
        {"q": as_halfvec(query), "limit": limit, "within": list(within), "exclude": list(exclude)},
    ).all()
    return [(int(row[0]), 1.0 - float(row[1])) for row in rows]


def embedding_ids(conn: Connection, model: str) -> npt.NDArray[np.int64]:
    """Every paper id `model` has a vector for, ascending."""
    rows = conn.execute(
        text("SELECT paper_id FROM paper_embeddings WHERE model = :m ORDER BY paper_id"), {"m": model}
    ).all()
    return np.fromiter((row[0] for row in rows), dtype=np.int64, count=len(rows))
