"""Writing an import's papers into a member's library, inside the caller's write transaction:
at once for the papers the catalogue holds, then batch by batch as the rest are fetched.

A plain import saves each paper (the file's first entry the latest saved, so that the library
lists them in the file's order) and, when asked, files it in a collection: an existing one of the
member's (after its last paper) or a new one named after the file. A paperboy library file
restores what it says: when each paper was saved, its read mark and note, and its collections
(made anew, in the file's order, with their descriptions and visibility), each paper at its
place in them whenever it arrives.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import PurePath

from sqlalchemy import Connection

from paperboy.domain.collections import (
    MAX_COLLECTIONS,
    MAX_NAME,
    MAX_PAPERS,
    CollectionFull,
    CollectionNotFound,
    InvalidCollection,
    clean_name,
    free_slug,
    slugify,
)
from paperboy.domain.library_document import LibraryDocument
from paperboy.storage import collections as collections_store
from paperboy.storage import library as library_store
from paperboy.storage import library_imports as store

NEW = "new"  # the collection choice that makes one named after the file


@dataclass(frozen=True, slots=True)
class Found:
    position: int  # the entry's place in the file
    arxiv_id: str | None
    paper_id: int


@dataclass(frozen=True, slots=True)
class Filing:
    """Where an import's papers go besides the library."""

    collection_id: int | None = None  # a plain import's collection
    offset: int = 0  # the position before its first entry there
    made: tuple[int, ...] = ()  # a library file's collections, in the file's order


def prepare_filing(
    conn: Connection,
    user_id: int,
    choice: int | str | None,
    filename: str,
    entries: int,
    document: LibraryDocument | None,
    now: datetime,
) -> Filing:
    """The collections an import fills: made now (a library file's, or a new one named after the
    file) or checked (the member's own, with room). CollectionNotFound, CollectionFull."""
    if document is not None:
        return Filing(made=tuple(_make_all(conn, user_id, document, now)))
    if choice is None:
        return Filing()
    if choice == NEW:
        return Filing(_make(conn, user_id, _name_of(filename), "", False, now), 0)
    found = collections_store.members_collection(conn, user_id, int(choice))
    if found is None:
        raise CollectionNotFound(f"You have no collection {choice}.")
    if found.papers + entries > MAX_PAPERS:
        raise CollectionFull(f"{found.name} would hold more than {MAX_PAPERS:,} papers.")
    return Filing(found.id, store.last_position(conn, found.id))


def apply_found(
    conn: Connection,
    user_id: int,
    found: list[Found],
    document: LibraryDocument | None,
    filing: Filing,
    now: datetime,
) -> None:
    """Save the found papers (a library file: as it says) and file them where the import asked."""
    if document is not None:
        _restore(conn, user_id, found, document, filing, now)
        return
    store.save_papers(conn, user_id, [(item.paper_id, _in_file_order(now, item)) for item in found])
    if filing.collection_id is not None and store.existing_collections(conn, [filing.collection_id]):
        places = [(item.paper_id, filing.offset + item.position + 1) for item in found]
        store.file_papers(conn, filing.collection_id, places, now)


def _restore(
    conn: Connection,
    user_id: int,
    found: list[Found],
    document: LibraryDocument,
    filing: Filing,
    now: datetime,
) -> None:
    saved = {entry.arxiv_id: entry for entry in document.saved}
    paper_ids = {item.arxiv_id: item.paper_id for item in found if item.arxiv_id}
    saves = []
    for item in found:
        entry = saved.get(item.arxiv_id or "")
        saves.append(
            (item.paper_id, entry.saved_at if entry and entry.saved_at else _in_file_order(now, item))
        )
    store.save_papers(conn, user_id, saves)
    for arxiv_id, paper_id in paper_ids.items():
        entry = saved.get(arxiv_id)
        if entry is not None and entry.read_at is not None:
            library_store.set_read(conn, user_id, paper_id, entry.read_at)
        if entry is not None and entry.note:
            library_store.upsert_note(conn, user_id, paper_id, entry.note, now)
    still_there = store.existing_collections(conn, filing.made)  # the member may delete one meanwhile
    for collection, collection_id in zip(document.collections, filing.made, strict=True):
        if collection_id not in still_there:
            continue
        places = [
            (paper_ids[a], place) for place, a in enumerate(collection.papers, start=1) if a in paper_ids
        ]
        store.file_papers(conn, collection_id, places, now)


def _make_all(conn: Connection, user_id: int, document: LibraryDocument, now: datetime) -> list[int]:
    collections_store.lock_member(conn, user_id)
    if collections_store.count_collections(conn, user_id) + len(document.collections) > MAX_COLLECTIONS:
        raise CollectionFull(f"These collections would make more than {MAX_COLLECTIONS}, the most one keeps.")
    return [_make(conn, user_id, c.name, c.description, c.public, now) for c in document.collections]


def _make(conn: Connection, user_id: int, name: str, description: str, public: bool, now: datetime) -> int:
    collections_store.lock_member(conn, user_id)
    if collections_store.count_collections(conn, user_id) >= MAX_COLLECTIONS:
        raise CollectionFull(f"You have {MAX_COLLECTIONS} collections, the most one member may keep.")
    base = slugify(name)
    slug = free_slug(base, collections_store.slugs_starting(conn, user_id, base))
    return collections_store.insert_collection(conn, user_id, name, slug, description, public, now)


def _name_of(filename: str) -> str:
    """A collection's name from a file's: "My Library.bib" gives "My Library"."""
    try:
        return clean_name(PurePath(filename).stem.replace("_", " ")[:MAX_NAME])
    except InvalidCollection:  # a name of control characters or nothing at all
        return "Imported papers"


def _in_file_order(now: datetime, item: Found) -> datetime:
    return now - timedelta(microseconds=item.position)
