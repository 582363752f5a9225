"""The 200 realistic queries: FIXED_QUERIES, then 2-5 consecutive content words of sampled real titles."""

from __future__ import annotations

import random
import re
from pathlib import Path

from bench.search_speed.environment import read_records

QUERY_COUNT = 200
FIXED_QUERIES = (
    "diffusion", "graph neural network", "large language models", "reinforcement learning",
    "protein structure prediction", "vision transformer", "federated learning", "speech recognition",
    "retrieval augmented generation", "mixture of experts", "quantum error correction", "point cloud",
    "knowledge distillation", "contrastive learning", "neural radiance fields", "multi-agent systems",
    "time series forecasting", "object detection", "text-to-image", "code generation",
    "medical image segmentation", "autonomous driving", "in-context learning", "hallucination",
    "robot manipulation", "sparse attention", "low-rank adaptation", "chain of thought",
    "adversarial robustness", "causal inference",
)  # fmt: skip
_STOPWORDS = """a an and are as at be by for from in into is its of on or our the their this to
towards toward via with without using based through under over new vs versus can do does we"""
STOPWORDS = frozenset(_STOPWORDS.split())


def search_queries(papers: Path, count: int = QUERY_COUNT, seed: int = 20260704) -> list[str]:
    """`count` queries: FIXED_QUERIES, then 2-5 consecutive content words of sampled real titles."""
    titles = [record["title"] for record in read_records(papers)]
    rng = random.Random(seed)
    queries = list(dict.fromkeys(FIXED_QUERIES))
    for title in rng.sample(titles, len(titles)):
        if len(queries) >= count:
            break
        words = [w for w in _content_words(title) if w.lower() not in STOPWORDS and len(w) > 2]
        if len(words) < 2:
            continue
        size = rng.randint(2, min(5, len(words)))
        start = rng.randint(0, len(words) - size)
        query = " ".join(words[start : start + size]).lower()
        if query not in queries:
            queries.append(query)
    return queries[:count]


def _content_words(title: str) -> list[str]:
    """The title's plain words: letters, digits and inner hyphens (`3D-aware`), no apostrophes."""
    stripped = (token.strip(".,:;!?()[]{}\"'") for token in title.split())
    return [w for w in stripped if _PLAIN_WORD.fullmatch(w) and re.search("[A-Za-z]", w)]


_PLAIN_WORD = re.compile(r"[A-Za-z0-9]+(?:-[A-Za-z0-9]+)*")
