"""bench/reference_vectors.py: the pages and community benchmarks' servers start with every paper
embedded, so they measure a site's steady state, not `serve` embedding the corpus beside the load."""

import gzip
import itertools

import numpy as np
import pytest
from conftest import make_record, shared_key_env, shared_path
from sqlalchemy import select

from bench import reference_vectors
from bench.common import Corpus
from bench.workspace import Target
from paperboy.integrations import embedder
from paperboy.storage.schema import papers
from paperboy.storage.vectors import count_papers_needing_embeddings, load_vectors

LINES = 12


@pytest.fixture
def corpus(tmp_path):
    """The shared corpus's first LINES papers, so that their reference rows are rows 0..LINES-1."""
    source = shared_path("data", "arxiv", "papers.jsonl.gz")
    papers_file = tmp_path / "papers.jsonl.gz"
    with gzip.open(source, "rt") as lines, gzip.open(papers_file, "wt") as out:
        out.writelines(itertools.islice(lines, LINES))
    return Corpus(papers_file, tmp_path / "listings.tsv.gz")


@pytest.fixture
def target(database_url, tmp_path):
    env = {"PAPERBOY_DATA_DIR": str(tmp_path / "data"), "PAPERBOY_DATABASE_URL": database_url}
    env |= shared_key_env(database_url)
    if database_url.startswith("sqlite"):
        return Target("SQLite", env, sqlite_dir=tmp_path)  # conftest's file is tmp_path/paperboy.sqlite3
    return Target("PostgreSQL", env, pg_url=database_url)


def test_reference_row_n_becomes_the_vector_of_line_n(engine, add_papers, corpus, target):
    ids = reference_vectors.corpus_ids(corpus.papers)
    add_papers(*(make_record(arxiv_id) for arxiv_id in ids[1::2]))  # every other paper only
    assert reference_vectors.store_reference_vectors(target.url, ids) == LINES // 2
    reference = np.load(reference_vectors.REFERENCE, mmap_mode="r")
    with engine.connect() as conn:
        row_of = {
            paper_id: ids.index(arxiv_id)
            for arxiv_id, paper_id in conn.execute(select(papers.c.arxiv_id, papers.c.id))
        }
        matrix, paper_ids = load_vectors(conn, reference_vectors.MODEL)
    assert sorted(row_of.values()) == list(range(1, LINES, 2))
    for vector, paper_id in zip(matrix, paper_ids, strict=True):
        expected = np.asarray(reference[row_of[int(paper_id)]], dtype=np.float32)
        np.testing.assert_allclose(vector, expected / np.linalg.norm(expected), atol=2e-3)


@pytest.mark.parametrize("minilm", [True, False], ids=["minilm", "hashing"])
def test_no_paper_is_left_for_the_servers_background_embedding(
    engine, add_papers, corpus, target, monkeypatch, minilm
):
    monkeypatch.setattr(embedder, "minilm_installed", lambda: minilm)
    model = embedder.model_id_for("auto")
    add_papers(*(make_record(arxiv_id) for arxiv_id in reference_vectors.corpus_ids(corpus.papers)))
    with engine.connect() as conn:
        assert count_papers_needing_embeddings(conn, model) == LINES

    first = reference_vectors.embed_beforehand(target, corpus)

    with engine.connect() as conn:
        assert count_papers_needing_embeddings(conn, model) == 0
    how = "reference vectors stored" if minilm else "`paperboy index` run"
    assert first.startswith(f"steady state: every paper had its {model} vector")
    assert how in first
    assert "(already)" in reference_vectors.embed_beforehand(target, corpus)
