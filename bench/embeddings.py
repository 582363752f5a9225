"""`python -m bench.embeddings`: the MiniLM embedder against the reference embeddings in
../shared/data/arxiv/minilm-l6-v2.f16.npy (agreement, cosine per paper), its throughput per batch
size, one short query's latency, and exact nearest-neighbour search over the whole reference matrix.

Needs the search extra (pip install -e '.[search]'). Prints a table; not part of the test run.
"""

from __future__ import annotations

import argparse
import gzip
import json
import statistics
import time
from pathlib import Path

import numpy as np

from paperboy.domain.vectors import nearest
from paperboy.integrations.embedder import MiniLMEmbedder, paper_text

ARXIV = Path(__file__).resolve().parents[2] / "shared" / "data" / "arxiv"


def first_papers(n: int) -> list[str]:
    texts = []
    with gzip.open(ARXIV / "papers.jsonl.gz", "rt", encoding="utf-8") as lines:
        for line in lines:
            paper = json.loads(line)
            texts.append(paper_text(paper["title"], paper["abstract"]))
            if len(texts) == n:
                break
    return texts


def agreement(embedder: MiniLMEmbedder, texts: list[str], reference: np.ndarray) -> dict[str, float]:
    ours = embedder.embed(texts)
    ref = reference[: len(texts)].astype(np.float32)
    cosines = np.sum(ours * ref, axis=1) / np.linalg.norm(ref, axis=1)
    return {"min": float(cosines.min()), "median": float(np.median(cosines)), "n": len(texts)}


def throughput(embedder: MiniLMEmbedder, texts: list[str], batch_size: int) -> float:
    embedder.batch_size = batch_size
    start = time.perf_counter()
    embedder.embed(texts)
    return len(texts) / (time.perf_counter() - start)


def query_latency_ms(embedder: MiniLMEmbedder, query: str, repeats: int = 50) -> float:
    embedder.embed([query])
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        embedder.embed([query])
        times.append(time.perf_counter() - start)
    return 1000 * statistics.median(times)


def exact_search_ms(reference: np.ndarray, k: int = 100, repeats: int = 20) -> dict[str, float]:
    matrix = reference.astype(np.float32)
    ids = np.arange(len(matrix), dtype=np.int64)
    times = []
    for row in range(repeats):
        start = time.perf_counter()
        nearest(matrix, ids, matrix[row * 997], k, exclude={row * 997})
        times.append(time.perf_counter() - start)
    return {"p50": 1000 * statistics.median(times), "max": 1000 * max(times), "rows": len(matrix)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--papers", type=int, default=200)
    parser.add_argument("--threads", type=int, default=None)
    args = parser.parse_args()
    reference = np.load(ARXIV / "minilm-l6-v2.f16.npy", mmap_mode="r")
    start = time.perf_counter()
    embedder = MiniLMEmbedder(threads=args.threads)
    print(f"load: {time.perf_counter() - start:.2f} s")
    texts = first_papers(args.papers)
    print("agreement (cosine with the reference rows):", agreement(embedder, texts, reference))
    for batch_size in (16, 32, 64):
        print(f"batch {batch_size}: {throughput(embedder, texts, batch_size):.1f} abstracts/s")
    query = "graph neural networks for molecules"
    print(f"query {query!r}: {query_latency_ms(embedder, query):.2f} ms p50")
    print("exact search k=100 (ms):", exact_search_ms(np.asarray(reference)))


if __name__ == "__main__":
    main()
