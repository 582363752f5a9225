"""What a member follows, as "For you" reads it: authors (the shared-author signal and, with
categories, the cold start), categories and single papers (positives). Hashable: part of the
key a reader's kept scores are found under (services/recommend_cache.py)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection


@dataclass(frozen=True, slots=True)
class Follows:
    authors: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    papers: tuple[int, ...] = ()  # row ids
    searches: tuple[str, ...] = ()  # saved searches' query texts


NO_FOLLOWS = Follows()


def follows_for(conn: Connection, user_id: int) -> Follows:
    """The member's follows (none until following is built: storage/follows.py)."""
    del conn, user_id
    return NO_FOLLOWS
