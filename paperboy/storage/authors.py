"""Author pages' questions, all by normalised name (`paper_authors.name_key`, domain/follows.py),
each one statement served by ix_paper_authors_name_key."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection, func, select
from sqlalchemy.orm import aliased

from paperboy.storage.schema import paper_authors, paper_categories, papers


@dataclass(frozen=True, slots=True)
class Spelling:
    name: str
    papers: int


@dataclass(frozen=True, slots=True)
class Coauthor:
    key: str
    name: str  # the most frequent spelling among the shared papers (ties: the first in order)
    papers: int  # papers shared with the author


def spellings(conn: Connection, key: str) -> list[Spelling]:
    """The ways the papers spell this name, the most frequent first."""
    count = func.count(func.distinct(paper_authors.c.paper_id))
    query = (
        select(paper_authors.c.name, count.label("n"))
        .where(paper_authors.c.name_key == key)
        .group_by(paper_authors.c.name)
        .order_by(count.desc(), paper_authors.c.name)
    )
    return [Spelling(row.name, row.n) for row in conn.execute(query)]


def count_author_papers(conn: Connection, key: str) -> int:
    query = select(func.count(func.distinct(paper_authors.c.paper_id))).where(paper_authors.c.name_key == key)
    return int(conn.execute(query).scalar_one())


def author_paper_ids(conn: Connection, key: str, *, limit: int, offset: int = 0) -> list[int]:
    """The author's papers, the newest first (first listed, else v1's date; then the higher id)."""
    mine = select(paper_authors.c.paper_id).where(paper_authors.c.name_key == key)
    query = (
        select(papers.c.id)
        .where(papers.c.id.in_(mine))
        .order_by(
            func.coalesce(papers.c.first_listed, func.date(papers.c.published_at)).desc().nulls_last(),
            papers.c.id.desc(),
        )
        .limit(limit)
        .offset(offset)
    )
    return list(conn.execute(query).scalars())


def coauthors(conn: Connection, key: str, limit: int) -> list[Coauthor]:
    """Who wrote papers with the author, the most shared papers first."""
    me, other = aliased(paper_authors, name="me"), aliased(paper_authors, name="other")
    shared = func.count(func.distinct(other.c.paper_id))
    query = (
        select(other.c.name_key, func.min(other.c.name).label("name"), shared.label("n"))
        .select_from(me.join(other, other.c.paper_id == me.c.paper_id))
        .where(me.c.name_key == key, other.c.name_key != key)
        .group_by(other.c.name_key)
        .order_by(shared.desc(), other.c.name_key)
        .limit(limit)
    )
    return [Coauthor(row.name_key, row.name, row.n) for row in conn.execute(query)]


def author_categories(conn: Connection, key: str) -> list[tuple[str, int]]:
    """The categories of the author's papers (primary and cross-lists), the most papers first."""
    mine = select(paper_authors.c.paper_id).where(paper_authors.c.name_key == key)
    count = func.count(func.distinct(paper_categories.c.paper_id))
    query = (
        select(paper_categories.c.category, count.label("n"))
        .where(paper_categories.c.paper_id.in_(mine))
        .group_by(paper_categories.c.category)
        .order_by(count.desc(), paper_categories.c.category)
    )
    return [(row.category, row.n) for row in conn.execute(query)]
