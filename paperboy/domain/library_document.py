"""paperboy's own library file: what `GET /library/export?format=json` writes and an import
reads back, on this site or another one.

    {"format": "paperboy-library", "version": 1, "site": "https://…", "exported_at": "…",
     "saved": [{"arxiv_id", "title", "saved_at", "read_at", "note"}, …],
     "collections": [{"name", "description", "public", "papers": [arXiv ids in order]}, …]}

Papers are named by arXiv id (the row ids of one site mean nothing on another); collections are
listed in their order. A reader ignores fields it does not know, and refuses a newer version.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from paperboy.domain.collections import (
    MAX_COLLECTIONS,
    MAX_DESCRIPTION,
    MAX_NAME,
    MAX_NOTE,
    MAX_PAPERS,
    InvalidCollection,
    clean_description,
    clean_name,
    clean_note,
)
from paperboy.domain.library_import import (
    MAX_IMPORT_ENTRIES,
    MAX_TITLE,
    ImportEntry,
    ImportFileError,
    canonical_or_none,
)

FORMAT = "paperboy-library"
VERSION = 1


@dataclass(frozen=True, slots=True)
class SavedEntry:
    arxiv_id: str
    title: str
    saved_at: datetime | None = None
    read_at: datetime | None = None
    note: str | None = None


@dataclass(frozen=True, slots=True)
class CollectionEntry:
    name: str
    description: str = ""
    public: bool = False
    papers: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class LibraryDocument:
    saved: tuple[SavedEntry, ...]
    collections: tuple[CollectionEntry, ...] = ()

    def entries(self) -> list[ImportEntry]:
        """Every paper the document names, each once: the saved ones, then collections' others."""
        titles = {saved.arxiv_id: saved.title for saved in self.saved}
        ids = [saved.arxiv_id for saved in self.saved]
        ids += [arxiv_id for collection in self.collections for arxiv_id in collection.papers]
        return [ImportEntry(arxiv_id, titles.get(arxiv_id)) for arxiv_id in dict.fromkeys(ids)]


def library_json(document: LibraryDocument, *, site: str, exported_at: datetime) -> dict[str, Any]:
    """The document as the JSON object an export writes."""
    return {
        "format": FORMAT,
        "version": VERSION,
        "site": site,
        "exported_at": _iso(exported_at),
        "saved": [
            {
                "arxiv_id": saved.arxiv_id,
                "title": saved.title,
                "saved_at": _iso(saved.saved_at),
                "read_at": _iso(saved.read_at),
                "note": saved.note,
            }
            for saved in document.saved
        ],
        "collections": [
            {
                "name": collection.name,
                "description": collection.description,
                "public": collection.public,
                "papers": list(collection.papers),
            }
            for collection in document.collections
        ],
    }


def dump_document(document: LibraryDocument) -> str:
    """The document as text to keep (an import's, until its papers are fetched)."""
    return json.dumps(library_json(document, site="", exported_at=datetime(2000, 1, 1, tzinfo=UTC)))


def load_document(text: str) -> LibraryDocument:
    return read_library_json(json.loads(text))


def read_library_json(data: Any) -> LibraryDocument:
    """The document in a parsed JSON value; ImportFileError naming the first thing wrong."""
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise ImportFileError("The JSON is not a paperboy library export.")
    version = data.get("version")
    if not isinstance(version, int) or not 1 <= version <= VERSION:
        raise ImportFileError(f"This site reads library files of version {VERSION}, not {version!r}.")
    saved = tuple(_saved(item, number) for number, item in enumerate(_list(data, "saved"), start=1))
    listed = _list(data, "collections")
    if len(listed) > MAX_COLLECTIONS:
        raise ImportFileError(
            f"The file holds more than {MAX_COLLECTIONS} collections, the most a member keeps."
        )
    collections = tuple(_collection(item, number) for number, item in enumerate(listed, start=1))
    document = LibraryDocument(saved, collections)
    if not document.entries():
        raise ImportFileError("The library file holds no papers.")
    if len(document.entries()) > MAX_IMPORT_ENTRIES:
        raise ImportFileError(f"The file holds more than {MAX_IMPORT_ENTRIES:,} papers.")
    return document


def _list(data: dict[str, Any], key: str) -> list[Any]:
    value = data.get(key, [])
    if not isinstance(value, list):
        raise ImportFileError(f"{key!r} must be a list.")
    return value


def _saved(item: Any, number: int) -> SavedEntry:
    where = f"saved paper {number}"
    if not isinstance(item, dict):
        raise ImportFileError(f"The {where} is not an object.")
    arxiv_id = _arxiv_id(item.get("arxiv_id"), where)
    note = _cleaned(clean_note, _text(item.get("note"), f"the note of {where}", 2 * MAX_NOTE), where)
    title = _text(item.get("title"), f"the title of {where}", 10 * MAX_TITLE)[:MAX_TITLE]
    saved_at, read_at = _time(item.get("saved_at"), where), _time(item.get("read_at"), where)
    return SavedEntry(arxiv_id, title, saved_at, read_at, note or None)


def _collection(item: Any, number: int) -> CollectionEntry:
    where = f"collection {number}"
    if not isinstance(item, dict):
        raise ImportFileError(f"The {where} is not an object.")
    name = _cleaned(clean_name, _text(item.get("name"), f"the name of {where}", 4 * MAX_NAME), where)
    papers = item.get("papers", [])
    if not isinstance(papers, list) or len(papers) > MAX_PAPERS:
        raise ImportFileError(f"The papers of {where} must be a list of at most {MAX_PAPERS:,} arXiv ids.")
    ids = tuple(dict.fromkeys(_arxiv_id(paper, f"a paper of {where}") for paper in papers))
    text = _text(item.get("description"), f"the description of {where}", 2 * MAX_DESCRIPTION)
    return CollectionEntry(name, _cleaned(clean_description, text, where), item.get("public") is True, ids)


def _cleaned(clean: Callable[[str], str], text: str, where: str) -> str:
    """What collections keep (domain/collections.py), or ImportFileError saying where it failed."""
    try:
        return clean(text)
    except InvalidCollection as exc:
        raise ImportFileError(f"In {where}: {exc}") from None


def _arxiv_id(value: Any, where: str) -> str:
    found = canonical_or_none(value) if isinstance(value, str) else None
    if found is None:
        raise ImportFileError(f"The arXiv id of {where} is not one: {str(value)[:60]!r}.")
    return found


def _text(value: Any, what: str, limit: int) -> str:
    if value is None:
        return ""
    if not isinstance(value, str) or len(value) > limit:
        raise ImportFileError(f"{what.capitalize()} must be text of at most {limit:,} characters.")
    return value


def _time(value: Any, where: str) -> datetime | None:
    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        moment = None
    if moment is None:
        raise ImportFileError(f"A time of {where} is not an ISO 8601 time: {str(value)[:40]!r}.")
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _iso(moment: datetime | None) -> str | None:
    return None if moment is None else moment.astimezone(UTC).isoformat()
