"""Upvotes: one per member per paper, counted exactly however many members vote at once.

The vote row and the paper's counter (paper_stats.upvotes) change in one transaction, and the
counter moves only when a row was really inserted or deleted: a double click, two tabs, or a
retried request leave the count as it should be.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import Connection, Engine

from paperboy.config import Settings
from paperboy.domain.arxiv_ids import InvalidArxivId, parse_arxiv_id
from paperboy.domain.users import User
from paperboy.services import rate_limits
from paperboy.storage import votes as store
from paperboy.storage.engine import now_utc
from paperboy.storage.paper_stats import add_to_stats, stats_of
from paperboy.storage.queries import paper_id_by_arxiv_id
from paperboy.storage.transactions import write_transaction


class PaperNotFound(LookupError):
    """No paper with this arXiv id is in the catalogue (HTTP 404); the message says which."""


@dataclass(frozen=True, slots=True)
class VoteResult:
    arxiv_id: str
    upvotes: int  # the paper's count after this vote
    voted: bool  # whether the member's upvote now stands


def upvote_paper(engine: Engine, settings: Settings, user: User, arxiv_id: str, ip: str) -> VoteResult:
    """Add the member's upvote (again is fine). PaperNotFound, RateLimited."""
    return _vote(engine, settings, user, arxiv_id, ip, up=True)


def remove_upvote(engine: Engine, settings: Settings, user: User, arxiv_id: str, ip: str) -> VoteResult:
    """Withdraw the member's upvote (none is fine). PaperNotFound, RateLimited."""
    return _vote(engine, settings, user, arxiv_id, ip, up=False)


def voted_papers(engine: Engine, user: User | None, paper_ids: Sequence[int]) -> set[int]:
    """Which of these papers (row ids) the viewer has upvoted; empty for anonymous readers."""
    if user is None or not paper_ids:
        return set()
    with engine.connect() as conn:
        return store.voted_among(conn, user.id, paper_ids)


def _vote(engine: Engine, settings: Settings, user: User, arxiv_id: str, ip: str, *, up: bool) -> VoteResult:
    canonical = canonical_arxiv_id(arxiv_id)
    limits = rate_limits.member_limits(
        "vote", user.id, ip, settings.rate_limit_vote, settings.rate_limit_ip_factor
    )
    # One write transaction for the rate count and the vote (on SQLite writers take turns: one
    # turn per vote, not two). No mark_catalogue_changed: pages cached for anonymous readers catch
    # up within page_cache_seconds, and a vote must not throw away every cached page.
    with write_transaction(engine) as conn:
        wait = rate_limits.count_in(conn, *limits)
        if wait is None:
            upvotes = _cast(conn, user, canonical, up=up)
    if wait is not None:
        raise rate_limits.refusal("votes", wait)
    return VoteResult(canonical, upvotes, up)


def _cast(conn: Connection, user: User, canonical: str, *, up: bool) -> int:
    """Add or remove the vote; the paper's count afterwards."""
    paper_id = paper_id_by_arxiv_id(conn, canonical)
    if paper_id is None:
        raise PaperNotFound(f"arXiv paper {canonical} is not in this catalogue.")
    if up:
        changed = store.insert_vote(conn, paper_id, user.id, now_utc())
    else:
        changed = store.delete_vote(conn, paper_id, user.id)
    if changed:
        add_to_stats(conn, paper_id, upvotes=1 if up else -1)
    upvotes, _ = stats_of(conn, paper_id)
    return upvotes


def canonical_arxiv_id(arxiv_id: str) -> str:
    """The id's canonical form (no version); PaperNotFound, saying why, when it is no arXiv id."""
    try:
        return parse_arxiv_id(arxiv_id).base
    except InvalidArxivId as exc:
        raise PaperNotFound(str(exc)) from None
