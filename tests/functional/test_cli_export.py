"""`paperboy export` end to end: import, export, import the export into a fresh database, and
find every paper unchanged."""

from __future__ import annotations

import gzip
import json
from datetime import datetime

import pytest
from conftest import make_record, shared_path
from sqlalchemy import select

from paperboy.cli import main
from paperboy.storage.engine import make_engine, utc
from paperboy.storage.migrate import upgrade
from paperboy.storage.schema import (
    listings,
    paper_authors,
    paper_categories,
    paper_links,
    paper_versions,
    papers,
)

CATALOGUE_TABLES = (papers, paper_authors, paper_categories, paper_versions, paper_links, listings)
SKIPPED = ("changed_at", "updated_at", "fetched_at")


@pytest.fixture(autouse=True)
def small_batches(monkeypatch):
    monkeypatch.setenv("PAPERBOY_IMPORT_BATCH_SIZE", "37")  # batches end mid-file


def catalogue_rows(engine) -> dict[str, list[tuple]]:
    """Every row of the catalogue tables, by arXiv id rather than by internal id."""
    with engine.connect() as conn:
        arxiv_ids = dict(conn.execute(select(papers.c.id, papers.c.arxiv_id)).all())
        rows = {}
        for table in CATALOGUE_TABLES:
            columns = [c for c in table.columns if c.name not in SKIPPED and c.name not in ("id", "paper_id")]
            key = table.c.id if table is papers else table.c.paper_id
            found = conn.execute(select(key, *columns)).all()
            rows[table.name] = sorted((arxiv_ids[row[0]], *map(_comparable, row[1:])) for row in found)
    return rows


def _comparable(value: object) -> str:
    """PostgreSQL hands back aware datetimes, SQLite naive ones: both compared as UTC."""
    return utc(value).isoformat() if isinstance(value, datetime) else repr(value)


def write_listings(path, rows):
    path.write_text("date\tarxiv_id\n" + "".join(f"{day}\t{arxiv_id}\n" for day, arxiv_id in rows))


@pytest.fixture
def kaggle_catalogue(cli_env, engine, tmp_path):
    """200 Kaggle papers (versions, DOIs, journal references), a paperboy-format file and listings."""
    snapshot = shared_path("fixtures", "kaggle_snapshot", "arxiv-metadata-oai-snapshot.head200.jsonl")
    corpus = tmp_path / "corpus.jsonl"
    corpus.write_text(
        json.dumps(
            {
                "id": "2506.12229",
                "title": "Braces {and} $\\alpha$ & “quotes”",
                "abstract": "Code at https://github.com/ada/x. A second, very long sentence.",
                "authors": ["Ada Lovelace", "Jean-Paul Sartre Jr.", "Maria de la Cruz"],
                "categories": ["cs.LG", "stat.ML"],
                "comment": "Project: https://ada.example/x",
            }
        )
        + "\n"
    )
    tsv = tmp_path / "listings.tsv"
    write_listings(
        tsv, [("2025-06-12", "2506.12229"), ("2007-04-02", "0704.0001"), ("2007-04-03", "0704.0001")]
    )
    assert main(["import", str(snapshot), str(corpus), "--listings", str(tsv)]) == 0
    return engine


def fresh_engine(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'fresh.sqlite3'}")
    upgrade(engine)
    return engine


def test_export_then_import_gives_back_every_paper(kaggle_catalogue, tmp_path, monkeypatch, capsys):
    exported, exported_listings = tmp_path / "export.jsonl.gz", tmp_path / "export-listings.tsv"
    args = ["export", "--format", "jsonl", "--output", str(exported), "--listings", str(exported_listings)]
    assert main(args) == 0
    assert "201 papers and 3 listings exported" in capsys.readouterr().err
    with gzip.open(exported, "rt") as lines:
        assert sum(1 for _ in lines) == 201
    before = catalogue_rows(kaggle_catalogue)
    assert len(before["paper_versions"]) > 200
    assert len(before["paper_links"]) >= 2

    fresh = fresh_engine(tmp_path)
    monkeypatch.setenv("PAPERBOY_DATABASE_URL", str(fresh.url))
    assert main(["import", str(exported), "--listings", str(exported_listings)]) == 0
    assert catalogue_rows(fresh) == before
    fresh.dispose()


def test_export_writes_to_stdout_by_default(cli_env, add_papers, capsysbinary):
    add_papers(make_record("2506.00001", title='Tab\tand "quote"'), make_record("hep-th/9901001"))
    assert main(["export"]) == 0
    out = capsysbinary.readouterr().out.decode()
    lines = [json.loads(line) for line in out.splitlines()]
    assert [line["id"] for line in lines] == ["2506.00001", "hep-th/9901001"]
    assert lines[0]["title"] == 'Tab\tand "quote"'
    assert lines[0]["versions"] == [{"version": "v1", "created": "Wed, 11 Jun 2025 17:00:00 GMT"}]
    assert lines[0]["authors_parsed"] == [["Ada Lovelace", "", ""], ["Alan Turing", "", ""]]


def test_an_empty_catalogue_exports_nothing(cli_env, capsysbinary):
    assert main(["export"]) == 0
    assert capsysbinary.readouterr().out == b""


def test_bad_export_arguments_are_one_line_errors(cli_env, tmp_path, capsys):
    assert main(["export", "--output", str(tmp_path / "missing" / "x.jsonl")]) == 1
    assert "the folder" in capsys.readouterr().err
    same = str(tmp_path / "x.jsonl")
    assert main(["export", "--output", same, "--listings", same]) == 1
    assert "must be different files" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["export", "--format", "csv"])
