"""Bulk files: JSON lines of papers (plain or gzip) and the listings TSV.

Two line formats are recognised, line by line:

- the Kaggle arXiv snapshot (`arxiv-metadata-oai-snapshot.json`): `authors` is one string,
  `authors_parsed` holds [last, first, suffix] triples, `versions` the RFC 1123 dates;
- paperboy's corpus format (`../shared/data/arxiv/papers.jsonl.gz`): `authors` and
  `categories` are lists. Its first/last_listed dates are not turned into listings (the
  listings TSV says exactly which days), and it carries no versions.

Reading is the hot path of a full import (millions of lines for the Kaggle dump), so each line
costs one orjson parse, one id check and a few substring scans and splits: no regex rewriting
of text, no per-character Python loops.
"""

from __future__ import annotations

import gzip
import io
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import IO, Any

import orjson

from paperboy.domain.arxiv_ids import InvalidArxivId, parse_arxiv_id
from paperboy.domain.models import Listing, PaperRecord, Version
from paperboy.integrations.parsing import collapse, parse_rfc1123, split_author_list

GZIP_MAGIC = b"\x1f\x8b"
READ_BUFFER = 1 << 20
LISTINGS_HEADER = b"date\tarxiv_id"


@dataclass(frozen=True, slots=True)
class ParsedLine:
    line: int
    record: PaperRecord


@dataclass(frozen=True, slots=True)
class LineError:
    """A line that cannot be used; `str()` gives one line naming the file, the line and why."""

    path: str
    line: int
    reason: str

    def __str__(self) -> str:
        return f"{self.path}, line {self.line}: {self.reason}"


LineResult = ParsedLine | LineError
ByteProgress = Callable[[int], None]  # hears how many more bytes of the file were read


class MalformedLine(ValueError):
    """One line cannot be used; the message (one line) says why."""


@contextmanager
def open_bulk(path: Path | str, on_bytes: ByteProgress | None = None) -> Iterator[IO[bytes]]:
    """Open for reading bytes, decompressing when the file starts with the gzip magic number.

    `on_bytes` hears how far into the file (compressed bytes) reading has come, now and then:
    what a progress bar with an ETA needs, whatever the compression.
    """
    with open(path, "rb", buffering=READ_BUFFER) as raw:
        if raw.peek(2)[:2] != GZIP_MAGIC:  # type: ignore[attr-defined]  # a BufferedReader
            yield _reporting(raw, raw, on_bytes)
            return
        # GzipFile's own line buffer is 8 KiB in Python 3.11; a larger one saves ~15% of a read.
        with io.BufferedReader(gzip.GzipFile(fileobj=raw, mode="rb"), buffer_size=READ_BUFFER) as lines:
            yield _reporting(lines, raw, on_bytes)


def _reporting(lines: IO[bytes], raw: IO[bytes], on_bytes: ByteProgress | None) -> IO[bytes]:
    if on_bytes is None:
        return lines
    return _PositionReporter(lines, raw, on_bytes)  # type: ignore[return-value]


class _PositionReporter:
    """Iterates lines like the file it wraps, telling `on_bytes` the raw position every N lines."""

    EVERY = 2000

    def __init__(self, lines: IO[bytes], raw: IO[bytes], on_bytes: ByteProgress) -> None:
        self.lines, self.raw, self.on_bytes = lines, raw, on_bytes
        self.reported = 0

    def __iter__(self) -> Iterator[bytes]:
        for number, line in enumerate(self.lines, start=1):
            if number % self.EVERY == 0:
                self._report()
            yield line
        self._report()

    def _report(self) -> None:
        position = self.raw.tell()
        self.on_bytes(position - self.reported)
        self.reported = position


def read_papers(path: Path | str, on_bytes: ByteProgress | None = None) -> Iterator[LineResult]:
    """One result per non-blank line: the paper, or the reason the line is unusable.

    A gzip stream that breaks off (a truncated download) ends the file with one last
    LineError, so the caller's skip-or-stop policy applies to it like to any bad line.
    """
    number = 0
    with open_bulk(path, on_bytes) as lines:
        try:
            for number, raw in enumerate(lines, start=1):
                if raw.isspace():
                    continue
                try:
                    yield ParsedLine(number, parse_paper_line(raw))
                except MalformedLine as bad:
                    yield LineError(str(path), number, str(bad))
        except (OSError, EOFError, zlib.error) as exc:  # truncated or corrupt gzip
            yield LineError(str(path), number + 1, f"the file is cut off or corrupt here ({exc})")


def parse_paper_line(raw: bytes | str) -> PaperRecord:
    """One JSON line of either format; raise MalformedLine with a one-line reason."""
    try:
        obj = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise MalformedLine(f"not valid JSON ({exc})") from None
    if not isinstance(obj, dict):
        raise MalformedLine(f"expected a JSON object, got {type(obj).__name__}")
    arxiv_id = _arxiv_id(obj.get("id"))
    try:
        title = _normalised(obj, "title")
        if not title:
            raise MalformedLine("missing 'title'")
        if not _normalised(obj, "abstract"):
            raise MalformedLine("missing 'abstract'")
        if isinstance(obj.get("authors"), str) or "versions" in obj:
            return _kaggle_record(obj, arxiv_id, title)
        return _corpus_record(obj, arxiv_id, title)
    except MalformedLine as bad:
        raise MalformedLine(f"{arxiv_id}: {bad}") from None


def _arxiv_id(value: object) -> str:
    if not isinstance(value, str) or not value:
        raise MalformedLine("missing 'id'")
    try:
        return parse_arxiv_id(value).base
    except InvalidArxivId as exc:
        raise MalformedLine(f"bad arXiv id: {exc}") from None


def _kaggle_record(obj: dict[str, Any], arxiv_id: str, title: str) -> PaperRecord:
    return PaperRecord(
        arxiv_id=arxiv_id,
        title=title,
        abstract=_normalised(obj, "abstract"),
        authors=_kaggle_authors(obj),
        categories=tuple(_optional(obj, "categories").split()),
        comment=_normalised(obj, "comments"),
        journal_ref=_normalised(obj, "journal-ref"),
        doi=_optional(obj, "doi") or None,
        license=_optional(obj, "license") or None,
        submitter=_normalised(obj, "submitter"),
        versions=_kaggle_versions(obj.get("versions")),
    )


def _corpus_record(obj: dict[str, Any], arxiv_id: str, title: str) -> PaperRecord:
    return PaperRecord(
        arxiv_id=arxiv_id,
        title=title,
        abstract=_normalised(obj, "abstract"),
        authors=_string_list(obj, "authors"),
        categories=_string_list(obj, "categories"),
        comment=_normalised(obj, "comment"),
    )


def _normalised(obj: dict[str, Any], key: str) -> str | None:
    """A string field with hard wraps collapsed; None when absent, null or blank."""
    value = obj.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        raise MalformedLine(f"'{key}' must be a string, got {type(value).__name__}")
    return collapse(value)


def _optional(obj: dict[str, Any], key: str) -> str:
    """A string field as it is ('' when absent or null)."""
    value = obj.get(key)
    if value is None:
        return ""
    if not isinstance(value, str):
        raise MalformedLine(f"'{key}' must be a string, got {type(value).__name__}")
    return value.strip()


def _string_list(obj: dict[str, Any], key: str) -> tuple[str, ...]:
    value = obj.get(key)
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise MalformedLine(f"'{key}' must be a list of strings")
    return tuple(item.strip() for item in value if item.strip())


def _kaggle_authors(obj: dict[str, Any]) -> tuple[str, ...]:
    """'First Last Suffix' from authors_parsed, else the authors string split on , and 'and'."""
    parsed = obj.get("authors_parsed")
    if isinstance(parsed, list) and parsed:
        names = [name for name in map(_joined_name, parsed) if name]
        if len(names) == len(parsed):
            return tuple(names)
    authors = obj.get("authors")
    return tuple(split_author_list(authors)) if isinstance(authors, str) else ()


def _joined_name(parts: object) -> str | None:
    """[last, first, suffix, affiliation...] -> 'first last suffix'; None when the shape is wrong.

    arXiv's parser writes hyphenated initials as 'C. -P.'; they are joined back to 'C.-P.'.
    """
    if not isinstance(parts, list) or not all(isinstance(part, str) for part in parts):
        return None
    last, first, suffix = [*parts, "", "", ""][:3]
    return " ".join(" ".join((first.replace(" -", "-"), last, suffix)).split()) or None


def _kaggle_versions(value: object) -> tuple[Version, ...]:
    if value is None:
        return ()
    if not isinstance(value, list):
        raise MalformedLine("'versions' must be a list")
    versions = []
    for entry in value:
        try:
            label, created = entry["version"], entry["created"]
            versions.append(Version(int(label.removeprefix("v")), parse_rfc1123(created)))
        except (TypeError, KeyError, AttributeError, ValueError):
            raise MalformedLine(f"bad version entry {str(entry)[:80]!r}") from None
    return tuple(sorted(versions, key=lambda v: v.number))


def read_listings_tsv(path: Path | str) -> Iterator[tuple[str, Listing] | LineError]:
    """(arxiv_id, Listing(day, None)) per row of a `date<TAB>arxiv_id` file, or a LineError.

    The header line is optional: a first line that is not the header is read as a row.
    """
    number = 0
    with open_bulk(path) as rows:
        try:
            for number, raw in enumerate(rows, start=1):
                if raw.isspace() or (number == 1 and raw.strip() == LISTINGS_HEADER):
                    continue
                try:
                    yield _listing_row(raw)
                except MalformedLine as bad:
                    yield LineError(str(path), number, str(bad))
        except (OSError, EOFError, zlib.error) as exc:  # truncated or corrupt gzip
            yield LineError(str(path), number + 1, f"the file is cut off or corrupt here ({exc})")


def _listing_row(raw: bytes) -> tuple[str, Listing]:
    fields = raw.decode("utf-8", "replace").strip().split("\t")
    if len(fields) != 2:
        raise MalformedLine(f"expected 2 tab-separated fields (date, arXiv id), got {len(fields)}")
    try:
        day = date.fromisoformat(fields[0])
        arxiv_id = parse_arxiv_id(fields[1]).base
    except ValueError as exc:  # InvalidArxivId is a ValueError too
        raise MalformedLine(str(exc)) from None
    return arxiv_id, Listing(day, None)
