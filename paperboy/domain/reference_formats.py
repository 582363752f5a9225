"""Reference managers' exports read into `ImportEntry`s: BibTeX (bibtexparser), RIS (rispy),
CSL JSON and Zotero's CSV. Each reader looks for the arXiv id only in the fields where its
format's exporters put it (arXiv's own BibTeX, Zotero, Google Scholar, paperboy), and keeps the
title for matching by title. A file any part of which cannot be read is refused whole, with the
place it failed: a library import is never half of a file.
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
import logging
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import rispy
from bibtexparser.entrypoint import parse_string as parse_bibtex
from bibtexparser.model import DuplicateBlockKeyBlock, Entry, ParsingFailedBlock
from pylatexenc.latex2text import LatexNodes2Text

from paperboy.domain.library_document import LibraryDocument, read_library_json
from paperboy.domain.library_import import (
    ImportEntry,
    ImportFileError,
    canonical_or_none,
    checked_entries,
    clean_title,
    decode_upload,
    detect_kind,
    find_arxiv_id,
    parse_id_list,
)

# Where each format keeps an id, in the order they are trusted.
_BIBTEX_ID_FIELDS = ("url", "doi", "journal", "note", "howpublished", "archiveprefix", "eprint", "arxivid")
_RIS_ID_FIELDS = ("accession_number", "urls", "doi", "notes", "note", "journal_name", "number", "label")
_CSL_ID_FIELDS = ("URL", "DOI", "number", "archive_location", "note", "container-title", "id")
_CSV_ID_FIELDS = ("Url", "DOI", "Extra", "Archive Location", "Number", "Publication Title", "Notes")
_ACCENT_OR_MACRO = re.compile(r"\\[^$]*$|^[^$]*\\")
_LATEX_TEXT = LatexNodes2Text(math_mode="verbatim")
logging.getLogger("bibtexparser").setLevel(logging.ERROR)  # failed blocks are reported by us


@dataclass(frozen=True, slots=True)
class Upload:
    kind: str  # one of library_import.KINDS
    entries: list[ImportEntry]
    document: LibraryDocument | None = None  # a paperboy library file's saves and collections


def read_upload(data: bytes, filename: str = "") -> Upload:
    """What an uploaded file holds; ImportFileError saying why it cannot be imported."""
    text = decode_upload(data)
    kind = detect_kind(text, filename)
    if kind != "paperboy":
        return Upload(kind, parse_references(text, kind))
    try:
        document = read_library_json(json.loads(text))
    except RecursionError:
        raise ImportFileError("The file is nested too deeply to read.") from None
    except ValueError as exc:
        raise ImportFileError(f"The JSON cannot be read: {str(exc)[:200]}") from None
    return Upload(kind, document.entries(), document)


def parse_references(text: str, kind: str) -> list[ImportEntry]:
    """The entries of a text of this kind (library_import.KINDS, but "paperboy")."""
    readers: dict[str, Callable[[str], Iterator[ImportEntry]]] = {
        "bibtex": _bibtex,
        "ris": _ris,
        "csl_json": _csl_json,
        "csv": _csv,
        "ids": lambda text: iter(parse_id_list(text)),
    }
    try:
        return checked_entries(readers[kind](text))
    except RecursionError:
        raise ImportFileError("The file is nested too deeply to read.") from None


def _bibtex(text: str) -> Iterator[ImportEntry]:
    library = parse_bibtex(text)
    entries: list[Entry] = list(library.entries)
    for block in library.failed_blocks:
        if isinstance(block, DuplicateBlockKeyBlock):  # Google Scholar's keys collide often
            if isinstance(block.ignore_error_block, Entry):
                entries.append(block.ignore_error_block)
        elif isinstance(block, ParsingFailedBlock):
            line = (block.start_line or 0) + 1
            raise ImportFileError(f"The BibTeX entry at line {line} cannot be read: {_why(block)}")
    for entry in sorted(entries, key=lambda entry: entry.start_line or 0):
        fields = {field.key.lower(): str(field.value) for field in entry.fields}
        yield ImportEntry(_bibtex_id(fields), bibtex_title(fields.get("title")))


def _bibtex_id(fields: Mapping[str, str]) -> str | None:
    prefix = (fields.get("archiveprefix") or fields.get("eprinttype") or "").lower()
    eprint = fields.get("eprint")
    if eprint and prefix in ("arxiv", ""):
        found = canonical_or_none(eprint.strip("{} "))
        if found:
            return found
    return find_arxiv_id(*(fields.get(name) for name in _BIBTEX_ID_FIELDS))


def bibtex_title(title: str | None) -> str | None:
    """A BibTeX title as text: accents and macros outside math decoded, braces dropped."""
    if title and "\\" in title and "$" not in title:
        # pylatexenc gives up on odd input: the title as written, then
        with contextlib.suppress(Exception):
            title = _LATEX_TEXT.latex_to_text(title)
    return clean_title(title)


def _why(block: ParsingFailedBlock) -> str:
    reason = str(block.error).split("\n")[-1].strip() or type(block.error).__name__
    return reason[:200]


def _ris(text: str) -> Iterator[ImportEntry]:
    try:
        records = rispy.loads(text, skip_unknown_tags=True)
    except (OSError, ValueError, KeyError) as exc:
        raise ImportFileError(f"The RIS file cannot be read: {str(exc)[:200]}") from None
    for record in records:
        values = [_joined(record.get(name)) for name in _RIS_ID_FIELDS]
        title = record.get("title") or record.get("primary_title") or record.get("translated_title")
        yield ImportEntry(find_arxiv_id(*values), clean_title(_joined(title)))


def _csl_json(text: str) -> Iterator[ImportEntry]:
    try:
        document = json.loads(text)
    except ValueError as exc:
        raise ImportFileError(f"The JSON cannot be read: {str(exc)[:200]}") from None
    items = document.get("items") if isinstance(document, dict) else document
    if isinstance(document, dict) and items is None:
        items = [document]
    if not isinstance(items, list):
        raise ImportFileError("The JSON is not CSL JSON (a list of items).")
    for number, item in enumerate(items, start=1):
        if not isinstance(item, dict):
            raise ImportFileError(f"Item {number} of the CSL JSON is not an object.")
        values = [_joined(item.get(name)) for name in _CSL_ID_FIELDS]
        yield ImportEntry(find_arxiv_id(*values), clean_title(_joined(item.get("title"))))


def _csv(text: str) -> Iterator[ImportEntry]:
    reader = csv.DictReader(io.StringIO(text, newline=""))
    columns = {name.strip().lower(): name for name in reader.fieldnames or [] if name}
    if "title" not in columns and not _id_column(columns):
        raise ImportFileError("The CSV has neither a Title column nor one of arXiv ids (say, arxiv_id).")
    try:
        for row in reader:
            yield _csv_entry(row, columns)
    except csv.Error as exc:
        raise ImportFileError(f"The CSV cannot be read at line {reader.line_num}: {exc}") from None


def _csv_entry(row: Mapping[str, str | None], columns: Mapping[str, str]) -> ImportEntry:
    def value(name: str) -> str | None:
        column = columns.get(name.lower())
        found = row.get(column) if column else None
        return found if isinstance(found, str) else None

    id_column = _id_column(columns)
    found = canonical_or_none((value(id_column) or "").strip()) if id_column else None
    found = found or find_arxiv_id(*(value(name) for name in _CSV_ID_FIELDS))
    return ImportEntry(found, clean_title(value("title")))


def _id_column(columns: Mapping[str, str]) -> str | None:
    return next((name for name in ("arxiv_id", "arxiv", "eprint", "id") if name in columns), None)


def _joined(value: Any) -> str | None:
    if isinstance(value, list):
        return " ".join(str(part) for part in value if isinstance(part, str | int))
    return str(value) if isinstance(value, str | int) else None
