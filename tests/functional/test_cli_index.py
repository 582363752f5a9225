"""`paperboy index`: builds the lexical index and the embeddings, resumes after an interruption,
--rebuild, --no-embeddings."""

from __future__ import annotations

import pytest
from conftest import make_record

import paperboy.integrations.embedder as embedder_module
import paperboy.services.search_index as search_index
from paperboy.cli import main
from paperboy.domain.search_query import parse_search_query
from paperboy.integrations.embedder import EmbedderUnavailable, minilm_installed
from paperboy.storage.lexical import search_lexical
from paperboy.storage.lexical_index import clear_index, indexed_count
from paperboy.storage.transactions import write_transaction
from paperboy.storage.vectors import count_embeddings


@pytest.fixture(autouse=True)
def hashing(monkeypatch):
    """The hashing embedder, fast and deterministic, whether or not the search extra is here."""
    monkeypatch.setenv("PAPERBOY_EMBEDDER", "hashing")
    monkeypatch.setenv("PAPERBOY_EMBED_BATCH_SIZE", "4")


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


def test_an_interrupted_build_resumes_where_it_stopped(cli_env, engine, unindexed, monkeypatch, capsys):
    real = search_index.index_papers
    calls = []

    def fail_after_first_batch(conn, ids):
        calls.append(list(ids))
        if len(calls) > 1:
            raise KeyboardInterrupt
        real(conn, ids)

    monkeypatch.setattr(search_index, "index_papers", fail_after_first_batch)
    assert main(["index", "--batch-size", "4"]) == 130
    assert "re-run to finish" in capsys.readouterr().err
    assert _in_index(engine) == 4  # the first batch was committed, the second rolled back

    monkeypatch.setattr(search_index, "index_papers", real)
    assert main(["index", "--batch-size", "4"]) == 0
    out = capsys.readouterr().out
    assert "6 papers indexed, resuming after paper id" in out
    assert _in_index(engine) == 10


def test_a_finished_build_has_nothing_left_and_rebuild_starts_over(cli_env, engine, unindexed, capsys):
    assert main(["index"]) == 0
    assert main(["index"]) == 0
    assert "0 papers indexed" in capsys.readouterr().out.splitlines()[-3]
    assert main(["index", "--rebuild", "--batch-size", "3"]) == 0
    assert "10 papers indexed; 10 in the index" in capsys.readouterr().out
    assert len(_found(engine, "topic3")) == 1


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
    assert out[1].startswith("embeddings (hashing-v1): 10 papers embedded in ")
    assert out[1].endswith("; 10 stored")
    assert out[2] == "vector index: 10 vectors of hashing-v1, searched exactly (below 20000)"
    assert _embedded(engine) == 10

    assert main(["index"]) == 0
    assert "0 papers embedded" in capsys.readouterr().out.splitlines()[-2]
    assert main(["index", "--rebuild"]) == 0
    assert "10 papers embedded" in capsys.readouterr().out.splitlines()[-2]
    assert _embedded(engine) == 10


def test_no_embeddings_builds_only_the_lexical_index(cli_env, engine, unindexed, capsys):
    assert main(["index", "--no-embeddings"]) == 0
    out = capsys.readouterr().out
    assert "10 papers indexed" in out
    assert "embeddings" not in out
    assert _embedded(engine) == 0


def test_rebuild_with_no_embeddings_keeps_the_vectors(cli_env, engine, unindexed, capsys):
    assert main(["index"]) == 0
    assert main(["index", "--rebuild", "--no-embeddings"]) == 0
    assert _embedded(engine) == 10


@pytest.mark.skipif(minilm_installed(), reason="the search extra is installed here")
def test_minilm_without_the_search_extra_is_one_line(cli_env, engine, unindexed, monkeypatch, capsys):
    monkeypatch.setenv("PAPERBOY_EMBEDDER", "minilm")
    assert main(["index"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("paperboy: error: the MiniLM embedder needs the search extra")
    assert err.count("\n") == 1
    assert _in_index(engine) == 0  # refused before any work


def test_an_unavailable_embedder_is_one_line(cli_env, engine, unindexed, monkeypatch, capsys):
    """The same path with the extra installed or not: make_embedder raising EmbedderUnavailable."""

    def unavailable(name, **kwargs):
        raise EmbedderUnavailable(
            "the MiniLM embedder needs the search extra (pip install 'paperboy[search]')"
        )

    monkeypatch.setattr(embedder_module, "make_embedder", unavailable)
    monkeypatch.setenv("PAPERBOY_EMBEDDER", "minilm")
    assert main(["index"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("paperboy: error: the MiniLM embedder needs the search extra")
    assert err.count("\n") == 1
    assert _in_index(engine) == 0


def test_index_builds_the_approximate_vector_index_above_the_threshold(
    cli_env, engine, unindexed, capsys, monkeypatch, tmp_path
):
    monkeypatch.setenv("PAPERBOY_VECTOR_ANN_THRESHOLD", "5")
    assert main(["index"]) == 0
    last = capsys.readouterr().out.splitlines()[-1]
    assert last.startswith("vector index: approximate index of 10 hashing-v1 vectors built in ")
    assert any((tmp_path / "data" / "vectors").iterdir())
    monkeypatch.setenv("PAPERBOY_VECTOR_ANN_THRESHOLD", "50")
    assert main(["index"]) == 0
    assert capsys.readouterr().out.splitlines()[-1] == (
        "vector index: 10 vectors of hashing-v1, searched exactly (below 50)"
    )
