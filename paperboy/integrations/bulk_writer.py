"""Writing the catalogue as bulk files `paperboy import` reads back (integrations/bulk_jsonl.py).

Papers are written in the Kaggle snapshot's shape, the richer of the two formats the importer
knows: it carries versions with their dates, the journal reference, DOI, license and submitter.
Authors go in `authors_parsed` whole ([name, "", ""]), so that a name is never split again.
Listings go in the `date<TAB>arxiv_id` TSV that `import --listings` reads. What neither format
carries (announce types, version sizes, Hugging Face signals) is not exported.
"""

from __future__ import annotations

import gzip
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from email.utils import format_datetime
from pathlib import Path
from typing import IO

import orjson

from paperboy.domain.models import Paper
from paperboy.integrations.bulk_jsonl import LISTINGS_HEADER


def paper_line(paper: Paper) -> bytes:
    record = {
        "id": paper.arxiv_id,
        "submitter": paper.submitter,
        "authors": ", ".join(paper.authors),
        "authors_parsed": [[name, "", ""] for name in paper.authors],
        "title": paper.title,
        "comments": paper.comment,
        "journal-ref": paper.journal_ref,
        "doi": paper.doi,
        "license": paper.license,
        "abstract": paper.abstract,
        "categories": " ".join(paper.categories),
        # The importer needs each version's date: a version without one is left out.
        "versions": [
            {"version": f"v{version.number}", "created": format_datetime(version.created, usegmt=True)}
            for version in paper.versions
            if version.created is not None
        ],
    }
    return orjson.dumps(record) + b"\n"


def listing_lines(paper: Paper) -> bytes:
    return b"".join(f"{listing.day.isoformat()}\t{paper.arxiv_id}\n".encode() for listing in paper.listings)


def listings_header() -> bytes:
    return LISTINGS_HEADER + b"\n"


@contextmanager
def open_output(path: Path | None) -> Iterator[IO[bytes]]:
    """The file at `path` (gzip-compressed when it ends in .gz), or standard output for None."""
    if path is None:
        yield sys.stdout.buffer
        sys.stdout.buffer.flush()
        return
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "wb") as out:
        yield out  # type: ignore[misc]
