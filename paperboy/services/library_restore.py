"""Writing an import's papers into a member's library, inside the caller's write transaction:
at once for the papers the catalogue holds, then batch by batch as the rest are fetched.

A plain import saves each paper (the file's first entry the latest saved, so that the library
lists them in the file's order). A paperboy library file restores what it says about each paper:
when it was saved.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Connection

from paperboy.domain.library_document import LibraryDocument
from paperboy.storage import library_imports as store


@dataclass(frozen=True, slots=True)
class Found:
    position: int  # the entry's place in the file
    arxiv_id: str | None
    paper_id: int


def apply_found(
    conn: Connection,
    user_id: int,
    found: list[Found],
    document: LibraryDocument | None,
    collection_id: int | None,
    now: datetime,
) -> None:
    """Save the found papers (a library file: as it says) and file them where the import asked."""
    if document is None:
        store.save_papers(conn, user_id, [(item.paper_id, _in_file_order(now, item)) for item in found])
        return
    saved = {entry.arxiv_id: entry for entry in document.saved}
    saves = []
    for item in found:
        entry = saved.get(item.arxiv_id or "")
        if entry is not None:
            saves.append((item.paper_id, entry.saved_at or _in_file_order(now, item)))
    store.save_papers(conn, user_id, saves)


def _in_file_order(now: datetime, item: Found) -> datetime:
    return now - timedelta(microseconds=item.position)
