"""Precomputed nearest neighbours: paper_neighbours, one ranked list per paper and model.

A list is trusted only while it is what the vectors say now: the paper's vector and each
neighbour's must be at the versions the list was computed from, and none of its rows may have
gone (a paper deleted from the catalogue takes its rows with it, by the foreign keys). Anything
else reads as no list (`stored_neighbours` answers None) and the caller searches the vectors.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import Connection, and_, bindparam, delete, func, insert, or_, select

from paperboy.storage.schema import paper_embeddings, paper_neighbours

Neighbours = tuple[list[int], list[float]]

_subject = paper_embeddings.alias("subject")
_neighbour = paper_embeddings.alias("neighbour")


@dataclass(frozen=True, slots=True)
class NeighbourList:
    """One paper's neighbours as computed, with the vector versions they were computed from."""

    paper_id: int
    version: int
    ids: Sequence[int]
    scores: Sequence[float]
    versions: Sequence[int]  # each neighbour's vector version


_pn = paper_neighbours.c
# Built once (building a statement anew costs about as much CPU as running it): one paper's list
# in rank order, with the versions of its paper's vector and of each neighbour's now.
_STORED = (
    select(
        _pn.neighbour_id,
        _pn.score,
        _pn.listed,
        _pn.version,
        _pn.neighbour_version,
        _subject.c.version,
        _neighbour.c.version,
    )
    .select_from(
        paper_neighbours.outerjoin(
            _subject, and_(_subject.c.paper_id == _pn.paper_id, _subject.c.model == _pn.model)
        ).outerjoin(
            _neighbour, and_(_neighbour.c.paper_id == _pn.neighbour_id, _neighbour.c.model == _pn.model)
        )
    )
    .where(_pn.paper_id == bindparam("paper_id"), _pn.model == bindparam("model"))
    .order_by(_pn.rank)
)


def stored_neighbours(conn: Connection, model: str, paper_id: int, k: int) -> Neighbours | None:
    """The paper's `k` nearest neighbours as stored, when its list is current and holds at least
    `k`; None otherwise."""
    rows = conn.execute(_STORED, {"paper_id": paper_id, "model": model}).all()
    if not rows or len(rows) != rows[0][2] or len(rows) < k:
        return None  # none computed, a neighbour left the catalogue since, or too short
    version = rows[0][3]
    for row in rows:
        if row[5] != version or row[6] != row[4]:
            return None  # the paper's vector or a neighbour's changed (or went) since
    return [row[0] for row in rows[:k]], [float(row[1]) for row in rows[:k]]


def store_neighbour_lists(
    conn: Connection, model: str, generation: int, lists: Sequence[NeighbourList]
) -> None:
    """Replace the lists of these papers with `lists`, computed at the vectors' `generation`."""
    if not lists:
        return
    conn.execute(
        delete(paper_neighbours).where(_pn.model == model, _pn.paper_id.in_([one.paper_id for one in lists]))
    )
    rows = [
        {
            "paper_id": one.paper_id,
            "model": model,
            "rank": rank,
            "neighbour_id": neighbour,
            "score": score,
            "version": one.version,
            "neighbour_version": neighbour_version,
            "listed": len(one.ids),
            "generation": generation,
        }
        for one in lists
        for rank, (neighbour, score, neighbour_version) in enumerate(
            zip(one.ids, one.scores, one.versions, strict=True)
        )
    ]
    if rows:
        conn.execute(insert(paper_neighbours), rows)


def papers_needing_neighbours(conn: Connection, model: str) -> list[int]:
    """The papers with a `model` vector whose list is missing or not current (their vector or a
    neighbour's changed, or a neighbour left), ascending."""
    first = and_(_pn.paper_id == paper_embeddings.c.paper_id, _pn.model == model, _pn.rank == 0)
    without = (
        select(paper_embeddings.c.paper_id)
        .select_from(paper_embeddings.outerjoin(paper_neighbours, first))
        .where(
            paper_embeddings.c.model == model,
            or_(_pn.paper_id.is_(None), _pn.version != paper_embeddings.c.version),
        )
    )
    moved = (
        select(_pn.paper_id)
        .select_from(
            paper_neighbours.outerjoin(
                _neighbour, and_(_neighbour.c.paper_id == _pn.neighbour_id, _neighbour.c.model == model)
            )
        )
        .where(
            _pn.model == model,
            or_(_neighbour.c.version.is_(None), _neighbour.c.version != _pn.neighbour_version),
        )
    )
    short = (
        select(_pn.paper_id)
        .where(_pn.model == model)
        .group_by(_pn.paper_id)
        .having(func.count() != func.max(_pn.listed))
    )
    found: set[int] = set()
    for statement in (without, moved, short):
        found.update(int(row[0]) for row in conn.execute(statement))
    return sorted(found)


def last_scores(conn: Connection, model: str) -> dict[int, float]:
    """The score of the last neighbour in each paper's list: a paper nearer than that belongs in
    the list."""
    statement = select(_pn.paper_id, _pn.score).where(_pn.model == model, _pn.rank == _pn.listed - 1)
    return {int(paper): float(score) for paper, score in conn.execute(statement)}


def count_neighbour_lists(conn: Connection, model: str) -> int:
    """How many papers have a list of `model` (current or not)."""
    statement = select(func.count()).select_from(paper_neighbours).where(_pn.model == model, _pn.rank == 0)
    count: int = conn.execute(statement).scalar_one()
    return count


def delete_neighbour_lists(conn: Connection, model: str) -> int:
    """Delete every list of `model` (its vectors are being computed anew); how many rows went."""
    return conn.execute(delete(paper_neighbours).where(_pn.model == model)).rowcount
