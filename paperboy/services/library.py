"""A member's library: the papers they saved, private to them, with a read mark and a note each.
Saving is idempotent (a double click, two tabs or a retried request leave one row) and
rate-limited like votes; the library page lists the saved papers, the latest saved first, as
cards, filtered by collection and read mark, or searched with the search page's query language.

The library is the union of what the reader keeps: adding a paper to a collection
(services/collections.py), marking it read or writing a note saves it too, and removing it from
the library takes it out of every one of the reader's collections (their note stays, on the
paper's page).

Saves change no shared count, so they change neither the catalogue nor the community version:
cached pages for everyone stay valid, and each reader's own "saved" state is put on the shared
parts of a page per request (web/regions.py).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TypeVar

from sqlalchemy import Connection, Engine

from paperboy.config import Settings
from paperboy.domain.collections import CollectionNotFound, clean_note
from paperboy.domain.search_query import InvalidSearchQuery, parse_search_query
from paperboy.domain.users import User
from paperboy.services import rate_limits
from paperboy.services.hydrate import PaperView, hydrate_papers_at
from paperboy.services.votes import PaperNotFound, canonical_arxiv_id
from paperboy.storage import collections as collections_store
from paperboy.storage import lexical
from paperboy.storage import library as store
from paperboy.storage.collections import CollectionRow
from paperboy.storage.engine import now_utc
from paperboy.storage.library import LibraryFilter
from paperboy.storage.queries import paper_id_by_arxiv_id
from paperboy.storage.reader_marks import ReaderMarks
from paperboy.storage.sync_state import page_versions
from paperboy.storage.transactions import write_transaction

__all__ = [
    "LibraryFilter",
    "LibraryItem",
    "LibraryPage",
    "MarkResult",
    "PaperNotFound",
    "SaveResult",
    "change_counted",
    "library_page",
    "library_page_in",
    "mark_read",
    "save_paper",
    "write_note",
]
T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class SaveResult:
    arxiv_id: str
    saved: bool  # whether the paper is now in the member's library


@dataclass(frozen=True, slots=True)
class MarkResult:
    arxiv_id: str
    read: bool  # whether the paper is now marked read
    note: str  # the member's note on it now ("": none)


@dataclass(frozen=True, slots=True)
class LibraryItem:
    view: PaperView
    saved_at: datetime
    read_at: datetime | None = None
    note: str = ""
    collections: frozenset[int] = field(default_factory=frozenset)  # ids of the reader's holding it


def save_paper(
    engine: Engine, settings: Settings, user: User, arxiv_id: str, ip: str, *, save: bool
) -> SaveResult:
    """Put the paper in the member's library (`save`) or take it out; again is fine.
    PaperNotFound for an id not in the catalogue, RateLimited past `rate_limit_library`."""

    def change(conn: Connection, paper_id: int) -> None:
        if save:
            store.insert_saved(conn, user.id, paper_id, now_utc())
        elif store.delete_saved(conn, user.id, paper_id):
            collections_store.delete_from_members_collections(conn, user.id, paper_id)

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

    def on_paper(conn: Connection) -> str:
        paper_id = paper_id_by_arxiv_id(conn, canonical)
        if paper_id is None:
            raise PaperNotFound(f"arXiv paper {canonical} is not in this catalogue.")
        change(conn, paper_id)
        return canonical

    return change_counted(engine, settings, user, ip, on_paper)


def change_counted(
    engine: Engine, settings: Settings, user: User, ip: str, change: Callable[[Connection], T]
) -> T:
    """`change(conn)` of the reader's own things (library, feedback, collections), in one write
    transaction with its count against `rate_limit_library`; what it returns. RateLimited, or
    what `change` raises (the transaction then rolls back)."""
    limits = rate_limits.member_limits(
        "library", user.id, ip, settings.rate_limit_library, settings.rate_limit_ip_factor
    )
    with write_transaction(engine) as conn:
        wait = rate_limits.count_in(conn, *limits)
        if wait is None:
            return change(conn)
    raise rate_limits.refusal("library changes", wait)


def mark_read(
    engine: Engine, settings: Settings, user: User, arxiv_id: str, ip: str, *, read: bool
) -> MarkResult:
    """Mark the paper read (saving it to the library) or unread. PaperNotFound, RateLimited."""

    def change(conn: Connection, paper_id: int) -> None:
        if read:
            store.insert_saved(conn, user.id, paper_id, now_utc())
        store.set_read(conn, user.id, paper_id, now_utc() if read else None)

    canonical = change_readers_own(engine, settings, user, arxiv_id, ip, change)
    return MarkResult(canonical, read, "")


def write_note(
    engine: Engine, settings: Settings, user: User, arxiv_id: str, ip: str, note: str
) -> MarkResult:
    """Keep the member's private note on the paper (saving it to the library), or forget it when
    `note` is blank. InvalidCollection (too long, control characters), PaperNotFound, RateLimited."""
    cleaned = clean_note(note)
    read: list[bool] = []

    def change(conn: Connection, paper_id: int) -> None:
        if cleaned:
            store.insert_saved(conn, user.id, paper_id, now_utc())
            store.upsert_note(conn, user.id, paper_id, cleaned, now_utc())
        else:
            store.delete_note(conn, user.id, paper_id)
        saved = store.saved_among(conn, user.id, [paper_id]).get(paper_id)
        read.append(saved is not None and saved.read_at is not None)

    canonical = change_readers_own(engine, settings, user, arxiv_id, ip, change)
    return MarkResult(canonical, read[0], cleaned)


EVERY_SAVED = LibraryFilter()
MAX_SEARCHED = 1000  # a search within the library lists at most this many papers


@dataclass(frozen=True, slots=True)
class LibraryPage:
    items: list[LibraryItem]
    total: int
    page: int
    page_size: int
    chosen: LibraryFilter = EVERY_SAVED
    query: str = ""  # the search within the library, as typed ("": none)
    notice: str | None = None  # why the search could not run (a malformed query)
    collections: list[CollectionRow] = field(default_factory=list)  # the reader's, in their order

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.page_size))

    @property
    def collection(self) -> CollectionRow | None:
        """The collection the page is filtered by, if any."""
        return next((c for c in self.collections if c.id == self.chosen.collection_id), None)


def library_page(
    engine: Engine,
    user: User,
    *,
    page: int = 1,
    page_size: int = 100,
    chosen: LibraryFilter = EVERY_SAVED,
    query: str = "",
) -> LibraryPage:
    """One page of the member's library (the latest saved first, or a collection's order), with
    counts, their votes, notes and collections; `query` searches within it (the search page's
    language, ranked by keywords). A page past the last is empty (the total says how many there
    are). CollectionNotFound for a collection filter that is not the member's."""
    with engine.connect() as conn:
        return library_page_in(conn, user, page=page, page_size=page_size, chosen=chosen, query=query)


def library_page_in(
    conn: Connection,
    user: User,
    *,
    page: int = 1,
    page_size: int = 100,
    chosen: LibraryFilter = EVERY_SAVED,
    query: str = "",
) -> LibraryPage:
    """`library_page` on a connection the caller holds (services/library_overview.py reads the
    rest of the library page in the same transaction)."""
    page, page_size, query = max(1, page), max(1, page_size), query.strip()
    offset = (page - 1) * page_size
    owned = collections_store.collections_of(conn, user.id)
    if chosen.collection_id is not None and all(c.id != chosen.collection_id for c in owned):
        raise CollectionNotFound("You have no collection with this id.")
    notice = None
    if query:
        total, saved, notice = _searched(conn, user, chosen, query, page_size, offset)
    else:
        saved, total = store.saved_page(conn, user.id, limit=page_size, offset=offset, chosen=chosen)
    items = _items(conn, user, saved, has_collections=bool(owned))
    return LibraryPage(items, total, page, page_size, chosen, query, notice, owned)


def _searched(
    conn: Connection, user: User, chosen: LibraryFilter, text: str, page_size: int, offset: int
) -> tuple[int, list[store.Saved], str | None]:
    try:
        query = parse_search_query(text)
    except InvalidSearchQuery as exc:
        return 0, [], str(exc)
    ids = lexical.search_within(conn, query, store.saved_ids_query(user.id, chosen), MAX_SEARCHED)
    shown = ids[offset : offset + page_size]
    found = store.saved_among(conn, user.id, shown)
    return len(ids), [found[i] for i in shown if i in found], None


def _items(
    conn: Connection, user: User, saved: list[store.Saved], *, has_collections: bool
) -> list[LibraryItem]:
    """The saved papers as cards' items: their notes came with them, and from the page's
    statement also the reader's votes, marks and collections (`store.saved_page`); a search's
    (`saved_among`) asks those apart, the collections only of a reader who has any."""
    ids = [s.paper_id for s in saved]
    marks, held = _marks_read(saved)
    if marks is None and has_collections:
        held = {
            paper_id: frozenset(found)
            for paper_id, found in collections_store.membership(conn, user.id, ids).items()
        }
    # The counts kept per process under both versions, as "For you"'s: a thousand readers'
    # libraries share their papers; the reader's own marks are read every time.
    views = {
        view.paper.id: view for view in hydrate_papers_at(conn, ids, user.id, page_versions(conn), marks)
    }
    return [
        LibraryItem(views[s.paper_id], s.saved_at, s.read_at, s.note, held.get(s.paper_id, frozenset()))
        for s in saved
        if s.paper_id in views
    ]


def _marks_read(saved: list[store.Saved]) -> tuple[ReaderMarks | None, dict[int, frozenset[int]]]:
    """The reader's marks on their saved papers and the collections holding each, when the
    page's statement read them (None otherwise). Saved papers count as seen, as reader_marks'."""
    if not saved or any(s.marks is None for s in saved):
        return None, {}
    ids = {s.paper_id for s in saved}
    marks = ReaderMarks(
        voted={s.paper_id for s in saved if s.marks and s.marks.voted},
        saved=set(ids),
        not_interested={s.paper_id for s in saved if s.marks and s.marks.not_interested},
        seen=set(ids),
    )
    return marks, {s.paper_id: s.marks.held for s in saved if s.marks}
