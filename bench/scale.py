"""`python -m bench scale`: issue 17's vector search at scale, pgvector in the database against the
per-host index, side by side on one PostgreSQL database that holds both.

- Papers: the corpus's 74,728 with their reference MiniLM vectors (bench/reference_vectors.py),
  or `--scale-papers N` above that: synthetic papers made from the real ones, each a real vector
  plus Gaussian noise (sigma SYNTHETIC_NOISE per dimension, renormalised: cosine ~0.93 to its
  source) and the real title with " (variant k)". Rows are inserted directly (title, id, hash):
  this measures vectors, not `paperboy import` (bench/import_speed.py does).
- Backends, each measured in a child process of its own (so its RSS is its own): `pgvector`
  (PgVectorIndex: the HNSW index in the database, built by `ensure_database_index`), `per-host`
  (VectorIndex over the usearch HNSW file `paperboy index` builds above vector_ann_threshold,
  memory-mapped), and, up to EXACT_UP_TO papers, `exact` (every vector in memory).
- Figures: build time, recall@10 against exact search over the stored (float16) vectors, p50/p99
  of a similar-papers query (`neighbours_of(paper, 10)`) and of a semantic search's vector part
  (`nearest(query, 200)`, the depth search asks; the query's embedding, ~6 ms with MiniLM, is the
  same for every backend and left out), the process's RSS after the queries (peak too; the model
  is not loaded), the database's and the index's sizes.

`--scale-stack` measures the whole stack instead (import, index, two `serve` under wrk):
bench/scale_stack.py.

Needs a PostgreSQL with pgvector: PAPERBOY_BENCH_PGVECTOR_URL (an admin URL; `scripts/pg-test-server
start pgvector` starts one).
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from bench import scale_stack
from bench.common import REPO_ROOT, BenchError, Corpus
from bench.postgres import create_database, drop_database
from bench.reference_vectors import MODEL, REFERENCE

ENV_VAR = "PAPERBOY_BENCH_PGVECTOR_URL"
SYNTHETIC_NOISE = 0.02
QUERY_NOISE = 0.04
EXACT_UP_TO = 200_000
SEMANTIC_DEPTH = 200  # Tuning.semantic_depth
SIMILAR_K = 10  # web/similar.SIMILAR_LIMIT
BATCH = 5000
SEED = 17


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--scale-papers",
        type=int,
        default=0,
        help="scale: papers (0: the corpus; more: synthetic, e.g. 1000000)",
    )
    parser.add_argument("--scale-queries", type=int, default=500, help="scale: queries of each kind")
    parser.add_argument("--scale-keep", action="store_true", help="scale: keep the database after")
    parser.add_argument(
        "--scale-backends",
        default="",
        help="scale: comma-separated, of pgvector, per-host, exact (default: all that fit)",
    )
    scale_stack.add_arguments(parser)


def run(corpus: Corpus, args: argparse.Namespace) -> dict[str, Any]:
    admin = os.environ.get(ENV_VAR, "")
    if not admin:
        raise BenchError(
            f"{ENV_VAR} is unset: a PostgreSQL with pgvector (scripts/pg-test-server start pgvector)"
        )
    titles, arxiv_ids = _corpus_titles(corpus.papers)
    count = args.scale_papers or len(titles)
    if args.scale_stack:
        return scale_stack.run(corpus, args, admin, count)
    name = f"paperboy_scale_{count}"
    url = create_database(admin, name)
    try:
        loaded = _load(url, titles, arxiv_ids, count)
        print(f"scale: {count:,} papers and vectors stored in {loaded['store_s']:.0f} s", flush=True)
        with tempfile.TemporaryDirectory(prefix="paperboy-scale-") as work:
            truth = _truth(url, Path(work), args.scale_queries)
            backends = ["pgvector", "per-host"] + (["exact"] if count <= EXACT_UP_TO else [])
            if args.scale_backends:
                backends = [b for b in args.scale_backends.split(",") if b]
            results = {b: _child(b, url, Path(work), truth) for b in backends}
        sizes = _sizes(url)
    finally:
        if not args.scale_keep:
            drop_database(admin, name)
    _print(count, loaded, results, sizes)
    synthetic = max(0, count - len(titles))
    return {"papers": count, "synthetic": synthetic, "load": loaded, "backends": results, "sizes": sizes}


def _corpus_titles(papers: Path) -> tuple[list[str], list[str]]:
    titles, ids = [], []
    with gzip.open(papers, "rt", encoding="utf-8") as lines:
        for line in lines:
            row = json.loads(line)
            titles.append(row["title"])
            ids.append(row["id"])
    return titles, ids


def _vectors(reference: np.ndarray, start: int, stop: int) -> np.ndarray:
    """Rows start..stop of the (real, then synthetic) vectors: row n is reference row n % N, with
    noise from row N on (a generator seeded by the row's batch, so reruns store the same)."""
    n = len(reference)
    rows = np.asarray(reference[np.arange(start, stop) % n], dtype=np.float32)
    synthetic = np.arange(start, stop) >= n
    if synthetic.any():
        rng = np.random.default_rng([SEED, start])
        rows[synthetic] += rng.normal(0, SYNTHETIC_NOISE, size=(int(synthetic.sum()), rows.shape[1]))
    return rows / np.linalg.norm(rows, axis=1, keepdims=True)


def _load(url: str, titles: list[str], arxiv_ids: list[str], count: int) -> dict[str, float]:
    from sqlalchemy import insert, select

    from paperboy.storage.engine import make_engine, now_utc
    from paperboy.storage.migrate import upgrade
    from paperboy.storage.schema import papers
    from paperboy.storage.transactions import write_transaction
    from paperboy.storage.vectors import store_embeddings

    engine = make_engine(url)
    upgrade(engine)
    reference = np.load(REFERENCE, mmap_mode="r")
    n, now, started = len(titles), now_utc(), time.perf_counter()
    for start in range(0, count, BATCH):
        stop = min(count, start + BATCH)
        rows = [
            {
                "arxiv_id": arxiv_ids[i % n] + ("" if i < n else f"-s{i // n}"),
                "title": titles[i % n] + ("" if i < n else f" (variant {i // n})"),
                "abstract": "",
                "content_hash": "scale",
                "changed_at": now,
                "latest_version": 1,
            }
            for i in range(start, stop)
        ]
        with write_transaction(engine) as conn:
            conn.execute(insert(papers), rows)
    papers_s = time.perf_counter() - started
    with engine.connect() as conn:
        ids = [row[0] for row in conn.execute(select(papers.c.id).order_by(papers.c.id))]
    started = time.perf_counter()
    for start in range(0, count, BATCH):
        stop = min(count, start + BATCH)
        with write_transaction(engine) as conn:
            store_embeddings(
                conn, MODEL, [(pid, 1) for pid in ids[start:stop]], _vectors(reference, start, stop)
            )
    engine.dispose()
    return {"papers_s": papers_s, "store_s": time.perf_counter() - started}


def _truth(url: str, work: Path, queries: int) -> Path:
    """The queries and their exact answers over the stored (float16) vectors, for the children:
    similar papers of random papers, and semantic queries near random papers (noise sigma
    QUERY_NOISE: cosine ~0.8, as a question is to the abstract it asks about)."""
    from paperboy.storage.engine import make_engine
    from paperboy.storage.vectors import load_vectors

    engine = make_engine(url)
    with engine.connect() as conn:
        matrix, ids = load_vectors(conn, MODEL)
    engine.dispose()
    rng = np.random.default_rng(SEED)
    similar = rng.choice(len(ids), size=queries, replace=False)
    near = matrix[rng.choice(len(ids), size=queries, replace=False)]
    near = near + rng.normal(0, QUERY_NOISE, size=near.shape).astype(np.float32)
    near /= np.linalg.norm(near, axis=1, keepdims=True)
    truth_similar = _exact_top(matrix, ids, matrix[similar], exclude=ids[similar])
    truth_semantic = _exact_top(matrix, ids, near, exclude=None)
    path = work / "truth.npz"
    np.savez(
        path,
        similar=ids[similar],
        semantic=near,
        truth_similar=truth_similar,
        truth_semantic=truth_semantic,
    )
    return path


def _exact_top(
    matrix: np.ndarray, ids: np.ndarray, queries: np.ndarray, exclude: np.ndarray | None
) -> np.ndarray:
    """The ids of the 10 rows with the largest dot product with each query, skipping `exclude[i]`."""
    found = np.zeros((len(queries), 10), dtype=np.int64)
    for start in range(0, len(queries), 50):
        scores = queries[start : start + 50] @ matrix.T
        if exclude is not None:
            scores[ids[None, :] == exclude[start : start + 50, None]] = -np.inf
        top = np.argpartition(-scores, 10, axis=1)[:, :10]
        order = np.argsort(-np.take_along_axis(scores, top, axis=1), axis=1)
        found[start : start + 50] = ids[np.take_along_axis(top, order, axis=1)]
    return found


def _child(backend: str, url: str, work: Path, truth: Path) -> dict[str, Any]:
    out = work / f"{backend}.json"
    command = [sys.executable, "-m", "bench.scale_child", backend, url, str(work), str(truth), str(out)]
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    done = subprocess.run(command, cwd=REPO_ROOT, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise BenchError(f"scale {backend}: {done.stderr[-2000:]}")
    result: dict[str, Any] = json.loads(out.read_text())
    print(f"scale: {backend} measured ({result['build_s']:.0f} s to build)", flush=True)
    return result


def _sizes(url: str) -> dict[str, float]:
    from sqlalchemy import text

    from paperboy.storage.engine import make_engine
    from paperboy.storage.pgvector import index_name

    mib = 1024 * 1024
    engine = make_engine(url)
    with engine.connect() as conn:
        one = lambda sql: float(conn.execute(text(sql)).scalar_one() or 0) / mib  # noqa: E731
        sizes = {
            "database_mib": one("SELECT pg_database_size(current_database())"),
            "embeddings_table_mib": one("SELECT pg_total_relation_size('paper_embeddings')"),
            "hnsw_index_mib": one(f"SELECT pg_relation_size('{index_name(MODEL)}')"),
            "bytea_column_mib": one("SELECT sum(pg_column_size(vector)) FROM paper_embeddings"),
            "halfvec_column_mib": one("SELECT sum(pg_column_size(embedding)) FROM paper_embeddings"),
        }
    engine.dispose()
    return sizes


def _print(count: int, loaded: dict[str, float], results: dict[str, Any], sizes: dict[str, float]) -> None:
    print(f"\n### Vector search at {count:,} papers (pgvector in the database vs the per-host index)\n")
    names = list(results)
    print("| | " + " | ".join(names) + " |")
    print("|---|" + "---:|" * len(names))
    rows = [
        ("build (s)", "build_s", "{:.1f}"),
        ("first query after start (s)", "open_s", "{:.2f}"),
        ("recall@10, similar papers", "recall_similar", "{:.4f}"),
        ("recall@10, semantic (first 10 of 200)", "recall_semantic", "{:.4f}"),
        ("similar papers p50 (ms)", "similar_p50_ms", "{:.2f}"),
        ("similar papers p99 (ms)", "similar_p99_ms", "{:.2f}"),
        ("semantic search, vector part p50 (ms)", "semantic_p50_ms", "{:.2f}"),
        ("semantic search, vector part p99 (ms)", "semantic_p99_ms", "{:.2f}"),
        ("process RSS after queries (MiB)", "rss_mib", "{:.0f}"),
        ("process peak RSS (MiB)", "peak_rss_mib", "{:.0f}"),
        ("index on the host's disk (MiB)", "disk_mib", "{:.0f}"),
    ]
    for label, key, fmt in rows:
        print(f"| {label} | " + " | ".join(fmt.format(results[n][key]) for n in names) + " |")
    print(
        f"\npapers inserted in {loaded['papers_s']:.0f} s, "
        f"vectors stored (both columns) in {loaded['store_s']:.0f} s"
    )
    print("database: " + ", ".join(f"{k} {v:.0f}" for k, v in sizes.items()))
