"""A member's collections: named, ordered lists of papers from their library, private or public,
with a description. A paper can be in several; adding one to a collection saves it to the
library too, and removing a paper from the library takes it out of them (services/library.py).

Every change is one write transaction counted against `rate_limit_library` with the library's
other changes (`change_counted`), and checks ownership inside it: another member's collection
id is CollectionNotFound, exactly as one that does not exist. Limits: MAX_COLLECTIONS per
member, MAX_PAPERS per collection (CollectionFull). Like saves, collections change no version:
no shared page shows them (public collection pages are rendered per request, web/collections.py).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, Engine

from paperboy.config import Settings
from paperboy.domain.collections import (
    MAX_COLLECTIONS,
    MAX_PAPERS,
    CollectionFull,
    CollectionNotFound,
    InvalidCollection,
    clean_description,
    clean_name,
    free_slug,
    slugify,
)
from paperboy.domain.users import User
from paperboy.services.hydrate import PaperView, hydrate_papers
from paperboy.services.library import change_counted
from paperboy.services.votes import PaperNotFound, canonical_arxiv_id
from paperboy.storage import collections as store
from paperboy.storage import library as library_store
from paperboy.storage.collections import CollectionItem, CollectionRow, Keeping
from paperboy.storage.engine import now_utc
from paperboy.storage.queries import paper_id_by_arxiv_id

__all__ = [
    "CollectionFull",
    "CollectionNotFound",
    "CollectionPage",
    "CollectionRow",
    "InvalidCollection",
    "ItemResult",
    "Keeping",
    "PaperNotFound",
    "add_to_collection",
    "collection_page",
    "collections_of",
    "create_collection",
    "delete_collection",
    "move_in_collection",
    "reader_keeping",
    "remove_from_collection",
    "set_paper_collections",
    "update_collection",
]


@dataclass(frozen=True, slots=True)
class CollectionEntry:
    view: PaperView
    position: int
    added_at: datetime


@dataclass(frozen=True, slots=True)
class CollectionPage:
    collection: CollectionRow
    entries: list[CollectionEntry]
    page: int
    page_size: int
    is_owner: bool

    @property
    def total(self) -> int:
        return self.collection.papers

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.page_size))


@dataclass(frozen=True, slots=True)
class ItemResult:
    collection_id: int
    arxiv_id: str
    present: bool  # whether the paper is in the collection now


# --- reading ---


def collections_of(engine: Engine, user: User) -> list[CollectionRow]:
    """The member's collections in their order, with how many papers each holds."""
    with engine.connect() as conn:
        return store.collections_of(conn, user.id)


def reader_keeping(engine: Engine, user: User, paper_id: int) -> Keeping:
    """The member's collections (and which hold the paper), note and read mark: one query."""
    with engine.connect() as conn:
        return store.keeping(conn, user.id, paper_id)


def collection_of(engine: Engine, user: User, collection_id: int) -> CollectionRow:
    """One of the member's collections; CollectionNotFound for another's or none."""
    with engine.connect() as conn:
        return _owned(conn, user, collection_id)


def collection_page(
    engine: Engine, viewer: User | None, collection_id: int, *, page: int = 1, page_size: int = 100
) -> CollectionPage:
    """A collection's papers in its order, for anyone when it is public and for its owner alone
    when not. CollectionNotFound otherwise (moderators and admins included): the same answer as
    for an id that does not exist."""
    page, page_size = max(1, page), max(1, page_size)
    with engine.connect() as conn:
        found = _visible(conn, viewer, collection_id)
        rows = store.items(conn, collection_id, limit=page_size, offset=(page - 1) * page_size)
        entries = _entries(conn, viewer, rows)
    is_owner = viewer is not None and viewer.id == found.user_id
    return CollectionPage(found, entries, page, page_size, is_owner)


def latest_in_collection(
    engine: Engine, viewer: User | None, collection_id: int, limit: int
) -> tuple[CollectionRow, list[PaperView]]:
    """A visible collection and its papers added last, the latest first (for its feeds)."""
    with engine.connect() as conn:
        found = _visible(conn, viewer, collection_id)
        ids = store.latest_items(conn, collection_id, limit)
        return found, hydrate_papers(conn, ids)


def _visible(conn: Connection, viewer: User | None, collection_id: int) -> CollectionRow:
    found = store.collection_by_id(conn, collection_id)
    if found is None or not (found.is_public or (viewer is not None and viewer.id == found.user_id)):
        raise CollectionNotFound(f"There is no collection {collection_id}.")
    return found


def _entries(conn: Connection, viewer: User | None, rows: list[CollectionItem]) -> list[CollectionEntry]:
    views = {
        v.paper.id: v for v in hydrate_papers(conn, [r.paper_id for r in rows], viewer.id if viewer else None)
    }
    return [CollectionEntry(views[r.paper_id], r.position, r.added_at) for r in rows if r.paper_id in views]


# --- changing ---


def create_collection(
    engine: Engine,
    settings: Settings,
    user: User,
    ip: str,
    name: str,
    description: str = "",
    *,
    is_public: bool = False,
) -> CollectionRow:
    """A new collection, last in the member's order. InvalidCollection, CollectionFull, RateLimited."""
    name, description = clean_name(name), clean_description(description)

    def change(conn: Connection) -> CollectionRow:
        store.lock_member(conn, user.id)
        if store.count_collections(conn, user.id) >= MAX_COLLECTIONS:
            raise CollectionFull(f"You have {MAX_COLLECTIONS} collections, the most one member may keep.")
        slug = _free_slug(conn, user, name)
        made = store.insert_collection(conn, user.id, name, slug, description, is_public, now_utc())
        return _owned(conn, user, made)

    return change_counted(engine, settings, user, ip, change)


def update_collection(
    engine: Engine,
    settings: Settings,
    user: User,
    ip: str,
    collection_id: int,
    *,
    name: str | None = None,
    description: str | None = None,
    is_public: bool | None = None,
) -> CollectionRow:
    """Rename (a new slug too), describe, make public or private: what is given changes.
    InvalidCollection, CollectionNotFound, RateLimited."""
    values: dict[str, object] = {}
    if name is not None:
        values["name"] = clean_name(name)
    if description is not None:
        values["description"] = clean_description(description)
    if is_public is not None:
        values["is_public"] = is_public

    def change(conn: Connection) -> CollectionRow:
        store.lock_member(conn, user.id)
        found = _owned(conn, user, collection_id)
        if "name" in values and values["name"] != found.name:
            values["slug"] = _free_slug(conn, user, str(values["name"]), keep=found.slug)
        if values:
            store.update_collection(conn, collection_id, now_utc(), **values)
        return _owned(conn, user, collection_id)

    return change_counted(engine, settings, user, ip, change)


def delete_collection(engine: Engine, settings: Settings, user: User, ip: str, collection_id: int) -> None:
    """Delete the collection (its papers stay in the library). CollectionNotFound, RateLimited."""

    def change(conn: Connection) -> None:
        _owned(conn, user, collection_id)
        store.delete_collection(conn, collection_id)

    change_counted(engine, settings, user, ip, change)


def add_to_collection(
    engine: Engine, settings: Settings, user: User, ip: str, collection_id: int, arxiv_id: str
) -> ItemResult:
    """Put the paper last in the collection (again is fine) and in the library.
    CollectionNotFound, PaperNotFound, CollectionFull, RateLimited."""
    return _set_papers(engine, settings, user, ip, arxiv_id, add={collection_id}, remove=set())


def remove_from_collection(
    engine: Engine, settings: Settings, user: User, ip: str, collection_id: int, arxiv_id: str
) -> ItemResult:
    """Take the paper out of the collection (it stays in the library; absent is fine).
    CollectionNotFound, PaperNotFound, RateLimited."""
    return _set_papers(engine, settings, user, ip, arxiv_id, add=set(), remove={collection_id})


def set_paper_collections(
    engine: Engine, settings: Settings, user: User, ip: str, arxiv_id: str, collection_ids: Iterable[int]
) -> set[int]:
    """The "Save to…" form: the paper is saved, and in exactly these of the member's collections
    afterwards (the others lose it). Ids not the member's are CollectionNotFound."""
    wanted = set(collection_ids)
    canonical = canonical_arxiv_id(arxiv_id)

    def change(conn: Connection) -> set[int]:
        owned = {c.id for c in store.collections_of(conn, user.id)}
        if not wanted <= owned:
            raise CollectionNotFound("You have no collection with one of these ids.")
        paper_id = _paper_id(conn, canonical)
        library_store.insert_saved(conn, user.id, paper_id, now_utc())
        held = store.membership(conn, user.id, [paper_id]).get(paper_id, set())
        for collection_id in sorted(wanted - held):
            _add(conn, collection_id, paper_id)
        for collection_id in sorted(held - wanted):
            store.delete_item(conn, collection_id, paper_id)
            store.touch_collection(conn, collection_id, now_utc())
        return wanted

    return change_counted(engine, settings, user, ip, change)


def move_in_collection(
    engine: Engine, settings: Settings, user: User, ip: str, collection_id: int, arxiv_id: str, *, up: bool
) -> ItemResult:
    """Swap the paper with the one before it (`up`) or after it; at either end nothing moves.
    CollectionNotFound, PaperNotFound (also for a paper not in the collection), RateLimited."""
    canonical = canonical_arxiv_id(arxiv_id)

    def change(conn: Connection) -> ItemResult:
        _owned(conn, user, collection_id)
        paper_id = _paper_id(conn, canonical)
        position = store.item_position(conn, collection_id, paper_id)
        if position is None:
            raise PaperNotFound(f"arXiv paper {canonical} is not in this collection.")
        other = store.neighbour(conn, collection_id, position, before=up)
        if other is not None:
            store.set_item_position(conn, collection_id, paper_id, other[1])
            store.set_item_position(conn, collection_id, other[0], position)
            store.touch_collection(conn, collection_id, now_utc())
        return ItemResult(collection_id, canonical, True)

    return change_counted(engine, settings, user, ip, change)


def _set_papers(
    engine: Engine, settings: Settings, user: User, ip: str, arxiv_id: str, *, add: set[int], remove: set[int]
) -> ItemResult:
    canonical = canonical_arxiv_id(arxiv_id)
    collection_id = next(iter(add | remove))

    def change(conn: Connection) -> ItemResult:
        _owned(conn, user, collection_id)
        paper_id = _paper_id(conn, canonical)
        if add:
            library_store.insert_saved(conn, user.id, paper_id, now_utc())
            _add(conn, collection_id, paper_id)
        elif store.delete_item(conn, collection_id, paper_id):
            store.touch_collection(conn, collection_id, now_utc())
        return ItemResult(collection_id, canonical, bool(add))

    return change_counted(engine, settings, user, ip, change)


def _add(conn: Connection, collection_id: int, paper_id: int) -> None:
    store.lock_collection(conn, collection_id)  # PostgreSQL: one adder at a time counts and places
    if store.item_position(conn, collection_id, paper_id) is not None:
        return
    if store.count_items(conn, collection_id) >= MAX_PAPERS:
        raise CollectionFull(f"A collection holds at most {MAX_PAPERS} papers.")
    if store.insert_item(conn, collection_id, paper_id, now_utc()):
        store.touch_collection(conn, collection_id, now_utc())


def _owned(conn: Connection, user: User, collection_id: int) -> CollectionRow:
    found = store.members_collection(conn, user.id, collection_id)
    if found is None:
        raise CollectionNotFound(f"You have no collection {collection_id}.")
    return found


def _paper_id(conn: Connection, canonical: str) -> int:
    paper_id = paper_id_by_arxiv_id(conn, canonical)
    if paper_id is None:
        raise PaperNotFound(f"arXiv paper {canonical} is not in this catalogue.")
    return paper_id


def _free_slug(conn: Connection, user: User, name: str, keep: str | None = None) -> str:
    base = slugify(name)
    taken = store.slugs_starting(conn, user.id, base) - ({keep} if keep else set())
    return free_slug(base, taken)
