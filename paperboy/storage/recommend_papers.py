"""The papers "For you" scores, with what its model reads of them (title, abstract, authors,
categories): a period's papers, or given ones (a reader's library), in three statements
whatever their number."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import ColumnElement, Connection, select

from paperboy.storage.queries import id_in, period_filter
from paperboy.storage.schema import listings, paper_authors, paper_categories, papers


@dataclass(frozen=True, slots=True)
class PaperText:
    paper_id: int
    arxiv_id: str
    title: str
    abstract: str
    authors: tuple[str, ...]
    categories: tuple[str, ...]  # primary first


def period_texts(conn: Connection, start: date, end: date, category: str | None = None) -> list[PaperText]:
    """Every paper listed in [start, end] (filed under `category` when given), by row id."""
    listed = select(listings.c.paper_id).where(*period_filter(start, end, category)).distinct()
    return _texts(conn, papers.c.id.in_(listed.scalar_subquery()))


def texts_of(conn: Connection, paper_ids: Sequence[int]) -> list[PaperText]:
    """The papers of these row ids (unknown ones skipped), by row id."""
    return _texts(conn, id_in(papers.c.id, paper_ids)) if paper_ids else []


def _texts(conn: Connection, where: ColumnElement[bool]) -> list[PaperText]:
    rows = conn.execute(
        select(papers.c.id, papers.c.arxiv_id, papers.c.title, papers.c.abstract)
        .where(where)
        .order_by(papers.c.id)
    ).all()
    if not rows:
        return []
    authors = _grouped(conn, paper_authors, paper_authors.c.name, where)
    categories = _grouped(conn, paper_categories, paper_categories.c.category, where)
    return [
        PaperText(
            row.id, row.arxiv_id, row.title, row.abstract, tuple(authors[row.id]), tuple(categories[row.id])
        )
        for row in rows
    ]


def _grouped(
    conn: Connection, table: Any, column: ColumnElement[str], where: ColumnElement[bool]
) -> dict[int, list[str]]:
    """`column` of each paper, in position order."""
    query = (
        select(table.c.paper_id, column)
        .join(papers, papers.c.id == table.c.paper_id)
        .where(where)
        .order_by(table.c.paper_id, table.c.position)
    )
    found: defaultdict[int, list[str]] = defaultdict(list)
    for paper_id, value in conn.execute(query):
        found[paper_id].append(value)
    return found
