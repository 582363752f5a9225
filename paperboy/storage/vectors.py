"""The vector store: paper embeddings in the table paper_embeddings, one per paper and model.

Vectors are stored as float16 little-endian bytes (768 bytes for 384 dimensions): half of float32,
and a stored vector's cosine with its float32 original is within 1e-6 of 1, far below what
changes a ranking (docs/search.md). They are read back as one float32 matrix, rows normalised
again, for `domain.vectors.nearest`: numpy multiplies float32 with BLAS and float16 without.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, NamedTuple

import numpy as np
import numpy.typing as npt
from sqlalchemy import Connection, Join, and_, delete, func, insert, or_, select, text
from sqlalchemy.sql.elements import ColumnElement

from paperboy.storage.pgvector import as_halfvec, has_pgvector
from paperboy.storage.schema import paper_embeddings, papers
from paperboy.storage.sync_state import bump_counter, get_counter

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
    rows = [
        {"paper_id": paper_id, "model": model, "version": version, "vector": blobs[row].tobytes()}
        for row, (paper_id, version) in enumerate(papers_embedded)
    ]
    if has_pgvector(conn):  # the same float16 numbers in the searchable column too
        for row, values in enumerate(rows):
            values["embedding"] = as_halfvec(blobs[row])
        conn.execute(text(INSERT_WITH_COLUMN), rows)
    else:
        conn.execute(insert(paper_embeddings), rows)
    _bump_generation(conn)


INSERT_WITH_COLUMN = (
    "INSERT INTO paper_embeddings (paper_id, model, version, vector, embedding) "
    "VALUES (:paper_id, :model, :version, :vector, CAST(:embedding AS halfvec))"
)


def store_embedding(
    conn: Connection, model: str, paper_id: int, version: int, vector: npt.NDArray[np.floating]
) -> None:
    store_embeddings(conn, model, [(paper_id, version)], vector.reshape(1, -1))


def papers_needing_embeddings(
    conn: Connection, model: str, limit: int, *, after_id: int = 0
) -> list[PaperToEmbed]:
    """Up to `limit` papers with ids above `after_id`, by id, that `model` has not embedded, or
    embedded at an older version. Resuming an interrupted build is calling this again: what was
    stored is not returned. A build passes the last id of its previous batch as `after_id`: the
    scan then starts there instead of walking past every paper already embedded, which made each
    batch cost in proportion to the vectors stored (bench/embedding_speed.py)."""
    version = func.coalesce(papers.c.latest_version, 0)
    statement = (
        select(papers.c.id, version, papers.c.title, papers.c.abstract)
        .select_from(_with_embeddings(model, after_id))
        .where(papers.c.id > after_id, _needs_embedding(version))
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


def _with_embeddings(model: str, after_id: int = 0) -> Join:
    """Papers with `model`'s vectors, if any. The vectors' side is bounded by `after_id` too:
    PostgreSQL does not carry `papers.id > after_id` across the join, and merge-joined every
    stored vector from the first one (a batch's read then still grew with the store)."""
    return papers.outerjoin(
        paper_embeddings,
        and_(
            paper_embeddings.c.paper_id == papers.c.id,
            paper_embeddings.c.model == model,
            paper_embeddings.c.paper_id > after_id,
        ),
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
    return get_counter(conn, GENERATION_KEY)


def _bump_generation(conn: Connection) -> None:
    bump_counter(conn, GENERATION_KEY)


def load_vectors(conn: Connection, model: str) -> tuple[npt.NDArray[np.float32], npt.NDArray[np.int64]]:
    """Every vector of `model` as a float32 matrix (one row per paper) and the papers' ids, by id."""
    stored = _read(conn, model)
    return stored.matrix, stored.ids


class StoredVectors(NamedTuple):
    ids: npt.NDArray[np.int64]  # ascending
    versions: npt.NDArray[np.int64]  # the paper's version each vector embeds
    matrix: npt.NDArray[np.float32]  # one unit row per id


def load_vectors_after(
    conn: Connection, model: str, after_id: int, limit: int | None = None
) -> StoredVectors:
    """`model`'s vectors of the papers with ids above `after_id`, by id, at most `limit`: what
    was stored for papers newer than an index, or a build's next batch."""
    return _read(conn, model, paper_embeddings.c.paper_id > after_id, limit=limit)


def load_vectors_of(conn: Connection, model: str, paper_ids: Sequence[int]) -> StoredVectors:
    """`model`'s vectors of those of `paper_ids` that have one, by id."""
    column = paper_embeddings.c.paper_id
    parts = [
        part
        for start in range(0, len(paper_ids), IDS_PER_QUERY)
        if len((part := _read(conn, model, column.in_(paper_ids[start : start + IDS_PER_QUERY]))).ids)
    ]
    if not parts:
        return _decoded([])
    ids = np.concatenate([part.ids for part in parts])
    order = np.argsort(ids, kind="stable")
    return StoredVectors(
        ids[order],
        np.concatenate([part.versions for part in parts])[order],
        np.concatenate([part.matrix for part in parts])[order],
    )


IDS_PER_QUERY = 1000  # bound parameters per statement


def load_vector_versions(conn: Connection, model: str) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    """The ids of the papers `model` has vectors for, ascending, and the version each embeds
    (without the vectors: for finding what changed since an index was built)."""
    result = conn.execute(
        select(paper_embeddings.c.paper_id, paper_embeddings.c.version)
        .where(paper_embeddings.c.model == model)
        .order_by(paper_embeddings.c.paper_id)
    )
    pairs = np.array(result.all(), dtype=np.int64).reshape(-1, 2)
    return np.ascontiguousarray(pairs[:, 0]), np.ascontiguousarray(pairs[:, 1])


def _read(
    conn: Connection, model: str, *where: ColumnElement[bool], limit: int | None = None
) -> StoredVectors:
    statement = (
        select(paper_embeddings.c.paper_id, paper_embeddings.c.version, paper_embeddings.c.vector)
        .where(paper_embeddings.c.model == model, *where)
        .order_by(paper_embeddings.c.paper_id)
        .limit(limit)
    )
    return _decoded(conn.execute(statement).all())


def _decoded(rows: Sequence[Any]) -> StoredVectors:
    ids = np.fromiter((row[0] for row in rows), dtype=np.int64, count=len(rows))
    versions = np.fromiter((row[1] for row in rows), dtype=np.int64, count=len(rows))
    if not rows:
        return StoredVectors(ids, versions, np.zeros((0, 0), dtype=np.float32))
    blob = b"".join(bytes(row[2]) for row in rows)
    matrix = np.frombuffer(blob, dtype=STORED_DTYPE).reshape(len(rows), -1).astype(np.float32)
    # Unit length again after float16's rounding, so that a dot product is exactly a cosine.
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    np.divide(matrix, norms, out=matrix, where=norms > 0)
    return StoredVectors(ids, versions, matrix)


def count_embeddings(conn: Connection, model: str) -> int:
    count: int = conn.execute(
        select(func.count()).select_from(paper_embeddings).where(paper_embeddings.c.model == model)
    ).scalar_one()
    return count
