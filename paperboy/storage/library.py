"""A member's library: one row per (account, saved paper), with when they marked it read; and their
private notes (`library_notes`). The primary keys make a second save a no-op, and the functions
that change rows say whether one really changed."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Connection,
    Select,
    Text,
    and_,
    bindparam,
    cast,
    delete,
    func,
    select,
    update,
)

from paperboy.storage.dialect import insert_into
from paperboy.storage.feedback import NOT_INTERESTED
from paperboy.storage.queries import id_in
from paperboy.storage.schema import (
    collection_items,
    collections,
    library_items,
    library_notes,
    paper_feedback,
    votes,
)


@dataclass(frozen=True, slots=True)
class Saved:
    paper_id: int
    saved_at: datetime
    read_at: datetime | None = None
    note: str = ""  # the member's private note on it ("": none)
    marks: SavedMarks | None = None  # read with it (`saved_page`), or not (None)


@dataclass(frozen=True, slots=True)
class SavedMarks:
    """What else the member did with a saved paper, read in the page's statement: whether they
    upvoted it or marked it not interested, and which of their collections hold it."""

    voted: bool
    not_interested: bool
    held: frozenset[int]


@dataclass(frozen=True, slots=True)
class LibraryFilter:
    """Which of a member's saved papers a listing shows: read or unread (None: both), those in
    one collection (then in its order; the caller checked the member owns it)."""

    read: bool | None = None
    collection_id: int | None = None


EVERY_SAVED = LibraryFilter()


def insert_saved(conn: Connection, user_id: int, paper_id: int, now: datetime) -> bool:
    """Save the paper to the account's library; False when it was there already."""
    statement = (
        insert_into(conn, library_items)
        .values(user_id=user_id, paper_id=paper_id, saved_at=now)
        .on_conflict_do_nothing(index_elements=[library_items.c.user_id, library_items.c.paper_id])
        .returning(library_items.c.paper_id)
    )
    return conn.execute(statement).first() is not None


def delete_saved(conn: Connection, user_id: int, paper_id: int) -> bool:
    """Remove the paper from the account's library; False when it was not there."""
    statement = delete(library_items).where(
        library_items.c.user_id == user_id, library_items.c.paper_id == paper_id
    )
    return conn.execute(statement).rowcount > 0


def _conditions(user_id: int, chosen: LibraryFilter) -> list[ColumnElement[bool]]:
    conditions = [library_items.c.user_id == user_id]
    if chosen.read is not None:
        read_at = library_items.c.read_at
        conditions.append(read_at.is_not(None) if chosen.read else read_at.is_(None))
    if chosen.collection_id is not None:
        conditions.append(collection_items.c.collection_id == chosen.collection_id)
    return conditions


def _from(chosen: LibraryFilter) -> Any:
    if chosen.collection_id is None:
        return library_items
    return library_items.join(collection_items, collection_items.c.paper_id == library_items.c.paper_id)


def count_saved(conn: Connection, user_id: int, chosen: LibraryFilter = EVERY_SAVED) -> int:
    query = select(func.count()).select_from(_from(chosen)).where(*_conditions(user_id, chosen))
    return int(conn.execute(query).scalar_one())


def saved_papers(
    conn: Connection, user_id: int, *, limit: int, offset: int = 0, chosen: LibraryFilter = EVERY_SAVED
) -> list[Saved]:
    """The account's saved papers, the latest saved first (ties: the newer row id first), or in
    the collection's order when the filter names one."""
    columns = library_items.c
    order = (
        (columns.saved_at.desc(), columns.paper_id.desc())
        if chosen.collection_id is None
        else (collection_items.c.position, columns.paper_id)
    )
    query = (
        select(columns.paper_id, columns.saved_at, columns.read_at)
        .select_from(_from(chosen))
        .where(*_conditions(user_id, chosen))
        .order_by(*order)
        .limit(limit)
        .offset(offset)
    )
    return [Saved(row.paper_id, row.saved_at, row.read_at) for row in conn.execute(query)]


def saved_page(
    conn: Connection, user_id: int, *, limit: int, offset: int = 0, chosen: LibraryFilter = EVERY_SAVED
) -> tuple[list[Saved], int]:
    """`saved_papers`' page with each paper's note, and how many the filter selects in all: one
    statement (the count a window over the same rows, the notes a join), made once per kind of
    filter. A page past the last counts apart (it has no row to carry the count)."""
    statement = _page_statement(chosen.read, chosen.collection_id is not None, conn.dialect.name)
    parameters = {"user_id": user_id, "collection_id": chosen.collection_id, "limit": limit, "offset": offset}
    rows = conn.execute(statement, parameters).all()
    if not rows:
        return [], count_saved(conn, user_id, chosen) if offset else 0
    return [_saved_with_marks(row) for row in rows], int(rows[0].total)


def _saved_with_marks(row: Any) -> Saved:
    held = frozenset(int(part) for part in row.held.split(",")) if row.held else frozenset()
    marks = SavedMarks(bool(row.voted), bool(row.not_interested), held)
    return Saved(row.paper_id, row.saved_at, row.read_at, row.note or "", marks)


@cache
def _page_statement(read: bool | None, by_collection: bool, dialect: str) -> Select[Any]:
    columns = library_items.c
    conditions = [columns.user_id == bindparam("user_id")]
    if read is not None:
        conditions.append(columns.read_at.is_not(None) if read else columns.read_at.is_(None))
    source: Any = library_items
    order: tuple[Any, ...] = (columns.saved_at.desc(), columns.paper_id.desc())
    if by_collection:
        source = source.join(collection_items, collection_items.c.paper_id == columns.paper_id)
        conditions.append(collection_items.c.collection_id == bindparam("collection_id"))
        order = (collection_items.c.position, columns.paper_id)
    return (
        select(
            columns.paper_id,
            columns.saved_at,
            columns.read_at,
            library_notes.c.note,
            func.count().over().label("total"),
            *_marks_of(columns, dialect),
        )
        .select_from(source.outerjoin(library_notes, _note_of(columns)))
        .where(*conditions)
        .order_by(*order)
        .limit(bindparam("limit"))
        .offset(bindparam("offset"))
    )


def _marks_of(columns: Any, dialect: str) -> tuple[Any, ...]:
    """The reader's vote, "not interested" mark and collections holding each row's paper, as
    columns of the page's statement: the page then needs neither storage/reader_marks.py's nor
    collections.membership's statement (two round trips fewer on PostgreSQL)."""
    voted = select(votes.c.paper_id).where(
        votes.c.user_id == columns.user_id, votes.c.paper_id == columns.paper_id
    )
    hidden = select(paper_feedback.c.paper_id).where(
        paper_feedback.c.user_id == columns.user_id,
        paper_feedback.c.paper_id == columns.paper_id,
        paper_feedback.c.signal == NOT_INTERESTED,
    )
    items, owned = collection_items.alias("held_items"), collections.alias("held_by")
    ids = cast(items.c.collection_id, Text)
    joined = func.string_agg(ids, ",") if dialect == "postgresql" else func.group_concat(ids, ",")
    held = (
        select(joined)
        .select_from(items.join(owned, owned.c.id == items.c.collection_id))
        .where(items.c.paper_id == columns.paper_id, owned.c.user_id == columns.user_id)
        .scalar_subquery()
    )
    return voted.exists().label("voted"), hidden.exists().label("not_interested"), held.label("held")


def _note_of(columns: Any) -> ColumnElement[bool]:
    return and_(library_notes.c.user_id == columns.user_id, library_notes.c.paper_id == columns.paper_id)


def saved_ids_query(user_id: int, chosen: LibraryFilter = EVERY_SAVED) -> Select[Any]:
    """A subquery of the ids of the saved papers the filter selects (for a search within them)."""
    return select(library_items.c.paper_id).select_from(_from(chosen)).where(*_conditions(user_id, chosen))


def saved_among(conn: Connection, user_id: int, paper_ids: Sequence[int]) -> dict[int, Saved]:
    """Which of these papers the account saved, with when, and their notes (one query)."""
    if not paper_ids:
        return {}
    columns = library_items.c
    query = (
        select(columns.paper_id, columns.saved_at, columns.read_at, library_notes.c.note)
        .select_from(library_items.outerjoin(library_notes, _note_of(columns)))
        .where(columns.user_id == user_id, id_in(columns.paper_id, paper_ids))
    )
    return {
        row.paper_id: Saved(row.paper_id, row.saved_at, row.read_at, row.note or "")
        for row in conn.execute(query)
    }


def set_read(conn: Connection, user_id: int, paper_id: int, read_at: datetime | None) -> bool:
    """Mark a saved paper read (at `read_at`) or unread (None); False when it is not saved."""
    statement = update(library_items).where(
        library_items.c.user_id == user_id, library_items.c.paper_id == paper_id
    )
    return conn.execute(statement.values(read_at=read_at)).rowcount > 0


# --- private notes ---


def upsert_note(conn: Connection, user_id: int, paper_id: int, note: str, now: datetime) -> None:
    statement = insert_into(conn, library_notes).values(
        user_id=user_id, paper_id=paper_id, note=note, updated_at=now
    )
    statement = statement.on_conflict_do_update(
        index_elements=[library_notes.c.user_id, library_notes.c.paper_id],
        set_={"note": statement.excluded.note, "updated_at": statement.excluded.updated_at},
    )
    conn.execute(statement)


def delete_note(conn: Connection, user_id: int, paper_id: int) -> bool:
    statement = delete(library_notes).where(
        library_notes.c.user_id == user_id, library_notes.c.paper_id == paper_id
    )
    return conn.execute(statement).rowcount > 0


def notes_among(conn: Connection, user_id: int, paper_ids: Sequence[int]) -> dict[int, str]:
    """The account's notes on these papers (one query)."""
    if not paper_ids:
        return {}
    query = select(library_notes.c.paper_id, library_notes.c.note).where(
        library_notes.c.user_id == user_id, id_in(library_notes.c.paper_id, paper_ids)
    )
    return {row.paper_id: row.note for row in conn.execute(query)}
