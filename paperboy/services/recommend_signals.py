"""What a member follows, as "For you" reads it: authors (the shared-author signal and, with
categories, the cold start), categories and single papers (positives). Hashable: part of the
key a reader's kept scores are found under (services/recommend_cache.py)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection

from paperboy.storage.follows import follows_of
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
    if not found:
        return NO_FOLLOWS
    authors = [f for f in found if f.kind == "author"]
    papers = [f.value for f in found if f.kind == "paper"]
    paper_ids = paper_ids_by_arxiv_ids(conn, papers) if papers else {}
    return Follows(
        authors=tuple(f.value for f in authors),
        author_labels=tuple(f.label for f in authors),
        categories=tuple(f.value for f in found if f.kind == "category"),
        papers=tuple(sorted(paper_ids.values())),
        searches=tuple(f.value for f in found if f.kind == "search"),
    )
