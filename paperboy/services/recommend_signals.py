"""What a member follows, as "For you" reads it: authors (the shared-author signal and, with
categories, the cold start), categories and single papers (positives). Hashable: part of the
key a reader's kept scores are found under (services/recommend_cache.py)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import Connection

from paperboy.domain.follows import Follow
from paperboy.storage.follows import follows_of, follows_of_members
from paperboy.storage.queries import paper_ids_by_arxiv_ids


@dataclass(frozen=True, slots=True)
class Follows:
    authors: tuple[str, ...] = ()  # normalised names (domain.follows.author_key)
    author_labels: tuple[str, ...] = ()  # as the member wrote them
    categories: tuple[str, ...] = ()
    papers: tuple[int, ...] = ()  # row ids
    searches: tuple[str, ...] = ()  # saved searches' query texts


NO_FOLLOWS = Follows()


def follows_for(conn: Connection, user_id: int) -> Follows:
    """The member's follows, oldest first (one statement; one more when they follow papers)."""
    found = list(reversed(follows_of(conn, user_id)))
    papers = [f.value for f in found if f.kind == "paper"]
    return _follows(found, paper_ids_by_arxiv_ids(conn, papers) if papers else {})


def follows_from(conn: Connection, found: list[Follow]) -> Follows:
    """`follows_for` of the member's follows already read, the oldest first (one statement more
    when they follow papers)."""
    papers = [f.value for f in found if f.kind == "paper"]
    return _follows(found, paper_ids_by_arxiv_ids(conn, papers) if papers else {})


def follows_for_members(conn: Connection, user_ids: Sequence[int]) -> dict[int, Follows]:
    """`follows_for` each of these members (one statement; one more when any follows papers)."""
    found = {user: list(reversed(rows)) for user, rows in follows_of_members(conn, user_ids).items()}
    papers = sorted({f.value for rows in found.values() for f in rows if f.kind == "paper"})
    paper_ids = paper_ids_by_arxiv_ids(conn, papers) if papers else {}
    return {user: _follows(found.get(user, []), paper_ids) for user in user_ids}


def _follows(found: list[Follow], paper_ids: dict[str, int]) -> Follows:
    if not found:
        return NO_FOLLOWS
    authors = [f for f in found if f.kind == "author"]
    papers = [f.value for f in found if f.kind == "paper"]
    mine = [paper_ids[arxiv_id] for arxiv_id in papers if arxiv_id in paper_ids]
    return Follows(
        authors=tuple(f.value for f in authors),
        author_labels=tuple(f.label for f in authors),
        categories=tuple(f.value for f in found if f.kind == "category"),
        papers=tuple(sorted(mine)),
        searches=tuple(f.value for f in found if f.kind == "search"),
    )
