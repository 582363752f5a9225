"""Exporting a member's whole library: paperboy's own JSON (domain/library_document.py: what an
import on this or another site reads back), BibTeX or RIS (domain/citations.py), the latest
saved first. One read connection; papers are read in batches of 500."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import orjson
from sqlalchemy import Connection, Engine

from paperboy.domain.citations import bibtex_entries, ris_records
from paperboy.domain.iterables import batched
from paperboy.domain.library_document import LibraryDocument, SavedEntry, library_json
from paperboy.domain.models import Paper
from paperboy.domain.users import User
from paperboy.storage import library as library_store
from paperboy.storage.engine import now_utc
from paperboy.storage.library import Saved
from paperboy.storage.queries import papers_by_ids

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


def export_library(engine: Engine, settings_public_url: str, user: User, fmt: str) -> LibraryExport:
    """The member's library in `fmt` (one of FORMATS; KeyError otherwise)."""
    media_type, extension = FORMATS[fmt]
    with engine.connect() as conn:
        saved = library_store.saved_papers(conn, user.id, limit=library_store.count_saved(conn, user.id) or 1)
        pairs = list(_with_papers(conn, saved))
    filename = f"paperboy-library-{user.name}.{extension}"
    if fmt == "bibtex":
        return LibraryExport(bibtex_entries(paper for _, paper in pairs).encode(), media_type, filename)
    if fmt == "ris":
        return LibraryExport(ris_records(paper for _, paper in pairs).encode(), media_type, filename)
    document = LibraryDocument(tuple(SavedEntry(p.arxiv_id, p.title, s.saved_at) for s, p in pairs))
    body = library_json(document, site=settings_public_url, exported_at=now_utc())
    return LibraryExport(orjson.dumps(body, option=orjson.OPT_INDENT_2), media_type, filename)


def _with_papers(conn: Connection, saved: list[Saved]) -> Iterator[tuple[Saved, Paper]]:
    for batch in batched(saved, 500):
        papers = {paper.id: paper for paper in papers_by_ids(conn, [s.paper_id for s in batch])}
        yield from ((s, papers[s.paper_id]) for s in batch if s.paper_id in papers)
