"""Imports into members' libraries: the `library_imports` rows (progress, what was not matched)
and `library_import_items` (the papers still to fetch), the claim a worker takes on one, and the
catalogue look-ups an import needs (papers by exact title, many saves at once)."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Connection, bindparam, func, insert, or_, select, update

from paperboy.domain.iterables import batched
from paperboy.storage.dialect import insert_into
from paperboy.storage.schema import (
    collection_items,
    collections,
    library_import_items,
    library_imports,
    library_items,
    papers,
)

_IN_CHUNK = 500


@dataclass(frozen=True, slots=True)
class ImportRow:
    id: int
    user_id: int
    collection_id: int | None
    collection_offset: int
    collections: list[int] | None  # a library file's: the collections it made, in its order
    kind: str
    filename: str
    status: str
    total: int
    matched: int
    fetched: int
    unmatched: list[str]
    document: str | None
    message: str | None
    attempts: int
    created_at: datetime
    finished_at: datetime | None


@dataclass(frozen=True, slots=True)
class WaitingItem:
    position: int
    arxiv_id: str
    title: str | None


def insert_import(conn: Connection, **values: Any) -> int:
    """A new import row (every column but id; `unmatched` and `collections` as lists); its id."""
    values["unmatched"] = json.dumps(values["unmatched"])
    values["collections"] = None if values["collections"] is None else json.dumps(values["collections"])
    row = conn.execute(insert(library_imports).values(**values).returning(library_imports.c.id)).one()
    return int(row.id)


def insert_items(conn: Connection, import_id: int, items: Sequence[WaitingItem]) -> None:
    rows = [
        {
            "import_id": import_id,
            "position": i.position,
            "arxiv_id": i.arxiv_id,
            "title": i.title,
            "state": "waiting",
        }
        for i in items
    ]
    if rows:
        conn.execute(insert(library_import_items).values(state="waiting"), rows)


def import_of(conn: Connection, import_id: int, user_id: int | None = None) -> ImportRow | None:
    """The import, if it exists and (given `user_id`) is that member's."""
    query = select(library_imports).where(library_imports.c.id == import_id)
    if user_id is not None:
        query = query.where(library_imports.c.user_id == user_id)
    row = conn.execute(query).first()
    return None if row is None else _row(row)


def recent_imports(conn: Connection, user_id: int, limit: int) -> list[ImportRow]:
    return [_row(row) for row in conn.execute(_RECENT, {"user_id": user_id, "limit": limit})]


# Built once: the library page asks it on every request, where building it cost more CPU than
# running it (an empty answer for most readers).
_RECENT = (
    select(library_imports)
    .where(library_imports.c.user_id == bindparam("user_id"))
    .order_by(library_imports.c.created_at.desc(), library_imports.c.id.desc())
    .limit(bindparam("limit"))
)


def count_unfinished(conn: Connection, user_id: int) -> int:
    query = select(func.count()).where(
        library_imports.c.user_id == user_id, library_imports.c.status.in_(("queued", "running"))
    )
    return int(conn.execute(query).scalar_one())


def claim_next(
    conn: Connection, now: datetime, stale_before: datetime, retry_before: datetime
) -> ImportRow | None:
    """Mark the oldest queued import (one put back after a failure: not since `retry_before`;
    or one whose worker stopped beating before `stale_before`) running, atomically: of two
    workers asking at once, one gets it."""
    claimable = _claimable(stale_before, retry_before)
    found = conn.execute(
        select(library_imports.c.id).where(claimable).order_by(library_imports.c.id).limit(1)
    )
    import_id = found.scalar()
    if import_id is None:
        return None
    claim = (
        update(library_imports)
        .where(library_imports.c.id == import_id, claimable)
        .values(status="running", updated_at=now)
    )
    if conn.execute(claim).rowcount != 1:
        return None
    return import_of(conn, import_id)


def any_claimable(conn: Connection, stale_before: datetime, retry_before: datetime) -> bool:
    """Whether `claim_next` would find an import (the job scheduler asks before queuing a run)."""
    query = select(library_imports.c.id).where(_claimable(stale_before, retry_before)).limit(1)
    return conn.execute(query).first() is not None


def _claimable(stale_before: datetime, retry_before: datetime) -> ColumnElement[bool]:
    queued = library_imports.c.status == "queued"
    return or_(
        queued & (library_imports.c.attempts == 0),
        queued & (library_imports.c.updated_at < retry_before),
        (library_imports.c.status == "running") & (library_imports.c.updated_at < stale_before),
    )


def waiting_items(conn: Connection, import_id: int, limit: int) -> list[WaitingItem]:
    query = (
        select(library_import_items.c.position, library_import_items.c.arxiv_id, library_import_items.c.title)
        .where(library_import_items.c.import_id == import_id, library_import_items.c.state == "waiting")
        .order_by(library_import_items.c.position)
        .limit(limit)
    )
    return [WaitingItem(row.position, row.arxiv_id, row.title) for row in conn.execute(query)]


def set_item_state(conn: Connection, import_id: int, positions: Iterable[int], state: str) -> None:
    for chunk in batched(list(positions), _IN_CHUNK):
        conn.execute(
            update(library_import_items)
            .where(library_import_items.c.import_id == import_id, library_import_items.c.position.in_(chunk))
            .values(state=state)
        )


def add_progress(conn: Connection, row: ImportRow, fetched: int, unmatched: list[str], now: datetime) -> None:
    """Count papers fetched and add what arXiv did not know, as one batch's heartbeat."""
    current = import_of(conn, row.id)
    listed = (current.unmatched if current else []) + unmatched
    conn.execute(
        update(library_imports)
        .where(library_imports.c.id == row.id)
        .values(fetched=library_imports.c.fetched + fetched, unmatched=json.dumps(listed), updated_at=now)
    )


def finish(conn: Connection, import_id: int, status: str, now: datetime, message: str | None = None) -> None:
    conn.execute(
        update(library_imports)
        .where(library_imports.c.id == import_id)
        .values(status=status, message=message, updated_at=now, finished_at=now)
    )


def put_back(
    conn: Connection, import_id: int, message: str | None, now: datetime, *, failed: bool = True
) -> None:
    """Queue it again: after a failed turn with arXiv (counted), or when its worker stopped."""
    conn.execute(
        update(library_imports)
        .where(library_imports.c.id == import_id)
        .values(
            status="queued",
            message=message,
            attempts=library_imports.c.attempts + (1 if failed else 0),
            updated_at=now,
        )
    )


def paper_ids_by_titles(conn: Connection, spellings: Iterable[str]) -> dict[str, int]:
    """Papers whose lower-cased title is one of these spellings, by spelling; a spelling that
    two papers share is left out (which one was meant cannot be told)."""
    found: dict[str, int | None] = {}
    lowered = func.lower(papers.c.title)
    for chunk in batched(sorted(set(spellings)), _IN_CHUNK):
        for row in conn.execute(select(lowered.label("key"), papers.c.id).where(lowered.in_(chunk))):
            found[row.key] = None if row.key in found else row.id
    return {key: paper_id for key, paper_id in found.items() if paper_id is not None}


def save_papers(conn: Connection, user_id: int, saves: Sequence[tuple[int, datetime]]) -> None:
    """Put these (paper id, saved at) in the member's library; papers already there stay as they were."""
    statement = insert_into(conn, library_items).on_conflict_do_nothing(
        index_elements=[library_items.c.user_id, library_items.c.paper_id]
    )
    for chunk in batched(list(saves), _IN_CHUNK):
        rows = [{"user_id": user_id, "paper_id": paper_id, "saved_at": at} for paper_id, at in chunk]
        conn.execute(statement, rows)


def existing_collections(conn: Connection, collection_ids: Sequence[int]) -> set[int]:
    """Which of these collections still exist."""
    if not collection_ids:
        return set()
    return set(
        conn.execute(select(collections.c.id).where(collections.c.id.in_(list(collection_ids)))).scalars()
    )


def last_position(conn: Connection, collection_id: int) -> int:
    """The collection's last position (0 when it is empty)."""
    query = select(func.coalesce(func.max(collection_items.c.position), 0))
    return int(conn.execute(query.where(collection_items.c.collection_id == collection_id)).scalar_one())


def file_papers(
    conn: Connection, collection_id: int, places: Sequence[tuple[int, int]], now: datetime
) -> None:
    """Put these (paper id, position) in the collection; a paper already in it keeps its place."""
    statement = insert_into(conn, collection_items).on_conflict_do_nothing(
        index_elements=[collection_items.c.collection_id, collection_items.c.paper_id]
    )
    for chunk in batched(list(places), _IN_CHUNK):
        rows = [
            {"collection_id": collection_id, "paper_id": paper_id, "position": position, "added_at": now}
            for paper_id, position in chunk
        ]
        conn.execute(statement, rows)


def _row(row: Any) -> ImportRow:
    return ImportRow(
        id=row.id,
        user_id=row.user_id,
        collection_id=row.collection_id,
        collection_offset=row.collection_offset,
        collections=json.loads(row.collections) if row.collections else None,
        kind=row.kind,
        filename=row.filename,
        status=row.status,
        total=row.total,
        matched=row.matched,
        fetched=row.fetched,
        unmatched=json.loads(row.unmatched),
        document=row.document,
        message=row.message,
        attempts=row.attempts,
        created_at=row.created_at,
        finished_at=row.finished_at,
    )
