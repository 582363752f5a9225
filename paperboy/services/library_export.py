"""Exporting a member's whole library: paperboy's own JSON (domain/library_document.py: what an
import on this or another site reads back), BibTeX or RIS (domain/citations.py), the latest
saved first, with their read marks, notes and the member's collections (JSON). One read
connection; papers are read in batches of 500, each collection's papers in one query."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import orjson
from sqlalchemy import Connection, Engine

from paperboy.domain.citations import bibtex_entries, ris_records
from paperboy.domain.collections import MAX_PAPERS
from paperboy.domain.iterables import batched
from paperboy.domain.library_document import CollectionEntry, LibraryDocument, SavedEntry, library_json
from paperboy.domain.models import Paper
from paperboy.domain.users import User
from paperboy.storage import collections as collections_store
from paperboy.storage import library as library_store
from paperboy.storage.engine import now_utc
from paperboy.storage.library import Saved
from paperboy.storage.queries import papers_by_ids

_BATCH = 500
FORMATS = {
    "json": ("application/json", "json"),
    "bibtex": ("application/x-bibtex; charset=utf-8", "bib"),
    "ris": ("application/x-research-info-systems; charset=utf-8", "ris"),
}


@dataclass(frozen=True, slots=True)
class LibraryExport:
    body: bytes
    media_type: str
    filename: str


def export_library(engine: Engine, site: str, user: User, fmt: str) -> LibraryExport:
    """The member's library in `fmt` (one of FORMATS; KeyError otherwise)."""
    media_type, extension = FORMATS[fmt]
    filename = f"paperboy-library-{user.name}.{extension}"
    with engine.connect() as conn:
        saved = library_store.saved_papers(conn, user.id, limit=library_store.count_saved(conn, user.id) or 1)
        pairs = list(_with_papers(conn, saved))
        if fmt != "json":
            text = (bibtex_entries if fmt == "bibtex" else ris_records)(paper for _, paper in pairs)
            return LibraryExport(text.encode(), media_type, filename)
        notes = _notes(conn, user, [s.paper_id for s, _ in pairs])
        collections = _collections(conn, user, {paper.id: paper.arxiv_id for _, paper in pairs})
    entries = tuple(SavedEntry(p.arxiv_id, p.title, s.saved_at, s.read_at, notes.get(p.id)) for s, p in pairs)
    body = library_json(LibraryDocument(entries, collections), site=site, exported_at=now_utc())
    return LibraryExport(orjson.dumps(body, option=orjson.OPT_INDENT_2), media_type, filename)


def _with_papers(conn: Connection, saved: list[Saved]) -> Iterator[tuple[Saved, Paper]]:
    for batch in batched(saved, _BATCH):
        papers = {paper.id: paper for paper in papers_by_ids(conn, [s.paper_id for s in batch])}
        yield from ((s, papers[s.paper_id]) for s in batch if s.paper_id in papers)


def _notes(conn: Connection, user: User, paper_ids: list[int]) -> dict[int, str]:
    notes: dict[int, str] = {}
    for batch in batched(paper_ids, _BATCH):
        notes.update(library_store.notes_among(conn, user.id, batch))
    return notes


def _collections(conn: Connection, user: User, arxiv_ids: dict[int, str]) -> tuple[CollectionEntry, ...]:
    """The member's collections in their order, each with its papers' arXiv ids in its order
    (every paper in a collection is saved, so `arxiv_ids` names them all)."""
    made = []
    for row in collections_store.collections_of(conn, user.id):
        items = collections_store.items(conn, row.id, limit=MAX_PAPERS)
        papers = tuple(arxiv_ids[item.paper_id] for item in items if item.paper_id in arxiv_ids)
        made.append(CollectionEntry(row.name, row.description, row.is_public, papers))
    return tuple(made)
