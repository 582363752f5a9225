"""What each step of a search costs per query, in milliseconds: a note beside the quality figures."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
from sqlalchemy import Connection, Engine

from bench.search_quality.rankers import LexicalVariant, lexical_ranking
from paperboy.domain import fusion
from paperboy.domain.search_query import SearchQuery
from paperboy.domain.vectors import nearest
from paperboy.integrations.embedder import Embedder, MiniLMEmbedder
from paperboy.storage import lexical


def query_latency(
    engine: Engine, embedder: Embedder, matrix: np.ndarray, ids: np.ndarray, queries: dict[str, SearchQuery]
) -> dict[str, Any]:
    """Milliseconds per test query of what a search runs: lexical (product, 20 results; any word
    without stop words, 100 deep), embedding the query, nearest (100 deep), fusing the two."""
    any_word = LexicalVariant("", any_word=True, drop_stop_words=True)
    steps: dict[str, Callable[[Connection, SearchQuery, dict[str, Any]], Any]] = {
        "lexical product (20)": lambda conn, query, _: lexical.search_lexical(conn, query, limit=20),
        "lexical any word, no stop (100)": lambda conn, query, _: lexical_ranking(conn, query, any_word, 100),
        "embed query": lambda _, query, __: embedder.embed([query.semantic_text()])[0],
        "nearest (100)": lambda _, __, got: nearest(matrix, ids, got["embed query"], 100),
        "min-max fusion (100+100)": lambda _, __, got: fusion.min_max_fusion(
            [got["lexical any word, no stop (100)"], got["nearest (100)"]], (0.5, 0.5)
        ),
    }
    times: dict[str, list[float]] = {name: [] for name in steps}
    with engine.connect() as conn:
        for query in queries.values():
            got: dict[str, Any] = {}
            for name, step in steps.items():
                start = time.perf_counter()
                got[name] = step(conn, query, got)
                times[name].append(1000 * (time.perf_counter() - start))
    return {name: _spread(ms) for name, ms in times.items()}


def single_thread_embed_latency(queries: dict[str, SearchQuery]) -> dict[str, float]:
    """Embedding each query with torch on one thread. When other processes hold the cores, torch's
    default (a thread per core) waits on its busy peers, and one short query can take tens of
    times longer; this shows what one thread costs instead. Sets torch's process-wide thread
    count to 1, so it runs last."""
    embedder = MiniLMEmbedder(threads=1)
    times = []
    for query in queries.values():
        start = time.perf_counter()
        embedder.embed([query.semantic_text()])
        times.append(1000 * (time.perf_counter() - start))
    return _spread(times)


def _spread(ms: Sequence[float]) -> dict[str, float]:
    # The minimum is the cost without interference from the other work on a shared machine.
    return {"min_ms": min(ms), "p50_ms": statistics.median(ms), "p90_ms": _p90(ms)}


def _p90(values: Sequence[float]) -> float:
    return sorted(values)[int(0.9 * (len(values) - 1))]
