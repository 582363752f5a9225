"""`paperboy index`: builds the lexical index and the embeddings, resumes after a real process is
interrupted (Ctrl-C) or killed, --rebuild, --no-embeddings, and says in one line when the search
extra is missing or broken (hidden for real from a process of its own)."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path
from subprocess import PIPE

import pytest
from conftest import REPO_ROOT, make_record
from sqlalchemy import select

from paperboy.cli import main
from paperboy.domain.search_query import parse_search_query
from paperboy.storage.lexical import search_lexical
from paperboy.storage.lexical_index import clear_index, indexed_count, lexical_generation, remove_papers
from paperboy.storage.schema import papers
from paperboy.storage.transactions import write_transaction
from paperboy.storage.vectors import count_embeddings


@pytest.fixture(autouse=True)
def hashing(monkeypatch):
    """The hashing embedder, fast and deterministic, whether or not the search extra is here."""
    monkeypatch.setenv("PAPERBOY_EMBEDDER", "hashing")
    monkeypatch.setenv("PAPERBOY_EMBED_BATCH_SIZE", "4")


MANY = 1500


@pytest.fixture
def many_unindexed(add_papers, engine):
    """MANY papers and an empty index: a build one paper per transaction takes seconds."""
    add_papers(*(make_record(f"2501.{i:05d}", title=f"Paper about topic{i}") for i in range(MANY)))
    with write_transaction(engine) as conn:
        clear_index(conn)


@pytest.fixture
def unindexed(add_papers, engine):
    """Ten papers, then an empty index: as a database from before the index existed."""
    add_papers(*(make_record(f"2501.{i:05d}", title=f"Paper about topic{i}") for i in range(10)))
    with write_transaction(engine) as conn:
        clear_index(conn)


def _in_index(engine):
    with engine.connect() as conn:
        return indexed_count(conn)


def _found(engine, text):
    with engine.connect() as conn:
        return search_lexical(conn, parse_search_query(text))[0]


def test_index_builds_the_whole_index(cli_env, engine, unindexed, capsys):
    assert main(["index"]) == 0
    assert "10 papers indexed; 10 in the index" in capsys.readouterr().out
    assert _in_index(engine) == 10
    assert len(_found(engine, "topic7")) == 1


def _index_process(*args: str, pythonpath: Path | None = None) -> subprocess.Popen[str]:
    """`paperboy index` in a process of its own, with this test's environment (cli_env);
    `pythonpath` goes first on the import path (a sitecustomize.py hiding packages)."""
    env = dict(os.environ)
    if pythonpath is not None:
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(pythonpath), env.get("PYTHONPATH")]))
    command = [sys.executable, "-m", "paperboy", "index", *args]
    return subprocess.Popen(
        command, env=env, cwd=REPO_ROOT, stdout=PIPE, stderr=PIPE, text=True, preexec_fn=_as_from_a_shell
    )


def _as_from_a_shell() -> None:
    """In the child before exec: Ctrl-C's signal neither ignored nor blocked, as a shell starts a
    command. A test process that has run many others (pytest-xdist's worker) can pass on either
    (the signal landed and the build went on to the end, in two full runs, never alone)."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT, signal.SIGTERM})


def _interrupt_mid_build(engine, signal_number: int) -> tuple[int, str, int]:
    """A build of MANY papers one per transaction, signalled once some are in the index: its
    exit status, its stderr and how many papers the index holds after it."""
    build = _index_process("--batch-size", "1", "--no-embeddings")
    deadline = time.monotonic() + 120
    while _in_index(engine) < 20 and build.poll() is None and time.monotonic() < deadline:
        time.sleep(0.02)
    build.send_signal(signal_number)
    _, err = build.communicate(timeout=60)
    interrupted_at = _in_index(engine)
    assert 20 <= interrupted_at < MANY, f"the signal must land mid-build: {err[-500:]}"
    return build.returncode, err, interrupted_at


@pytest.mark.parametrize("signal_number", [signal.SIGINT, signal.SIGKILL], ids=["ctrl-c", "kill"])
def test_an_interrupted_build_resumes_where_it_stopped(cli_env, engine, many_unindexed, signal_number):
    status, err, interrupted_at = _interrupt_mid_build(engine, signal_number)
    *progress, last = err.splitlines() or [""]
    assert all(line.startswith("indexing: ") for line in progress)  # stderr is a pipe: lines
    if signal_number == signal.SIGINT:
        assert status == 130, err[-1500:]
        assert last == "paperboy: interrupted; completed batches are saved, re-run to finish"
    else:
        assert status == -signal.SIGKILL
    assert len(_found(engine, "topic0")) == 1  # what was committed is searchable

    rerun = _index_process("--no-embeddings", "--batch-size", "100")
    out, err = rerun.communicate(timeout=120)
    assert rerun.returncode == 0, err
    assert f"{MANY - interrupted_at} papers indexed ({interrupted_at} were indexed already)" in out
    assert f"{MANY} in the index" in out
    assert _in_index(engine) == MANY
    assert len(_found(engine, f"topic{MANY - 1}")) == 1


PROGRESS = re.compile(
    r"(indexing|embedding|neighbours): ([\d,]+)/([\d,]+) papers \((\d+)%\)(, [\d,.]+ papers/s)?"
    r"(, about .+ left|, done in .+ s)?"
)


def test_off_a_terminal_index_prints_progress_lines(cli_env, engine, many_unindexed):
    """Under systemd or through a pipe no bar can be drawn (tqdm printed nothing at all there):
    the process's stderr, a pipe here, gets lines, each tenth of the work and at the end."""
    build = _index_process("--batch-size", "100")
    out, err = build.communicate(timeout=300)
    assert build.returncode == 0, err
    assert f"{MANY} in the index" in out
    lines = err.splitlines()
    matches = [PROGRESS.fullmatch(line) for line in lines]
    assert all(matches), lines
    for stage in ("indexing", "embedding"):  # neighbours: a line a batch of 1,000
        said = [m for m in matches if m and m[1] == stage]
        done = [int(m[2].replace(",", "")) for m in said]
        assert 5 <= len(said) <= 12, lines  # about one a tenth, not one a batch
        assert done == sorted(done)
        assert {m[3] for m in said} == {f"{MANY:,}"}
        assert said[-1][2] == f"{MANY:,}"
        assert said[-1][6].startswith(", done in ")
        assert all(m[6].startswith(", about ") for m in said[:-1] if m[5])


def test_a_finished_build_has_nothing_left_and_rebuild_starts_over(cli_env, engine, unindexed, capsys):
    assert main(["index"]) == 0
    assert main(["index"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert "0 papers indexed" in next(line for line in reversed(lines) if line.startswith("lexical index:"))
    assert main(["index", "--rebuild", "--batch-size", "3"]) == 0
    assert "10 papers indexed; 10 in the index" in capsys.readouterr().out
    assert len(_found(engine, "topic3")) == 1


def test_papers_written_since_the_index_existed_are_not_indexed_again(cli_env, engine, add_papers, capsys):
    """An import indexes as it writes: the build after it has nothing to do, and leaves the
    lexical generation alone (a bump would make the keyword index read every paper again)."""
    add_papers(*(make_record(f"2501.{i:05d}", title=f"Paper about topic{i}") for i in range(10)))
    with engine.connect() as conn:
        generation = lexical_generation(conn)
    assert main(["index", "--no-embeddings"]) == 0
    assert (
        "lexical index: 0 papers indexed (10 were indexed already); 10 in the index"
        in capsys.readouterr().out
    )
    with engine.connect() as conn:
        assert lexical_generation(conn) == generation


def test_a_paper_missing_from_the_index_is_indexed(cli_env, engine, add_papers, capsys):
    add_papers(*(make_record(f"2501.{i:05d}", title=f"Paper about topic{i}") for i in range(10)))
    with write_transaction(engine) as conn:
        missing = conn.execute(select(papers.c.id).where(papers.c.arxiv_id == "2501.00004")).scalar_one()
        remove_papers(conn, [missing])
    assert _found(engine, "topic4") == []
    assert main(["index", "--no-embeddings"]) == 0
    assert (
        "lexical index: 1 papers indexed (9 were indexed already); 10 in the index" in capsys.readouterr().out
    )
    assert len(_found(engine, "topic4")) == 1


def test_a_bad_batch_size_is_one_line(cli_env, capsys):
    assert main(["index", "--batch-size", "0"]) == 1
    assert capsys.readouterr().err == "paperboy: error: --batch-size must be at least 1\n"


def _embedded(engine):
    with engine.connect() as conn:
        return count_embeddings(conn, "hashing-v1")


def test_index_embeds_the_papers_after_the_lexical_index(cli_env, engine, unindexed, capsys):
    assert main(["index"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert "10 papers indexed; 10 in the index" in out[0]
    assert out[1].startswith("keyword index: 10 papers in ")
    assert out[1].endswith("/keywords")
    assert out[2].startswith("embeddings (hashing-v1): 10 papers embedded in ")
    assert out[2].endswith("; 10 stored")
    assert out[3] == "vector index: 10 vectors of hashing-v1, searched exactly (below 20000)"
    assert out[4].startswith("neighbours (hashing-v1): 10 papers' nearest stored in ")
    assert _embedded(engine) == 10

    assert main(["index"]) == 0
    again = capsys.readouterr().out.splitlines()
    assert "0 papers embedded" in again[-3]
    assert again[-1].startswith("neighbours (hashing-v1): 0 papers' nearest")  # all current
    assert main(["index", "--rebuild"]) == 0
    assert "10 papers embedded" in capsys.readouterr().out.splitlines()[-3]
    assert _embedded(engine) == 10


def test_no_embeddings_builds_only_the_lexical_index(cli_env, engine, unindexed, capsys):
    assert main(["index", "--no-embeddings"]) == 0
    out = capsys.readouterr().out
    assert "10 papers indexed" in out
    assert "keyword index: 10 papers in " in out
    assert not any(line.startswith(("embeddings", "vector index")) for line in out.splitlines())
    assert _embedded(engine) == 0


def test_rebuild_with_no_embeddings_keeps_the_vectors(cli_env, engine, unindexed, capsys):
    assert main(["index"]) == 0
    assert main(["index", "--rebuild", "--no-embeddings"]) == 0
    assert _embedded(engine) == 10


HIDE_THE_EXTRA = """
import sys
sys.modules["torch"] = None  # as if not installed: `import torch` fails, find_spec says absent
"""
BREAK_THE_EXTRA = """
raise ImportError("cannot import name 'AutoModel' from 'transformers'")
"""


def test_minilm_without_the_search_extra_is_one_line(cli_env, engine, unindexed, monkeypatch, tmp_path):
    (tmp_path / "shim").mkdir()
    (tmp_path / "shim" / "sitecustomize.py").write_text(HIDE_THE_EXTRA)
    monkeypatch.setenv("PAPERBOY_EMBEDDER", "minilm")
    build = _index_process(pythonpath=tmp_path / "shim")
    _, err = build.communicate(timeout=120)
    assert build.returncode == 1
    assert err.startswith(
        "paperboy: error: the MiniLM embedder needs the search extra (pip install 'paperboy[search]'): "
    )
    assert err.endswith(' (or run with --no-embeddings, or set embedder = "hashing")\n')
    assert err.count("\n") == 1
    assert _in_index(engine) == 0  # refused before any work


def test_a_broken_search_extra_says_so_in_one_line(cli_env, engine, unindexed, monkeypatch, tmp_path):
    """The extra installed but failing to import is not "install the extra"."""
    (tmp_path / "shim" / "transformers").mkdir(parents=True)
    (tmp_path / "shim" / "transformers" / "__init__.py").write_text(BREAK_THE_EXTRA)
    monkeypatch.setenv("PAPERBOY_EMBEDDER", "minilm")
    build = _index_process(pythonpath=tmp_path / "shim")
    _, err = build.communicate(timeout=120)
    assert build.returncode == 1
    assert err == (
        "paperboy: error: the search extra is installed but the MiniLM embedder failed to import: "
        "cannot import name 'AutoModel' from 'transformers' "
        '(or run with --no-embeddings, or set embedder = "hashing")\n'
    )
    assert _in_index(engine) == 0


def test_index_builds_the_approximate_vector_index_above_the_threshold(
    cli_env, engine, unindexed, capsys, monkeypatch, tmp_path
):
    monkeypatch.setenv("PAPERBOY_VECTOR_ANN_THRESHOLD", "5")
    assert main(["index"]) == 0
    last = capsys.readouterr().out.splitlines()[-2]
    assert last.startswith("vector index: approximate index of 10 hashing-v1 vectors built in ")
    assert any((tmp_path / "data" / "vectors").iterdir())
    monkeypatch.setenv("PAPERBOY_VECTOR_ANN_THRESHOLD", "50")
    assert main(["index"]) == 0
    assert capsys.readouterr().out.splitlines()[-2] == (
        "vector index: 10 vectors of hashing-v1, searched exactly (below 50)"
    )
