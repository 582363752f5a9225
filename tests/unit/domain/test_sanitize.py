from __future__ import annotations

from datetime import UTC, datetime

from paperboy.domain.links import MAX_LINKS, find_links
from paperboy.domain.merge import merge_records
from paperboy.domain.models import PaperRecord, Version
from paperboy.domain.sanitize import MAX_AUTHORS, sanitize_record


def test_nul_characters_are_removed_from_every_text():
    record = PaperRecord(
        "2506.00001", title="A\x00B", abstract="x\x00", authors=("Ada\x00 L",), comment="c\x00"
    )
    clean = sanitize_record(record)
    assert (clean.title, clean.abstract, clean.authors, clean.comment) == ("AB", "x", ("Ada L",), "c")


def test_impossible_versions_and_author_lists_are_cut():
    when = datetime(2025, 6, 1, tzinfo=UTC)
    record = PaperRecord(
        "2506.00001",
        versions=(Version(1, when), Version(40000, when), Version(0, when)),
        authors=tuple(f"A{i}" for i in range(MAX_AUTHORS + 5)),
    )
    clean = merge_records(None, record)
    assert [v.number for v in clean.versions] == [1]
    assert len(clean.authors) == MAX_AUTHORS


def test_clean_records_are_returned_as_they_are():
    record = PaperRecord("2506.00001", title="Fine", categories=("cs.LG",))
    assert sanitize_record(record) is record


def test_links_are_capped():
    text = " ".join(f"https://github.com/lab/repo{i}" for i in range(500))
    assert len(find_links(text)) == MAX_LINKS
