"""`paperboy import` end to end: real files, real database, the real command."""

from __future__ import annotations

import fcntl
import gzip
import json
import os
import pty
import re
import struct
import subprocess
import sys
import termios
from subprocess import PIPE

import pytest
from conftest import REPO_ROOT, dump_database, shared_path
from sqlalchemy import func, select, text

from paperboy.cli import main
from paperboy.storage.schema import listings, paper_authors, paper_versions, papers


@pytest.fixture(autouse=True)
def small_batches(monkeypatch):
    monkeypatch.setenv("PAPERBOY_IMPORT_BATCH_SIZE", "50")


def _count(engine, table):
    with engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(table)).scalar_one()


def test_kaggle_snapshot_imports_with_versions(cli_env, engine, capsys):
    path = shared_path("fixtures", "kaggle_snapshot", "arxiv-metadata-oai-snapshot.head200.jsonl")
    assert main(["import", str(path)]) == 0
    out = capsys.readouterr().out
    assert "200 papers read: 200 new" in out
    assert "200 papers wait to be embedded for search by meaning" in out
    assert _count(engine, papers) == 200
    with engine.connect() as conn:
        first = conn.execute(select(papers).where(papers.c.arxiv_id == "0704.0001")).one()
        authors = conn.execute(
            select(paper_authors.c.name)
            .where(paper_authors.c.paper_id == first.id)
            .order_by(paper_authors.c.position)
        ).scalars()
        assert list(authors)[:2] == ["C. Balázs", "E. L. Berger"]
        assert first.doi == "10.1103/PhysRevD.76.013009"
        assert first.latest_version == 2
        assert _count(engine, paper_versions) > 200


def test_reimport_changes_nothing(cli_env, engine):
    path = shared_path("fixtures", "kaggle_snapshot", "arxiv-metadata-oai-snapshot.head200.jsonl")
    assert main(["import", str(path)]) == 0
    before = dump_database(engine)
    with engine.connect() as conn:
        stamps = conn.execute(text("SELECT arxiv_id, changed_at FROM papers ORDER BY arxiv_id")).all()
    assert main(["import", str(path)]) == 0
    with engine.connect() as conn:
        assert conn.execute(text("SELECT arxiv_id, changed_at FROM papers ORDER BY arxiv_id")).all() == stamps
    assert dump_database(engine) == before


def _write_lines(path, lines):
    with gzip.open(path, "wt", encoding="utf-8") as out:
        out.writelines(line + "\n" for line in lines)


def _paper(arxiv_id):
    return json.dumps(
        {
            "id": arxiv_id,
            "title": f"T {arxiv_id}",
            "abstract": "A.",
            "authors": ["X Y"],
            "categories": ["cs.LG"],
            "comment": None,
        }
    )


def test_malformed_lines_are_reported_with_line_numbers_and_skipped(cli_env, engine, tmp_path, capsys):
    path = tmp_path / "mixed.jsonl.gz"
    _write_lines(
        path, [_paper("2506.00001"), "{not json", _paper("2506.00002"), json.dumps({"id": "nonsense"})]
    )
    assert main(["import", str(path)]) == 0
    captured = capsys.readouterr()
    assert "line 2" in captured.err
    assert "line 4" in captured.err
    assert "2 malformed lines skipped" in captured.out
    assert _count(engine, papers) == 2


def test_strict_mode_imports_nothing_and_fails(cli_env, engine, tmp_path, capsys):
    path = tmp_path / "mixed.jsonl.gz"
    _write_lines(path, [_paper(f"2506.{i:05d}") for i in range(1, 120)] + ["{not json"])
    assert main(["import", "--strict", str(path)]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1
    assert "line 120" in err[0]
    assert _count(engine, papers) == 0


def test_missing_file_is_one_line_error(cli_env, tmp_path, capsys):
    assert main(["import", str(tmp_path / "nope.jsonl")]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [f"paperboy: error: cannot read {tmp_path / 'nope.jsonl'}: no such file"]


def test_listings_attach_days_and_unknown_ids_are_reported(cli_env, engine, tmp_path, capsys):
    papers_path = tmp_path / "p.jsonl.gz"
    _write_lines(papers_path, [_paper("2506.00001"), _paper("2506.00002")])
    listings_path = tmp_path / "l.tsv.gz"
    with gzip.open(listings_path, "wt") as out:
        out.write("date\tarxiv_id\n2025-06-12\t2506.00001\n2025-06-13\t2506.00001\n2025-06-12\t2506.99999\n")
    assert main(["import", str(papers_path), "--listings", str(listings_path)]) == 0
    assert "1 listed ids not in the catalogue were skipped" in capsys.readouterr().out
    assert _count(engine, listings) == 2


def test_corrupt_gzip_is_reported_not_a_traceback(cli_env, engine, tmp_path, capsys):
    path = tmp_path / "corrupt.jsonl.gz"
    _write_lines(path, [_paper(f"2506.{i:05d}") for i in range(1, 3000)])
    data = bytearray(path.read_bytes())
    data[len(data) // 2 : len(data) // 2 + 8] = b"\xff" * 8
    path.write_bytes(bytes(data))
    assert main(["import", str(path)]) == 0
    err = capsys.readouterr().err
    assert "Traceback" not in err
    assert "cut off or corrupt" in err


def test_line_without_abstract_is_malformed(cli_env, engine, tmp_path, capsys):
    path = tmp_path / "no-abstract.jsonl"
    path.write_text(_paper("2506.00001") + "\n" + json.dumps({"id": "2506.00002", "title": "T"}) + "\n")
    assert main(["import", str(path)]) == 0
    captured = capsys.readouterr()
    assert "line 2: 2506.00002: missing 'abstract'" in captured.err
    assert _count(engine, papers) == 1


def test_hostile_values_are_stored_the_same_on_every_database(cli_env, engine, tmp_path):
    line = {
        "id": "0704.0001",
        "submitter": "X",
        "authors": "A. Author",
        "title": "Nul\u0000title",
        "comments": None,
        "journal-ref": None,
        "doi": None,
        "report-no": None,
        "categories": "hep-ph",
        "license": None,
        "abstract": "Abstract.",
        "update_date": "2008-11-13",
        "versions": [
            {"version": "v1", "created": "Mon, 2 Apr 2007 19:18:42 GMT"},
            {"version": "v40000", "created": "Tue, 24 Jul 2007 20:10:27 GMT"},
        ],
        "authors_parsed": [["Author", "A.", ""]],
    }
    path = tmp_path / "hostile.jsonl"
    path.write_text(json.dumps(line) + "\n")
    assert main(["import", str(path)]) == 0
    with engine.connect() as conn:
        row = conn.execute(select(papers.c.title, papers.c.latest_version)).one()
    assert tuple(row) == ("Nultitle", 1)


def test_unwritable_data_directory_is_one_line(monkeypatch, tmp_path, capsys):
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    monkeypatch.setenv("PAPERBOY_CONFIG", str(tmp_path / "absent.toml"))
    monkeypatch.delenv("PAPERBOY_DATABASE_URL", raising=False)
    monkeypatch.setenv("PAPERBOY_DATA_DIR", str(blocker / "data"))
    assert main(["migrate"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("paperboy: error: ")
    assert err.count("\n") == 1


def test_progress_reaches_the_size_of_the_files(engine, tmp_path):
    from paperboy.services.ingest import import_files

    path = tmp_path / "many.jsonl.gz"
    _write_lines(path, [_paper(f"2506.{i:05d}") for i in range(1, 5001)])
    heard = []
    report = import_files(engine, [path], batch_size=1000, progress=heard.append)
    assert report.written.inserted == 5000
    assert len(heard) > 2  # reported along the way, not only at the end
    assert sum(heard) == path.stat().st_size


def _import_process(*paths) -> subprocess.Popen[str]:
    """`paperboy import` in a process of its own, with this test's environment (cli_env) but the
    product's own batch size, and stdout and stderr pipes, as under systemd or `| tee`."""
    env = {name: value for name, value in os.environ.items() if name != "PAPERBOY_IMPORT_BATCH_SIZE"}
    command = [sys.executable, "-m", "paperboy", "import", *map(str, paths)]
    return subprocess.Popen(command, env=env, cwd=REPO_ROOT, stdout=PIPE, stderr=PIPE, text=True)


def _bulk_file(tmp_path, count):
    """`count` papers in paperboy's corpus format, each the fixture's paper under a new id: plain
    JSON lines, so that the position read advances line by line (a gzip file's by 1 MiB chunks)."""
    template = json.loads((REPO_ROOT / "tests/fixtures/bulk/mixed.jsonl").read_text().splitlines()[0])
    path = tmp_path / "bulk.jsonl"
    with path.open("w", encoding="utf-8") as out:
        for i in range(count):
            out.write(json.dumps({**template, "id": f"2503.{i:05d}", "title": f"{template['title']} {i}"}))
            out.write("\n")
    return path


IMPORT_PROGRESS = re.compile(
    r"importing: ([\d,]+\.\d)/([\d,]+\.\d) MiB \((\d+)%\)(, [\d,.]+ MiB/s)?(, about .+ left|, done in .+ s)?"
)


def test_off_a_terminal_import_prints_progress_lines(cli_env, engine, tmp_path):
    """Under systemd or through a pipe tqdm printed nothing at all: the process's stderr, a pipe
    here, gets lines (how far into the files, rate, time left), about each tenth and at the end."""
    path = _bulk_file(tmp_path, 12_000)  # read 2,000 lines at a time: six steps
    size = f"{path.stat().st_size / (1 << 20):,.1f}"
    run = _import_process(path)
    out, err = run.communicate(timeout=300)
    assert run.returncode == 0, err
    assert "12000 papers read: 12000 new" in out
    lines = err.splitlines()
    matches = [IMPORT_PROGRESS.fullmatch(line) for line in lines]
    assert all(matches), lines
    said = [m for m in matches if m]
    assert 4 <= len(said) <= 12, lines  # about one a tenth, not one a batch
    done = [float(m[1].replace(",", "")) for m in said]
    assert done == sorted(done)
    assert {m[2] for m in said} == {size}
    assert said[-1][1] == size
    assert said[-1][5].startswith(", done in ")
    assert all(m[5].startswith(", about ") for m in said[:-1] if m[4])
    assert _count(engine, papers) == 12_000


def test_on_a_terminal_import_draws_the_bar_and_skipped_lines_stay_readable(cli_env, engine, tmp_path):
    """stderr a pseudo-terminal: tqdm's bar (redrawn with \\r), no progress lines, and a skipped
    line printed above the bar, whole."""
    path = tmp_path / "mixed.jsonl"
    path.write_text("\n".join([_paper("2506.00001"), "{not json", _paper("2506.00002")]) + "\n")
    leader, follower = pty.openpty()
    fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 100, 0, 0))  # tqdm draws 0 columns
    command = [sys.executable, "-m", "paperboy", "import", str(path)]
    run = subprocess.Popen(command, cwd=REPO_ROOT, stdout=PIPE, stderr=follower, text=True)
    os.close(follower)
    err = _read_all(leader).replace("\r\n", "\n")
    out, _ = run.communicate(timeout=60)
    assert run.returncode == 0, err
    assert "2 papers read: 2 new" in out
    assert "\rimporting: 100%" in err  # the bar, as tqdm draws it
    assert not IMPORT_PROGRESS.search(err)
    assert re.search(r"\rskipped [^\r\n]*, line 2: not valid JSON[^\r\n]*\n", err)  # above the bar


def _read_all(fd: int) -> str:
    """Everything written to a pseudo-terminal until its last writer closes it."""
    chunks = []
    while True:
        try:
            chunk = os.read(fd, 4096)
        except OSError:  # EIO: the process has exited
            break
        if not chunk:
            break
        chunks.append(chunk)
    os.close(fd)
    return b"".join(chunks).decode()
