"""Every paper embedded before a server is measured, so that a benchmark sees the steady state of a
running site and not `serve` embedding the whole corpus in the background beside the load.

With the default embedder (MiniLM when the search extra is installed) the shared corpus's reference
embeddings (../shared/data/arxiv/minilm-l6-v2.f16.npy, row n = line n of papers.jsonl.gz) are stored
as the papers' vectors: what `paperboy index` computes in about 40 minutes on 2 cores, in seconds.
The product's own embeddings agree with them (cosine ≥ 0.99: bench/known_item.py and
bench/search_speed check it on a sample). With the hashing embedder, `paperboy index` embeds them.
"""

from __future__ import annotations

import gzip
import json
import subprocess
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from bench.common import ARXIV_DIR, BenchError, Corpus, child_env, paperboy_command, tail
from bench.workspace import Target

REFERENCE = ARXIV_DIR / "minilm-l6-v2.f16.npy"
MODEL = "all-MiniLM-L6-v2"  # the model the reference rows were computed with
BATCH = 2000


def corpus_ids(papers: Path) -> list[str]:
    """The arXiv id of each line of a papers file: id n goes with reference row n."""
    with gzip.open(papers, "rt", encoding="utf-8") as lines:
        return [json.loads(line)["id"] for line in lines]


def store_reference_vectors(url: str, arxiv_ids: Sequence[str]) -> int:
    """Store reference row n as the MiniLM vector of paper `arxiv_ids[n]`, for the papers the
    database at `url` holds (at their latest version); returns how many were stored."""
    from sqlalchemy import func, select

    from paperboy.storage.engine import make_engine
    from paperboy.storage.schema import papers
    from paperboy.storage.transactions import write_transaction
    from paperboy.storage.vectors import store_embeddings

    reference = np.load(REFERENCE, mmap_mode="r")
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            version = func.coalesce(papers.c.latest_version, 0)
            known = {
                row[0]: (row[1], row[2])
                for row in conn.execute(select(papers.c.arxiv_id, papers.c.id, version))
            }
        pairs = [(known[arxiv_id], n) for n, arxiv_id in enumerate(arxiv_ids) if arxiv_id in known]
        for start in range(0, len(pairs), BATCH):
            chunk = pairs[start : start + BATCH]
            rows = np.asarray(reference[[n for _, n in chunk]])
            with write_transaction(engine) as conn:
                store_embeddings(conn, MODEL, [paper for paper, _ in chunk], rows)
    finally:
        engine.dispose()
    return len(pairs)


def embed_beforehand(target: Target, corpus: Corpus) -> str:
    """Every paper of `target` embedded by the model a server with the default settings uses, before
    the server starts; the line to print, saying so. A BenchError when any paper is left."""
    from paperboy.integrations.embedder import model_id_for

    model = model_id_for("auto")
    missing = _papers_to_embed(target, model)
    if not missing:
        how = "already"
    elif model == MODEL:
        stored = store_reference_vectors(target.url, corpus_ids(corpus.papers))
        how = f"{stored:,} reference vectors stored"
    else:
        _index(target)
        how = "`paperboy index` run"
    left = _papers_to_embed(target, model)
    if left:
        raise BenchError(
            f"{left:,} papers still lack {model} vectors: the server would embed them while measured"
        )
    return (
        f"steady state: every paper had its {model} vector before the server started ({how}); "
        "serve's background embedding had nothing to do during the measurements"
    )


def _papers_to_embed(target: Target, model: str) -> int:
    from paperboy.storage.engine import make_engine
    from paperboy.storage.vectors import count_papers_needing_embeddings

    engine = make_engine(target.url)
    try:
        with engine.connect() as conn:
            return count_papers_needing_embeddings(conn, model)
    finally:
        engine.dispose()


def _index(target: Target) -> None:
    done = subprocess.run(
        paperboy_command("index"),
        env=child_env(**target.env, PAPERBOY_EMBEDDER="hashing"),
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise BenchError(f"paperboy index exited {done.returncode}: {tail(done.stderr or done.stdout)}")
