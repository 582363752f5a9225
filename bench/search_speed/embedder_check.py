"""The product's MiniLM embedder against the reference embeddings, and its throughput."""

from __future__ import annotations

import random
import statistics
import time
from typing import Any

import numpy as np

from bench.common import BenchError, Corpus
from bench.search_speed.environment import REFERENCE, read_records


def check_embedder(
    corpus: Corpus, sample: int = 50, throughput_texts: int = 500, runs: int = 3
) -> dict[str, Any]:
    """The product's MiniLM embeddings of `sample` papers against the reference rows, and its speed."""
    from paperboy.integrations.embedder import MiniLMEmbedder, paper_text

    reference = np.load(corpus.papers.parent / REFERENCE, mmap_mode="r")
    rows = sorted(random.Random(7).sample(range(len(reference)), sample))
    wanted, texts, first = set(rows), {}, []
    for i, record in enumerate(read_records(corpus.papers)):
        text = paper_text(record["title"], record["abstract"])
        if i in wanted:
            texts[i] = text
        if len(first) < throughput_texts:
            first.append(text)
    embedder = MiniLMEmbedder()
    ours = embedder.embed([texts[i] for i in rows])
    ref = np.asarray(reference[rows], dtype=np.float32)
    cosines = np.sum(ours * ref, axis=1) / np.linalg.norm(ref, axis=1)
    print(
        f"  reference check: the product's MiniLM vs {REFERENCE} on {sample} sampled papers: "
        f"cosine min {cosines.min():.4f}, median {np.median(cosines):.4f} (needed ≥ 0.99)",
        flush=True,
    )
    if cosines.min() < 0.99:
        raise BenchError(
            f"the reference embeddings disagree with the product's (min cosine {cosines.min():.3f})"
        )
    speeds: list[float] = []
    for _ in range(runs):
        start = time.perf_counter()
        embedder.embed(first)
        speeds.append(len(first) / (time.perf_counter() - start))
    if speeds:
        print(
            f"  embedding: {statistics.median(speeds):.1f} abstracts/s "
            f"(median of {runs} runs of {len(first)} abstracts)"
        )
    return {
        "agreement_min": float(cosines.min()),
        "agreement_median": float(np.median(cosines)),
        "abstracts_per_s": statistics.median(speeds) if speeds else None,
        "abstracts_per_s_runs": speeds,
    }
