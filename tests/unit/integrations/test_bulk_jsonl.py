from __future__ import annotations

import gzip
import json
import time
from collections.abc import Iterable
from datetime import UTC, date, datetime
from itertools import islice

import pytest
from upstream_fakes import local_fixture, shared_data, shared_fixture

from paperboy.domain.models import Listing, PaperRecord, Version
from paperboy.integrations.bulk_jsonl import (
    LineError,
    LineResult,
    ParsedLine,
    read_listings_tsv,
    read_papers,
)

KAGGLE = ("kaggle_snapshot", "arxiv-metadata-oai-snapshot.head200.jsonl")


def records_by_id(results: Iterable[LineResult]) -> dict[str, PaperRecord]:
    return {r.record.arxiv_id: r.record for r in results if isinstance(r, ParsedLine)}


def outcomes(results: Iterable[LineResult]) -> list[tuple[int, object]]:
    """(line, record or reason): what a reader says about each line, whatever the file's name."""
    return [(r.line, r.record if isinstance(r, ParsedLine) else r.reason) for r in results]


def test_kaggle_snapshot_lines():
    results = list(read_papers(shared_fixture(*KAGGLE)))

    parsed = [r for r in results if isinstance(r, ParsedLine)]
    assert len(parsed) == len(results) == 200
    assert [r.line for r in parsed[:3]] == [1, 2, 3]
    assert parsed[0].record.arxiv_id == "0704.0001"
    assert parsed[-1].record.arxiv_id == "0704.0200"


def test_kaggle_record_fields():
    diphoton = records_by_id(read_papers(shared_fixture(*KAGGLE)))["0704.0001"]

    assert (
        diphoton.title
        == "Calculation of prompt diphoton production cross sections at Tevatron and LHC energies"
    )
    # from authors_parsed ([last, first, suffix]): the snapshot has already decoded Bal\'azs there
    assert diphoton.authors == ("C. Balázs", "E. L. Berger", "P. M. Nadolsky", "C.-P. Yuan")
    assert diphoton.submitter == "Pavel Nadolsky"
    assert diphoton.categories == ("hep-ph",)
    assert diphoton.comment == "37 pages, 15 figures; published version"
    assert diphoton.journal_ref == "Phys.Rev.D76:013009,2007"
    assert diphoton.doi == "10.1103/PhysRevD.76.013009"
    assert diphoton.license is None
    assert diphoton.versions == (
        Version(1, datetime(2007, 4, 2, 19, 18, 42, tzinfo=UTC)),
        Version(2, datetime(2007, 7, 24, 20, 10, 27, tzinfo=UTC)),
    )
    assert diphoton.abstract is not None
    assert diphoton.abstract.startswith(
        "A fully differential calculation in perturbative quantum chromodynamics is "
        "presented for the production"
    )
    assert diphoton.listings == ()


def test_kaggle_authors_parsed_with_suffixes_and_affiliations():
    papers = records_by_id(read_papers(shared_fixture(*KAGGLE)))

    assert papers["0704.0009"].authors[5] == "Neal J. Evans II"
    # a fourth element holds the affiliation: not part of the name
    assert papers["0704.0044"].authors[:3] == ("A. A. Schekochihin", "S. C. Cowley", "W. Dorland")
    assert papers["0704.0025"].authors == ("A. S. Mishchenko", "N. Nagaosa")


def test_kaggle_keeps_latex_and_cross_lists():
    sparsity = records_by_id(read_papers(shared_fixture(*KAGGLE)))["0704.0002"]

    assert sparsity.categories == ("math.CO", "cs.CG")
    assert sparsity.license == "http://arxiv.org/licenses/nonexclusive-distrib/1.0/"
    assert sparsity.abstract is not None
    assert "the $(k,\\ell)$-pebble game with colors" in sparsity.abstract


def test_corpus_format_lines():
    first = next(read_papers(shared_data("arxiv", "papers.jsonl.gz")))

    assert isinstance(first, ParsedLine)
    paper = first.record
    assert paper.arxiv_id == "2503.11677"
    assert (
        paper.title
        == "Simulation of prosthetic vision with PRIMA system and enhancement of face representation"
    )
    assert paper.authors == (
        "Jungyeon Park",
        "Anna Kochnev Goldstein",
        "Yueming Zhou",
        "Nathan Jensen",
        "Daniel Palanker",
    )
    assert paper.categories == ("cs.HC", "cs.CV")
    assert paper.comment is None
    assert paper.versions == ()
    assert paper.listings == ()


def test_broken_lines_are_reported_with_their_numbers():
    path = local_fixture("bulk", "mixed.jsonl")
    results = list(read_papers(path))

    good = [(r.line, r.record.arxiv_id) for r in results if isinstance(r, ParsedLine)]
    errors = [r for r in results if isinstance(r, LineError)]
    bad = [(r.line, r.reason) for r in errors]
    assert good == [(1, "2503.11685"), (2, "0704.0002")]  # line 3 is blank
    assert [line for line, _ in bad] == [4, 5, 6, 7, 8, 9, 10, 11, 12]
    reasons = dict(bad)
    assert reasons[4].startswith("not valid JSON (")
    assert reasons[5] == "missing 'id'"
    assert reasons[6].startswith("bad arXiv id: '2503.1173'")
    assert reasons[7] == "2503.11742: missing 'title'"
    assert reasons[8] == "2503.11743: 'versions' must be a list"
    assert reasons[9] == "2503.11744: 'categories' must be a list of strings"
    assert reasons[10] == "expected a JSON object, got list"
    assert reasons[11] == "2503.11745: 'title' must be a string, got list"
    assert reasons[12] == "0704.0003: bad version entry \"{'version': 'v1', 'created': 'yesterday'}\""
    assert all("\n" not in reason for reason in reasons.values())
    assert str(errors[1]) == f"{path}, line 5: missing 'id'"


def test_both_formats_normalise_the_same_way():
    papers = records_by_id(read_papers(local_fixture("bulk", "mixed.jsonl")))

    assert (
        papers["2503.11685"].abstract
        == "Artificial intelligence necessitates adaptable hardware accelerators."
    )
    assert papers["2503.11685"].categories == ("cs.AR", "cs.CV", "eess.IV")
    # no authors_parsed: the authors string is split on commas and "and"
    assert papers["0704.0002"].authors == ("Ileana Streinu", "Louis Theran")
    assert (
        papers["0704.0002"].abstract
        == "We describe a new algorithm, the $(k,\\ell)$-pebble game with colors."
    )


def test_gzip_is_detected_by_content_not_name(tmp_path):
    plain = local_fixture("bulk", "mixed.jsonl").read_bytes()
    disguised = tmp_path / "papers.jsonl"  # gzip data, plain name
    disguised.write_bytes(gzip.compress(plain))
    misnamed = tmp_path / "papers.jsonl.gz"  # plain data, gzip name
    misnamed.write_bytes(plain)

    expected = outcomes(read_papers(local_fixture("bulk", "mixed.jsonl")))

    assert len(expected) == 11
    assert outcomes(read_papers(disguised)) == expected
    assert outcomes(read_papers(misnamed)) == expected


def test_a_truncated_gzip_file_ends_with_one_clear_error(tmp_path):
    lines = [
        json.dumps({"id": f"2506.{n:05d}", "title": f"P {n}", "abstract": "A.", "authors": [f"Author {n}"]})
        for n in range(1, 40_000)
    ]
    packed = gzip.compress("\n".join(lines).encode())
    truncated = tmp_path / "cut.jsonl.gz"
    truncated.write_bytes(packed[: len(packed) * 3 // 4])

    results = list(read_papers(truncated))

    *papers, last = results
    assert isinstance(last, LineError)
    assert last.reason == (
        "the file is cut off or corrupt here"
        " (Compressed file ended before the end-of-stream marker was reached)"
    )
    assert len(papers) > 10_000  # what came before the break is kept
    assert all(isinstance(r, ParsedLine) for r in papers)
    assert last.line == papers[-1].line + 1


def test_listings_tsv():
    path = shared_data("arxiv", "listings.tsv.gz")

    first = list(islice(read_listings_tsv(path), 2))

    assert first == [
        ("2503.11731", Listing(date(2025, 3, 18), None)),
        ("2503.11742", Listing(date(2025, 3, 18), None)),
    ]


def test_listings_tsv_reports_bad_rows_and_reads_a_file_without_header(tmp_path):
    path = tmp_path / "listings.tsv"
    path.write_text(
        "2025-03-18\t2503.11731\n2025-02-30\t2503.11742\n2025-03-19 2503.11743\n\n2025-03-19\t2503.11744v2\n"
    )

    rows = list(read_listings_tsv(path))

    assert rows[0] == ("2503.11731", Listing(date(2025, 3, 18), None))
    assert [str(row) for row in rows[1:3]] == [
        f"{path}, line 2: day is out of range for month",
        f"{path}, line 3: expected 2 tab-separated fields (date, arXiv id), got 1",
    ]
    assert rows[3] == ("2503.11744", Listing(date(2025, 3, 19), None))
    assert len(rows) == 4


@pytest.mark.slow
def test_the_whole_corpus_parses_quickly():
    path = shared_data("arxiv", "papers.jsonl.gz")
    started = time.process_time()

    results = list(read_papers(path))

    elapsed = time.process_time() - started
    assert len(results) == 74_728
    assert not [r for r in results if isinstance(r, LineError)]
    assert elapsed < 10, f"parsing took {elapsed:.1f} s of CPU"
