"""A member's collections: named, ordered lists of papers (`collections`, `collection_items`).
One function per question the services ask. Positions count from 1; a new collection or paper
goes last. Ownership is part of each lookup (`user_id`), so a member never reaches another's
collection by its id."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Any

from sqlalchemy import (
    ARRAY,
    Connection,
    DateTime,
    Integer,
    Row,
    Select,
    Text,
    and_,
    any_,
    bindparam,
    case,
    delete,
    func,
    literal,
    null,
    select,
    union_all,
    update,
)

from paperboy.storage.dialect import insert_into
from paperboy.storage.schema import IdType, collection_items, collections, library_items, library_notes, users


@dataclass(frozen=True, slots=True)
class CollectionRow:
    id: int
    user_id: int
    owner: str  # the owner's user name
    name: str
    slug: str
    description: str
    is_public: bool
    position: int
    created_at: datetime
    updated_at: datetime
    papers: int  # how many papers it holds


@dataclass(frozen=True, slots=True)
class CollectionItem:
    paper_id: int
    position: int
    added_at: datetime


def _with_counts() -> Select[Any]:
    count = (
        select(func.count())
        .select_from(collection_items)
        .where(collection_items.c.collection_id == collections.c.id)
        .scalar_subquery()
    )
    return select(*collections.c, users.c.name.label("owner"), count.label("papers")).select_from(
        collections.join(users, users.c.id == collections.c.user_id)
    )


def _row(row: Row[Any]) -> CollectionRow:
    return CollectionRow(
        row.id,
        row.user_id,
        row.owner,
        row.name,
        row.slug,
        row.description,
        bool(row.is_public),
        row.position,
        row.created_at,
        row.updated_at,
        int(row.papers),
    )


def lock_member(conn: Connection, user_id: int) -> None:
    """PostgreSQL: the member's other collection changes wait for this transaction (their count,
    slugs and positions are read, then written). SQLite's writers take turns anyway."""
    conn.execute(select(users.c.id).where(users.c.id == user_id).with_for_update())


def lock_collection(conn: Connection, collection_id: int) -> None:
    """PostgreSQL: other adders to this collection wait (they count it and take the next position)."""
    conn.execute(select(collections.c.id).where(collections.c.id == collection_id).with_for_update())


def collections_of(conn: Connection, user_id: int) -> list[CollectionRow]:
    """The member's collections in their order, with how many papers each holds."""
    return [_row(row) for row in conn.execute(_COLLECTIONS_OF, {"user_id": user_id})]


# Built once: the library page asks on every request (building it was ~2% of that page's CPU).
_COLLECTIONS_OF = (
    _with_counts()
    .where(collections.c.user_id == bindparam("user_id"))
    .order_by(collections.c.position, collections.c.id)
)


def collection_by_id(conn: Connection, collection_id: int) -> CollectionRow | None:
    """Any member's collection by id (the caller decides who may see it)."""
    row = conn.execute(_with_counts().where(collections.c.id == collection_id)).first()
    return None if row is None else _row(row)


def members_collection(conn: Connection, user_id: int, collection_id: int) -> CollectionRow | None:
    """The collection if this member owns it; None for another's or none."""
    query = _with_counts().where(collections.c.id == collection_id, collections.c.user_id == user_id)
    row = conn.execute(query).first()
    return None if row is None else _row(row)


def count_collections(conn: Connection, user_id: int) -> int:
    query = select(func.count()).select_from(collections).where(collections.c.user_id == user_id)
    return int(conn.execute(query).scalar_one())


def slugs_starting(conn: Connection, user_id: int, prefix: str) -> set[str]:
    """The member's slugs that begin with `prefix` (to find a free one)."""
    escaped = prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    query = select(collections.c.slug).where(
        collections.c.user_id == user_id, collections.c.slug.like(escaped + "%", escape="\\")
    )
    return set(conn.execute(query).scalars())


def insert_collection(
    conn: Connection, user_id: int, name: str, slug: str, description: str, is_public: bool, now: datetime
) -> int:
    """A new collection, last in the member's order; its id."""
    last = select(func.coalesce(func.max(collections.c.position), 0)).where(collections.c.user_id == user_id)
    position = int(conn.execute(last).scalar_one()) + 1
    values = {
        "user_id": user_id,
        "name": name,
        "slug": slug,
        "description": description,
        "is_public": is_public,
        "position": position,
        "created_at": now,
        "updated_at": now,
    }
    return int(conn.execute(collections.insert().values(**values).returning(collections.c.id)).scalar_one())


def update_collection(conn: Connection, collection_id: int, now: datetime, **values: Any) -> None:
    """Change name, slug, description or is_public; `updated_at` becomes `now`."""
    statement = update(collections).where(collections.c.id == collection_id)
    conn.execute(statement.values(**values, updated_at=now))


def touch_collection(conn: Connection, collection_id: int, now: datetime) -> None:
    """Its papers changed: `updated_at` (feeds' dates and ETags) moves on."""
    conn.execute(update(collections).where(collections.c.id == collection_id).values(updated_at=now))


def delete_collection(conn: Connection, collection_id: int) -> None:
    conn.execute(delete(collection_items).where(collection_items.c.collection_id == collection_id))
    conn.execute(delete(collections).where(collections.c.id == collection_id))


def count_items(conn: Connection, collection_id: int) -> int:
    query = select(func.count()).select_from(collection_items)
    return int(conn.execute(query.where(collection_items.c.collection_id == collection_id)).scalar_one())


def insert_item(conn: Connection, collection_id: int, paper_id: int, now: datetime) -> bool:
    """Put the paper last in the collection; False when it was there already."""
    last = select(func.coalesce(func.max(collection_items.c.position), 0)).where(
        collection_items.c.collection_id == collection_id
    )
    position = int(conn.execute(last).scalar_one()) + 1
    statement = (
        insert_into(conn, collection_items)
        .values(collection_id=collection_id, paper_id=paper_id, position=position, added_at=now)
        .on_conflict_do_nothing(
            index_elements=[collection_items.c.collection_id, collection_items.c.paper_id]
        )
        .returning(collection_items.c.paper_id)
    )
    return conn.execute(statement).first() is not None


def delete_item(conn: Connection, collection_id: int, paper_id: int) -> bool:
    """Take the paper out of the collection; False when it was not in it."""
    statement = delete(collection_items).where(
        collection_items.c.collection_id == collection_id, collection_items.c.paper_id == paper_id
    )
    return conn.execute(statement).rowcount > 0


def delete_from_members_collections(conn: Connection, user_id: int, paper_id: int) -> int:
    """Take the paper out of every collection of the member (it left their library); how many."""
    owned = select(collections.c.id).where(collections.c.user_id == user_id)
    statement = delete(collection_items).where(
        collection_items.c.paper_id == paper_id, collection_items.c.collection_id.in_(owned)
    )
    return conn.execute(statement).rowcount


def items(conn: Connection, collection_id: int, *, limit: int, offset: int = 0) -> list[CollectionItem]:
    """The collection's papers in its order."""
    query = (
        select(collection_items.c.paper_id, collection_items.c.position, collection_items.c.added_at)
        .where(collection_items.c.collection_id == collection_id)
        .order_by(collection_items.c.position, collection_items.c.paper_id)
        .limit(limit)
        .offset(offset)
    )
    return [CollectionItem(row.paper_id, row.position, row.added_at) for row in conn.execute(query)]


def latest_items(conn: Connection, collection_id: int, limit: int) -> list[int]:
    """The ids of the papers added last, the latest first (a feed of the collection)."""
    query = (
        select(collection_items.c.paper_id)
        .where(collection_items.c.collection_id == collection_id)
        .order_by(collection_items.c.added_at.desc(), collection_items.c.position.desc())
        .limit(limit)
    )
    return list(conn.execute(query).scalars())


def item_position(conn: Connection, collection_id: int, paper_id: int) -> int | None:
    query = select(collection_items.c.position).where(
        collection_items.c.collection_id == collection_id, collection_items.c.paper_id == paper_id
    )
    return conn.execute(query).scalar_one_or_none()


def neighbour(conn: Connection, collection_id: int, position: int, *, before: bool) -> tuple[int, int] | None:
    """The paper just before (or after) `position` in the collection: (paper_id, position)."""
    column = collection_items.c.position
    query = select(collection_items.c.paper_id, column).where(
        collection_items.c.collection_id == collection_id, column < position if before else column > position
    )
    row = conn.execute(query.order_by(column.desc() if before else column).limit(1)).first()
    return None if row is None else (row.paper_id, row.position)


def set_item_position(conn: Connection, collection_id: int, paper_id: int, position: int) -> None:
    statement = update(collection_items).where(
        collection_items.c.collection_id == collection_id, collection_items.c.paper_id == paper_id
    )
    conn.execute(statement.values(position=position))


def membership(conn: Connection, user_id: int, paper_ids: Sequence[int]) -> dict[int, set[int]]:
    """For each of these papers, the ids of the member's collections that hold it (one query)."""
    if not paper_ids:
        return {}
    found: dict[int, set[int]] = {}
    parameters = {"user_id": user_id, "ids": [int(value) for value in paper_ids]}
    for paper_id, collection_id in conn.execute(_membership(conn.dialect.name), parameters):
        found.setdefault(paper_id, set()).add(collection_id)
    return found


@cache
def _membership(dialect: str) -> Select[Any]:
    """Built once per dialect, the ids one parameter (as storage/reader_marks.py's): building it
    and writing a library page's ids into its text was ~10% of the page's reads."""
    if dialect == "postgresql":  # one array: psycopg parses one text whatever the count
        among = collection_items.c.paper_id == any_(bindparam("ids", type_=ARRAY(Integer)))
    else:
        among = collection_items.c.paper_id.in_(bindparam("ids", expanding=True))
    holder = and_(
        collections.c.id == collection_items.c.collection_id, collections.c.user_id == bindparam("user_id")
    )
    return (
        select(collection_items.c.paper_id, collection_items.c.collection_id)
        .select_from(collection_items.join(collections, holder))
        .where(among)
    )


@dataclass(frozen=True, slots=True)
class Keeping:
    """What a member keeps about one paper: each of their collections (id, name, whether it
    holds the paper), their note and when they marked it read."""

    collections: list[tuple[int, str, bool]]
    note: str
    read_at: datetime | None


def keeping(conn: Connection, user_id: int, paper_id: int) -> Keeping:
    """The member's collections, note and read mark for one paper, in one statement (a paper page
    costs its reader one query for all of it)."""
    no_text, no_id = null().cast(Text), null().cast(IdType)
    no_flag, no_time = null().cast(Integer), null().cast(DateTime(timezone=True))
    held = case((collection_items.c.paper_id.is_(None), 0), else_=1)
    in_collections = (
        select(
            literal("c").label("kind"),
            collections.c.id,
            collections.c.name,
            held,
            no_text,
            no_time,
            collections.c.position,
        )
        .select_from(
            collections.outerjoin(
                collection_items,
                and_(
                    collection_items.c.collection_id == collections.c.id,
                    collection_items.c.paper_id == paper_id,
                ),
            )
        )
        .where(collections.c.user_id == user_id)
    )
    note = select(literal("n"), no_id, no_text, no_flag, library_notes.c.note, no_time, no_flag).where(
        library_notes.c.user_id == user_id, library_notes.c.paper_id == paper_id
    )
    read = select(literal("r"), no_id, no_text, no_flag, no_text, library_items.c.read_at, no_flag).where(
        library_items.c.user_id == user_id, library_items.c.paper_id == paper_id
    )
    rows = conn.execute(union_all(in_collections, note, read)).all()
    found = sorted((row[6], row[1], row[2], bool(row[3])) for row in rows if row[0] == "c")
    notes = [row[4] for row in rows if row[0] == "n"]
    reads = [row[5] for row in rows if row[0] == "r"]
    return Keeping(
        [(c[1], c[2], c[3]) for c in found], notes[0] if notes else "", reads[0] if reads else None
    )
