"""Writing papers: merge incoming records into the catalogue, one batch per call.

The caller owns the transaction, so a batch is written completely or not at all.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Engine, delete, insert, select, update
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError
from sqlalchemy.sql.expression import bindparam

from paperboy.domain.follows import author_key
from paperboy.domain.links import find_links
from paperboy.domain.merge import content_hash, merge_records
from paperboy.domain.models import Listing, PaperRecord, Version
from paperboy.storage.bulk import allocate_ids, insert_rows
from paperboy.storage.engine import now_utc, utc
from paperboy.storage.lexical_index import index_papers, remove_papers
from paperboy.storage.schema import (
    listings,
    paper_authors,
    paper_categories,
    paper_links,
    paper_versions,
    papers,
)
from paperboy.storage.transactions import mark_catalogue_changed, write_transaction

_CHILD_TABLES = (paper_authors, paper_categories, paper_versions, paper_links, listings)


@dataclass(frozen=True, slots=True)
class PaperChange:
    """What a write did to one paper that alerts tell readers about (services/alerts.py)."""

    paper_id: int
    new: bool = False  # inserted by this write
    version: int | None = None  # its latest version, when this write raised it
    code: bool = False  # a code link it did not have
    journal_ref: bool = False  # a journal reference it did not have, or another one

    @property
    def any(self) -> bool:
        return self.new or self.version is not None or self.code or self.journal_ref


@dataclass(slots=True)
class UpsertResult:
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    unknown: list[str] = field(default_factory=list)  # listing-only records for absent papers
    changes: list[PaperChange] = field(default_factory=list)  # inserted papers, and updates alerts tell

    def add(self, other: UpsertResult) -> None:
        self.inserted += other.inserted
        self.updated += other.updated
        self.unchanged += other.unchanged
        self.unknown.extend(other.unknown)
        self.changes.extend(other.changes)


def upsert_papers(
    conn: Connection,
    records: Sequence[PaperRecord],
    insert_turn: AbstractContextManager[object] | None = None,
) -> UpsertResult:
    """Merge `records` into the catalogue; unchanged papers are not written at all.

    A paper whose last applied record is exactly this one (same source hash) is skipped without
    loading it: merging is idempotent, so applying that record again cannot change anything.
    `insert_turn` is entered around the insertion of new papers: concurrent writers of one import
    take turns there, so that new papers get their ids in the order of the files.
    """
    # In arxiv_id order, like the row locks below: concurrent writers lock papers in one order.
    incoming = dict(sorted(_combine_duplicates(records).items()))
    source_hashes = {arxiv_id: content_hash(record) for arxiv_id, record in incoming.items()}
    last_applied = _source_hashes(conn, list(incoming))
    fresh = [arxiv_id for arxiv_id in incoming if last_applied.get(arxiv_id) != source_hashes[arxiv_id]]
    stored = load_records(conn, fresh)
    result = UpsertResult(unchanged=len(incoming) - len(fresh))
    to_insert: list[PaperRecord] = []
    to_update: list[tuple[int, PaperRecord]] = []
    retext: list[int] = []  # updated papers whose indexed text (title, abstract, authors) changes
    for arxiv_id in fresh:
        record = incoming[arxiv_id]
        known = stored.get(arxiv_id)
        merged = merge_records(known[1] if known else None, record)
        if known is None:
            if merged.title is None or merged.abstract is None:
                result.unknown.append(arxiv_id)
            else:
                to_insert.append(merged)
        elif content_hash(merged) == known[2]:
            result.unchanged += 1
        else:
            to_update.append((known[0], merged))
            if _indexed_text(merged) != _indexed_text(known[1]):
                retext.append(known[0])
    # No lock shared with another writer is taken before the turn (the counter that remove_papers
    # bumps is one): a writer waiting for its turn holds nothing the writer before it may wait for.
    with insert_turn or nullcontext():
        remove_papers(conn, retext)  # before their rows change: SQLite's index needs the old text
        inserted_ids = _insert(conn, to_insert, source_hashes)
    _update(conn, to_update, source_hashes)
    index_papers(conn, inserted_ids + retext)
    if to_insert or to_update:
        mark_catalogue_changed(conn)
    result.inserted, result.updated = len(to_insert), len(to_update)
    result.changes = [PaperChange(pid, new=True) for pid in inserted_ids]
    result.changes += [c for c in (_change(pid, stored[m.arxiv_id][1], m) for pid, m in to_update) if c.any]
    return result


def _change(paper_id: int, before: PaperRecord, after: PaperRecord) -> PaperChange:
    old_version = max((v.number for v in before.versions), default=0)
    new_version = max((v.number for v in after.versions), default=0)
    old_code = {link.url for link in find_links(before.abstract, before.comment) if link.kind == "code"}
    new_code = {link.url for link in find_links(after.abstract, after.comment) if link.kind == "code"}
    return PaperChange(
        paper_id,
        version=new_version if new_version > old_version else None,
        code=bool(new_code - old_code),
        journal_ref=bool(after.journal_ref) and after.journal_ref != before.journal_ref,
    )


def write_papers(
    engine: Engine,
    records: Sequence[PaperRecord],
    attempts: int = 3,
    insert_turn: AbstractContextManager[object] | None = None,
) -> UpsertResult:
    """`upsert_papers` in a transaction of its own, retried when it lost a race with a concurrent
    writer: an insert of the same new paper, or a deadlock (PostgreSQL; on SQLite writers take turns)."""
    for attempt in range(attempts):
        try:
            with write_transaction(engine) as conn:
                return upsert_papers(conn, records, insert_turn)
        except (IntegrityError, OperationalError) as exc:
            if attempt + 1 == attempts or not _lost_a_race(exc):
                raise
    raise AssertionError("unreachable")  # pragma: no cover


def _lost_a_race(exc: DBAPIError) -> bool:
    """A unique violation, deadlock or serialization failure: the batch can simply run again."""
    return getattr(exc.orig, "sqlstate", None) in ("23505", "40P01", "40001")


def _combine_duplicates(records: Iterable[PaperRecord]) -> dict[str, PaperRecord]:
    combined: dict[str, PaperRecord] = {}
    for record in records:
        known = combined.get(record.arxiv_id)
        combined[record.arxiv_id] = merge_records(known, record) if known else record
    return combined


def _source_hashes(conn: Connection, arxiv_ids: list[str]) -> dict[str, str | None]:
    if not arxiv_ids:
        return {}
    query = (
        select(papers.c.arxiv_id, papers.c.source_hash)
        .where(papers.c.arxiv_id.in_(arxiv_ids))
        .order_by(papers.c.arxiv_id)
        .with_for_update()  # PostgreSQL: concurrent writers of these papers wait for this one
    )
    return {row.arxiv_id: row.source_hash for row in conn.execute(query)}


def load_records(conn: Connection, arxiv_ids: list[str]) -> dict[str, tuple[int, PaperRecord, str]]:
    """arxiv_id -> (row id, the stored record, its content hash), in five queries."""
    if not arxiv_ids:
        return {}
    query = select(papers).where(papers.c.arxiv_id.in_(arxiv_ids)).order_by(papers.c.arxiv_id)
    rows = conn.execute(query.with_for_update()).all()
    if not rows:
        return {}
    ids = [row.id for row in rows]
    children = _load_children(conn, ids)
    return {
        row.arxiv_id: (row.id, _record_from_rows(row, children, row.id), row.content_hash) for row in rows
    }


def _load_children(conn: Connection, ids: list[int]) -> dict[str, dict[int, list[Any]]]:
    out: dict[str, dict[int, list[Any]]] = {}
    for table, order in (
        (paper_authors, paper_authors.c.position),
        (paper_categories, paper_categories.c.position),
        (paper_versions, paper_versions.c.version),
        (listings, listings.c.day),
    ):
        grouped: dict[int, list[Any]] = defaultdict(list)
        for row in conn.execute(select(table).where(table.c.paper_id.in_(ids)).order_by(order)):
            grouped[row.paper_id].append(row)
        out[table.name] = grouped
    return out


def _record_from_rows(row: Any, children: dict[str, dict[int, list[Any]]], pid: int) -> PaperRecord:
    return PaperRecord(
        arxiv_id=row.arxiv_id,
        title=row.title,
        abstract=row.abstract,
        authors=tuple(a.name for a in children["paper_authors"][pid]),
        categories=tuple(c.category for c in children["paper_categories"][pid]),
        comment=row.comment,
        journal_ref=row.journal_ref,
        doi=row.doi,
        license=row.license,
        submitter=row.submitter,
        versions=tuple(
            Version(v.version, utc(v.created_at), v.size) for v in children["paper_versions"][pid]
        ),
        listings=tuple(Listing(item.day, item.announce_type) for item in children["listings"][pid]),
    )


def _paper_row(record: PaperRecord, now: datetime, source_hash: str) -> dict[str, Any]:
    versions = record.versions
    return {
        "arxiv_id": record.arxiv_id,
        "title": record.title,
        "abstract": record.abstract,
        "comment": record.comment,
        "journal_ref": record.journal_ref,
        "doi": record.doi,
        "license": record.license,
        "submitter": record.submitter,
        "primary_category": record.categories[0] if record.categories else None,
        "published_at": versions[0].created if versions and versions[0].number == 1 else None,
        "updated_at": max((v.created for v in versions if v.created), default=None),
        "latest_version": versions[-1].number if versions else None,
        "first_listed": record.listings[0].day if record.listings else None,
        "content_hash": content_hash(record),
        "source_hash": source_hash,
        "changed_at": now,
    }


def _indexed_text(record: PaperRecord) -> tuple[object, ...]:
    return record.title, record.abstract, record.authors


def _insert(conn: Connection, records: list[PaperRecord], source_hashes: dict[str, str]) -> list[int]:
    if not records:
        return []
    now = now_utc()
    rows = [_paper_row(record, now, source_hashes[record.arxiv_id]) for record in records]
    if conn.dialect.name == "postgresql":
        for row, pid in zip(rows, allocate_ids(conn, papers, len(rows)), strict=True):
            row["id"] = pid
        insert_rows(conn, papers, rows)
        ids = {row["arxiv_id"]: row["id"] for row in rows}
    else:
        returned = conn.execute(insert(papers).returning(papers.c.id, papers.c.arxiv_id), rows)
        ids = {arxiv_id: pid for pid, arxiv_id in returned}
    _insert_children(conn, [(ids[r.arxiv_id], r) for r in records])
    return list(ids.values())


def _update(conn: Connection, pairs: list[tuple[int, PaperRecord]], source_hashes: dict[str, str]) -> None:
    if not pairs:
        return
    now = now_utc()
    rows = [{"pid": pid, **_paper_row(record, now, source_hashes[record.arxiv_id])} for pid, record in pairs]
    statement = update(papers).where(papers.c.id == bindparam("pid"))
    conn.execute(statement.values({k: bindparam(k) for k in rows[0] if k != "pid"}), rows)
    ids = [pid for pid, _ in pairs]
    for table in _CHILD_TABLES:
        conn.execute(delete(table).where(table.c.paper_id.in_(ids)))
    _insert_children(conn, pairs)


def _insert_children(conn: Connection, pairs: list[tuple[int, PaperRecord]]) -> None:
    rows: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for pid, r in pairs:
        rows["paper_authors"] += [
            {"paper_id": pid, "position": i, "name": n, "name_key": author_key(n)}
            for i, n in enumerate(r.authors)
        ]
        rows["paper_categories"] += [
            {"paper_id": pid, "category": c, "position": i} for i, c in enumerate(dict.fromkeys(r.categories))
        ]
        rows["paper_versions"] += [
            {"paper_id": pid, "version": v.number, "created_at": v.created, "size": v.size}
            for v in r.versions
        ]
        rows["paper_links"] += [
            {"paper_id": pid, "position": i, "kind": link.kind, "url": link.url}
            for i, link in enumerate(find_links(r.abstract, r.comment))
        ]
        rows["listings"] += [
            {"paper_id": pid, "day": item.day, "announce_type": item.announce_type} for item in r.listings
        ]
    for table in _CHILD_TABLES:
        if rows[table.name]:
            insert_rows(conn, table, rows[table.name])


def ids_with_listings(conn: Connection, arxiv_ids: Sequence[str]) -> set[str]:
    """Which of these papers already have at least one listing day."""
    if not arxiv_ids:
        return set()
    query = (
        select(papers.c.arxiv_id)
        .where(papers.c.arxiv_id.in_(list(arxiv_ids)))
        .where(select(listings.c.paper_id).where(listings.c.paper_id == papers.c.id).exists())
    )
    return set(conn.execute(query).scalars())
