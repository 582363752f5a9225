"""The vector store: paper embeddings in the table paper_embeddings, one per paper and model.

Vectors are stored as float16 little-endian bytes (768 bytes for 384 dimensions): half of float32,
and a stored vector's cosine with its float32 original is within 1e-6 of 1, far below what
changes a ranking (docs/search.md). They are read back as one float32 matrix, rows normalised
again, for `domain.vectors.nearest`: numpy multiplies float32 with BLAS and float16 without.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

import numpy as np
import numpy.typing as npt
from sqlalchemy import BigInteger, Connection, Join, Text, and_, cast, delete, func, insert, or_, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.sql.elements import ColumnElement

from paperboy.storage.engine import now_utc
from paperboy.storage.schema import paper_embeddings, papers, sync_state
from paperboy.storage.sync_state import get_state

STORED_DTYPE = np.dtype("<f2")
# Counts every store and delete of any model's vectors, in the writer's transaction, so that
# processes holding vectors in memory (services/vector_index.py) see cheaply that they changed.
GENERATION_KEY = "vectors:generation"


class PaperToEmbed(NamedTuple):
    paper_id: int
    version: int  # papers.latest_version, 0 when unknown
    title: str
    abstract: str


def store_embeddings(
    conn: Connection,
    model: str,
    papers_embedded: Sequence[tuple[int, int]],
    vectors: npt.NDArray[np.floating],
) -> None:
    """Store one vector per (paper_id, version), replacing what `model` had for those papers."""
    if len(papers_embedded) != len(vectors):
        raise ValueError(f"{len(papers_embedded)} papers but {len(vectors)} vectors")
    if not papers_embedded:
        return
    ids = [paper_id for paper_id, _ in papers_embedded]
    conn.execute(
        delete(paper_embeddings).where(
            paper_embeddings.c.model == model, paper_embeddings.c.paper_id.in_(ids)
        )
    )
    blobs = np.ascontiguousarray(vectors, dtype=STORED_DTYPE)
    conn.execute(
        insert(paper_embeddings),
        [
            {"paper_id": paper_id, "model": model, "version": version, "vector": blobs[row].tobytes()}
            for row, (paper_id, version) in enumerate(papers_embedded)
        ],
    )
    _bump_generation(conn)


def store_embedding(
    conn: Connection, model: str, paper_id: int, version: int, vector: npt.NDArray[np.floating]
) -> None:
    store_embeddings(conn, model, [(paper_id, version)], vector.reshape(1, -1))


def papers_needing_embeddings(conn: Connection, model: str, limit: int) -> list[PaperToEmbed]:
    """Up to `limit` papers, by id, that `model` has not embedded, or embedded at an older version.
    Resuming an interrupted build is calling this again: what was stored is not returned."""
    version = func.coalesce(papers.c.latest_version, 0)
    statement = (
        select(papers.c.id, version, papers.c.title, papers.c.abstract)
        .select_from(_with_embeddings(model))
        .where(_needs_embedding(version))
        .order_by(papers.c.id)
        .limit(limit)
    )
    return [PaperToEmbed(*row) for row in conn.execute(statement)]


def count_papers_needing_embeddings(conn: Connection, model: str) -> int:
    """How many papers `papers_needing_embeddings` would list without a limit."""
    version = func.coalesce(papers.c.latest_version, 0)
    statement = select(func.count()).select_from(_with_embeddings(model)).where(_needs_embedding(version))
    count: int = conn.execute(statement).scalar_one()
    return count


def _with_embeddings(model: str) -> Join:
    return papers.outerjoin(
        paper_embeddings, and_(paper_embeddings.c.paper_id == papers.c.id, paper_embeddings.c.model == model)
    )


def _needs_embedding(version: ColumnElement[int]) -> ColumnElement[bool]:
    return or_(paper_embeddings.c.paper_id.is_(None), paper_embeddings.c.version < version)


def delete_embeddings(conn: Connection, model: str) -> int:
    """Delete every vector of `model` (other models' stay); returns how many there were."""
    result = conn.execute(delete(paper_embeddings).where(paper_embeddings.c.model == model))
    _bump_generation(conn)
    return result.rowcount


def vectors_generation(conn: Connection) -> int:
    """A number that grows with every store and delete of vectors (0 before the first)."""
    return int(get_state(conn, GENERATION_KEY) or 0)


def _bump_generation(conn: Connection) -> None:
    """Add one to the generation, atomically: one statement, so that concurrent writers each count."""
    insert_ = pg_insert if conn.dialect.name == "postgresql" else sqlite_insert
    statement = insert_(sync_state).values(key=GENERATION_KEY, value="1", updated_at=now_utc())
    conn.execute(
        statement.on_conflict_do_update(
            index_elements=[sync_state.c.key],
            set_={
                "value": cast(cast(sync_state.c.value, BigInteger) + 1, Text),
                "updated_at": statement.excluded.updated_at,
            },
        )
    )


def load_vectors(conn: Connection, model: str) -> tuple[npt.NDArray[np.float32], npt.NDArray[np.int64]]:
    """Every vector of `model` as a float32 matrix (one row per paper) and the papers' ids, by id."""
    rows = conn.execute(
        select(paper_embeddings.c.paper_id, paper_embeddings.c.vector)
        .where(paper_embeddings.c.model == model)
        .order_by(paper_embeddings.c.paper_id)
    ).all()
    ids = np.fromiter((paper_id for paper_id, _ in rows), dtype=np.int64, count=len(rows))
    if not rows:
        return np.zeros((0, 0), dtype=np.float32), ids
    blob = b"".join(bytes(vector) for _, vector in rows)
    matrix = np.frombuffer(blob, dtype=STORED_DTYPE).reshape(len(rows), -1).astype(np.float32)
    # Unit length again after float16's rounding, so that a dot product is exactly a cosine.
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    np.divide(matrix, norms, out=matrix, where=norms > 0)
    return matrix, ids


def count_embeddings(conn: Connection, model: str) -> int:
    count: int = conn.execute(
        select(func.count()).select_from(paper_embeddings).where(paper_embeddings.c.model == model)
    ).scalar_one()
    return count
