"""The approximate vector index in-process: recall and latency against exact search."""

from __future__ import annotations

import time
from typing import Any

import numpy as np

from bench.search_speed.corpora import Prepared
from bench.search_speed.environment import MODEL, open_engine


def measure_index(prepared: Prepared, queries: list[str], k: int = 10, depth: int = 100) -> dict[str, Any]:
    """`VectorIndex` on the prepared database: exact against approximate, on the query list's
    real MiniLM vectors: recall@k of the approximate top `depth`, and latency."""
    from paperboy.integrations.embedder import MiniLMEmbedder
    from paperboy.services.vector_index import ANN_DIRECTORY, VectorIndex

    vectors = MiniLMEmbedder(threads=1).embed(queries)
    engine = open_engine(prepared.data_dir)
    exact = VectorIndex(engine, MODEL, refresh_seconds=3600)
    approximate = VectorIndex(
        engine, MODEL, refresh_seconds=3600, directory=prepared.data_dir / ANN_DIRECTORY
    )
    results: dict[str, Any] = {}
    answers = {}
    for name, index in (("exact", exact), ("approximate", approximate)):
        started = time.perf_counter()
        results["vectors"] = len(index)  # the first load
        results[f"{name}_load_s"] = time.perf_counter() - started
        index.nearest(vectors[0], depth)
        times, found = [], []
        for vector in vectors:
            started = time.perf_counter()
            found.append(index.nearest(vector, depth)[0])
            times.append(1000 * (time.perf_counter() - started))
        answers[name] = found
        results[f"{name}_p50_ms"] = float(np.percentile(times, 50))
        results[f"{name}_p99_ms"] = float(np.percentile(times, 99))
    results["approximate"] = approximate.approximate
    results.update(_filtered_latency(approximate, vectors, depth))
    pairs = list(zip(answers["exact"], answers["approximate"], strict=True))
    results[f"recall@{k}"] = float(np.mean([len(set(e[:k]) & set(a[:k])) / k for e, a in pairs]))
    results[f"recall@{depth}"] = float(np.mean([len(set(e) & set(a)) / depth for e, a in pairs]))
    engine.dispose()
    print(
        f"  VectorIndex on {results['vectors']:,} vectors, k={depth}: "
        f"exact p50 {results['exact_p50_ms']:.1f} ms, "
        f"approximate p50 {results['approximate_p50_ms']:.2f} ms p99 {results['approximate_p99_ms']:.2f} ms, "
        f"first load exact {results['exact_load_s']:.1f} s, "
        f"approximate {results['approximate_load_s']:.1f} s, "
        f"recall@{k} {results[f'recall@{k}']:.3f}, recall@{depth} {results[f'recall@{depth}']:.3f}",
        flush=True,
    )
    return results


def _filtered_latency(index: Any, vectors: np.ndarray, depth: int) -> dict[str, float]:
    """p50 of `nearest(within=…)` for allowed sets of 1,000 / 20,000 / 100,000 / 300,000 random
    papers (a filter such as an author, a month, a category), as the search service asks."""
    rng = np.random.default_rng(5)
    universe = np.arange(1, len(index) + 1)
    out = {}
    for size in (1_000, 20_000, 100_000, 300_000):
        allowed = set(rng.choice(universe, size=min(size, len(universe)), replace=False).tolist())
        times = []
        for vector in vectors[:40]:
            started = time.perf_counter()
            index.nearest(vector, depth, within=allowed)
            times.append(1000 * (time.perf_counter() - started))
        out[f"within_{size}_p50_ms"] = float(np.percentile(times, 50))
    print("  approximate nearest with within=: " + ", ".join(f"{k} {v:.1f}" for k, v in out.items()))
    return out
