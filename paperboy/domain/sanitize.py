"""What any source may send that no database should store: NUL characters (PostgreSQL text
refuses them), version numbers and author lists beyond any real paper's (and beyond the
SMALLINT columns), and categories that are not arXiv categories. Applied to every record
before it is merged, so that SQLite and PostgreSQL store the same thing."""

from __future__ import annotations

from dataclasses import replace

from paperboy.domain.categories import arxiv_categories
from paperboy.domain.models import PaperRecord

MAX_VERSION = 999  # arXiv papers have a few dozen versions at most
MAX_AUTHORS = 30_000  # the longest real author lists have a few thousand names
_TEXT_FIELDS = ("title", "abstract", "comment", "journal_ref", "doi", "license", "submitter")


def sanitize_record(record: PaperRecord) -> PaperRecord:
    changes: dict[str, object] = {
        name: _text(getattr(record, name)) for name in _TEXT_FIELDS if _has_nul(getattr(record, name))
    }
    if any(_has_nul(name) for name in record.authors) or len(record.authors) > MAX_AUTHORS:
        changes["authors"] = tuple(name.replace("\x00", "") for name in record.authors[:MAX_AUTHORS])
    categories = arxiv_categories(record.categories)
    if categories != record.categories:
        changes["categories"] = categories
    if any(not 1 <= v.number <= MAX_VERSION for v in record.versions):
        changes["versions"] = tuple(v for v in record.versions if 1 <= v.number <= MAX_VERSION)
    return replace(record, **changes) if changes else record  # type: ignore[arg-type]


def _has_nul(value: str | None) -> bool:
    return value is not None and "\x00" in value


def _text(value: str | None) -> str | None:
    return None if value is None else value.replace("\x00", "")
