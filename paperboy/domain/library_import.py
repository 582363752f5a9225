"""Importing a library, the pure part: what an uploaded file holds.

An upload is read as UTF-8 text (a byte-order mark is fine), its kind recognised from its content
(the file name only breaks a tie), and each of its entries reduced to an `ImportEntry`: the arXiv
id it names, if any, and its title for matching by title or for the list of what could not be
matched. The formats themselves are parsed in `domain/reference_formats.py`; this module owns the
limits, the kinds, the arXiv id finder and the plain list of ids.

Ids are found in the places each format keeps them (an `eprint` with `archivePrefix = {arXiv}`,
a URL, a DOI `10.48550/arXiv.…`, a journal field `arXiv preprint arXiv:…`, a note), never in an
abstract, which may cite other papers. Versions are dropped: a library keeps papers.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass

from paperboy.domain.arxiv_ids import InvalidArxivId, parse_arxiv_id

MAX_IMPORT_BYTES = 2 * 1024 * 1024  # a Zotero export of 5,000 papers without abstracts is ~1.5 MB
MAX_IMPORT_ENTRIES = 5_000
MAX_TITLE = 300  # characters of a title kept for matching and for the unmatched list

KINDS = ("bibtex", "ris", "csl_json", "csv", "ids", "paperboy")
KIND_NAMES = {
    "bibtex": "BibTeX",
    "ris": "RIS",
    "csl_json": "CSL JSON",
    "csv": "Zotero CSV",
    "ids": "list of arXiv ids",
    "paperboy": "paperboy library",
}

_ID = r"(?:\d{4}\.\d{4,5}|[a-z]+(?:-[a-z]+)?(?:\.[A-Z]{2})?/\d{7})(?:v\d+)?"
_ID_IN_TEXT = re.compile(
    rf"(?:arxiv\.org/(?:abs|pdf|html)/|10\.48550/arxiv\.|arxiv:\s*)({_ID})(?![\d.])", re.IGNORECASE
)
_COMMENT = re.compile(r"(?:^|\s)#.*")
_LATEX_COMMAND = re.compile(r"\\[A-Za-z]+\s*|\\.")
_NOT_WORD = re.compile(r"[\W_]+")
_BIBTEX_START = re.compile(r"^\s*@[A-Za-z]+\s*[{(]", re.MULTILINE)
_RIS_START = re.compile(r"^TY  - ", re.MULTILINE)
_CSV_HEADER = re.compile(r'^\ufeff?"?(Key|Item Type|Title)"?,', re.IGNORECASE)


class ImportFileError(ValueError):
    """The file cannot be imported at all; the message says why (HTTP 400). Nothing is written."""


@dataclass(frozen=True, slots=True)
class ImportEntry:
    arxiv_id: str | None  # canonical, without version; None: match by title, if any
    title: str | None  # as written, LaTeX braces removed; for matching and for the unmatched list


def decode_upload(data: bytes) -> str:
    """The upload's text: UTF-8 (a BOM is dropped); ImportFileError for anything else."""
    if len(data) > MAX_IMPORT_BYTES:
        raise ImportFileError(f"The file is larger than {MAX_IMPORT_BYTES // 2**20} MB.")
    if not data.strip():
        raise ImportFileError("The file is empty.")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ImportFileError(
            f"The file is not UTF-8 text (byte {exc.start}): export it again as UTF-8."
        ) from None
    if "\x00" in text:
        raise ImportFileError("The file holds NUL characters: it is not a text export.")
    return text


def detect_kind(text: str, filename: str = "") -> str:
    """Which of KINDS the text is, from its content; the file name decides only a CSV."""
    head = text.lstrip()
    if head[:1] in ("{", "["):
        return "paperboy" if '"paperboy-library"' in head[:2000] else "csl_json"
    if _RIS_START.search(text):
        return "ris"
    if _BIBTEX_START.search(text):
        return "bibtex"
    if filename.lower().endswith(".csv") or _CSV_HEADER.match(text):
        return "csv"
    return "ids"


def find_arxiv_id(*texts: str | None) -> str | None:
    """The first arXiv id written in these texts as a URL, a DOI or `arXiv:…`, canonical."""
    for text in texts:
        if not text:
            continue
        for match in _ID_IN_TEXT.finditer(text[:2000]):
            found = canonical_or_none(match.group(1))
            if found:
                return found
    return None


def canonical_or_none(text: str | None) -> str | None:
    """The canonical id (no version) when the whole text is an arXiv id in any spelling."""
    if not text or len(text) > 200:
        return None
    try:
        return parse_arxiv_id(text).base
    except InvalidArxivId:
        return None


def parse_id_list(text: str) -> list[ImportEntry]:
    """One id or link per line (also separated by spaces or commas); `#` starts a comment.
    What is not an id is kept, as written, for the unmatched list."""
    entries = []
    for line in text.splitlines():
        for token in re.split(r"[\s,;]+", _COMMENT.sub("", line)):
            token = token.strip().strip("<>\"'")
            if token:
                found = canonical_or_none(token) or find_arxiv_id(token)
                entries.append(ImportEntry(found, None if found else token[:MAX_TITLE]))
    return entries


def clean_title(title: str | None) -> str | None:
    """A title as a reader reads it: braces and LaTeX commands out, spaces collapsed."""
    if not title:
        return None
    text = _LATEX_COMMAND.sub(lambda m: m.group()[1:] if len(m.group()) == 2 else "", title)
    text = " ".join(text.replace("{", "").replace("}", "").split())
    return text[:MAX_TITLE] or None


def title_key(title: str) -> str:
    """What two spellings of one title share: letters and digits, accents and case folded."""
    folded = unicodedata.normalize("NFKD", title).encode("ascii", "ignore").decode().casefold()
    return " ".join(_NOT_WORD.sub(" ", folded).split())


def title_spellings(title: str) -> list[str]:
    """How a catalogue's `lower(title)` may read for this title: databases lower ASCII letters
    only, or every letter; with or without a final full stop."""
    spaced = " ".join(title.split())
    forms = {spaced.lower(), re.sub(r"[A-Z]+", lambda m: m.group().lower(), spaced)}
    forms |= {form.rstrip(".") for form in forms}
    return sorted(form for form in forms if form)


def checked_entries(entries: Iterable[ImportEntry]) -> list[ImportEntry]:
    """The entries, or ImportFileError when there are none or more than MAX_IMPORT_ENTRIES."""
    kept: list[ImportEntry] = []
    for entry in entries:
        if len(kept) == MAX_IMPORT_ENTRIES:
            raise ImportFileError(f"The file holds more than {MAX_IMPORT_ENTRIES:,} entries: split it.")
        kept.append(entry)
    if not kept:
        raise ImportFileError("No entries were found in the file.")
    return kept
