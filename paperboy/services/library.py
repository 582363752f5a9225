"""A member's library: the papers they saved, private to them. Saving is idempotent (a double
click, two tabs or a retried request leave one row) and rate-limited like votes; the library
page lists the saved papers, the latest saved first, as cards.

Saves change no shared count, so they change neither the catalogue nor the community version:
cached pages for everyone stay valid, and each reader's own "saved" state is put on the shared
parts of a page per request (web/regions.py).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, Engine

from paperboy.config import Settings
from paperboy.domain.users import User
from paperboy.services import rate_limits
from paperboy.services.hydrate import PaperView, hydrate_papers
from paperboy.services.votes import PaperNotFound, canonical_arxiv_id
from paperboy.storage import library as store
from paperboy.storage.engine import now_utc
from paperboy.storage.queries import paper_id_by_arxiv_id
from paperboy.storage.transactions import write_transaction

__all__ = ["LibraryItem", "LibraryPage", "PaperNotFound", "SaveResult", "library_page", "save_paper"]


@dataclass(frozen=True, slots=True)
class SaveResult:
    arxiv_id: str
    saved: bool  # whether the paper is now in the member's library


@dataclass(frozen=True, slots=True)
class LibraryItem:
    view: PaperView
    saved_at: datetime


@dataclass(frozen=True, slots=True)
class LibraryPage:
    items: list[LibraryItem]
    total: int
    page: int
    page_size: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.page_size))


def save_paper(
    engine: Engine, settings: Settings, user: User, arxiv_id: str, ip: str, *, save: bool
) -> SaveResult:
    """Put the paper in the member's library (`save`) or take it out; again is fine.
    PaperNotFound for an id not in the catalogue, RateLimited past `rate_limit_library`."""

    def change(conn: Connection, paper_id: int) -> None:
        if save:
            store.insert_saved(conn, user.id, paper_id, now_utc())
        else:
            store.delete_saved(conn, user.id, paper_id)

    return SaveResult(change_readers_own(engine, settings, user, arxiv_id, ip, change), save)


def change_readers_own(
    engine: Engine,
    settings: Settings,
    user: User,
    arxiv_id: str,
    ip: str,
    change: Callable[[Connection, int], None],
) -> str:
    """`change(conn, paper_id)` of what belongs to the reader alone about a paper (their library,
    their feedback), in one write transaction with its count against `rate_limit_library`; the
    paper's canonical arXiv id. PaperNotFound, RateLimited."""
    canonical = canonical_arxiv_id(arxiv_id)
    limits = rate_limits.member_limits(
        "library", user.id, ip, settings.rate_limit_library, settings.rate_limit_ip_factor
    )
    with write_transaction(engine) as conn:
        wait = rate_limits.count_in(conn, *limits)
        if wait is None:
            paper_id = paper_id_by_arxiv_id(conn, canonical)
            if paper_id is None:
                raise PaperNotFound(f"arXiv paper {canonical} is not in this catalogue.")
            change(conn, paper_id)
    if wait is not None:
        raise rate_limits.refusal("library changes", wait)
    return canonical


def library_page(engine: Engine, user: User, *, page: int = 1, page_size: int = 100) -> LibraryPage:
    """One page of the member's library, the latest saved first, with counts and their votes.
    A page past the last is empty (the total says how many there are)."""
    page, page_size = max(1, page), max(1, page_size)
    with engine.connect() as conn:
        total = store.count_saved(conn, user.id)
        saved = store.saved_papers(conn, user.id, limit=page_size, offset=(page - 1) * page_size)
        views = {view.paper.id: view for view in hydrate_papers(conn, [s.paper_id for s in saved], user.id)}
    items = [LibraryItem(views[s.paper_id], s.saved_at) for s in saved if s.paper_id in views]
    return LibraryPage(items, total, page, page_size)
