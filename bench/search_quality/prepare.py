"""Everything measured before tuning: the catalogue written and embedded, every claim ranked by each
lexical variant (the keyword index and FTS5's), by meaning and by the product's Searcher (with the
keyword index, as app.py builds it, and without: FTS5 ranking), and the latency of each step."""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Engine

from bench.common import BenchError
from bench.retrieval_metrics import Scifact
from bench.search_quality.catalogue import Split, embed_cached, load_catalogue, store_and_load_vectors
from bench.search_quality.latency import query_latency, single_thread_embed_latency
from bench.search_quality.rankers import (
    AFTER,
    BEFORE,
    KEYWORD_INDEX,
    VARIANTS,
    Runs,
    all_words_matches,
    claim_query,
    keyword_runs,
    lexical_runs,
    product_runs,
    semantic_runs,
)
from paperboy.domain.search_query import SearchQuery
from paperboy.integrations.embedder import (
    Embedder,
    EmbedderUnavailable,
    MiniLMEmbedder,
    make_embedder,
    paper_text,
)
from paperboy.services.keyword_ranker import KeywordRanker
from paperboy.services.search import Searcher
from paperboy.storage.migrate import upgrade


@dataclass(slots=True)
class Prepared:
    """Everything measured before tuning: the rankings of every query, and how they were made."""

    split: Split
    doc_of: dict[int, str]
    queries: dict[str, SearchQuery]
    query_paths: Counter[str]
    semantic: Runs
    lexical: dict[str, Runs]  # variant name (or KEYWORD_INDEX) -> runs
    lexical_ms: dict[str, list[float]]
    embedding: dict[str, Any]
    latency: dict[str, Any]
    all_words: dict[str, dict[str, int]]  # as typed / without stop words -> query id -> papers
    # BEFORE / AFTER -> mode -> the Searcher's top 100, without and with the keyword index
    product: dict[str, dict[str, Runs]] = field(default_factory=dict)
    keyword_unanswered: int = 0  # claims the keyword index left to FTS5 (Searcher._lexical)


def prepare(
    engine: Engine, loaded: tuple[Scifact, Split], embedder_name: str, cache: Path | None
) -> Prepared:
    data, split = loaded
    upgrade(engine)
    start = time.perf_counter()
    doc_of = load_catalogue(engine, data.corpus)
    load_s = time.perf_counter() - start
    try:
        embedder = make_embedder(embedder_name)
    except EmbedderUnavailable as exc:
        raise BenchError(str(exc)) from exc
    paper_ids = sorted(doc_of)
    texts = [paper_text(*data.corpus[doc_of[paper_id]]) for paper_id in paper_ids]
    progress(f"embedding {len(texts)} documents with {embedder.model_id} (or reading them from {cache})")
    doc_vectors, docs_per_s = embed_cached(embedder, texts, cache)
    matrix, ids = store_and_load_vectors(engine, embedder.model_id, paper_ids, doc_vectors)
    parsed = {qid: claim_query(data.queries[qid]) for qid in [*split.train, *split.test]}
    queries = {qid: query for qid, (query, _) in parsed.items()}
    query_texts = [query.semantic_text() for query in queries.values()]
    query_vectors, _ = embed_cached(embedder, query_texts, cache)
    semantic = semantic_runs(matrix, ids, dict(zip(queries, query_vectors, strict=True)))
    lexical_all, lexical_ms = {}, {}
    progress(f"ranking {len(queries)} claims with each of {len(VARIANTS)} lexical variants")
    for variant in VARIANTS:
        lexical_all[variant.name], lexical_ms[variant.name] = lexical_runs(engine, queries, variant)
    embedding = {
        "model": embedder.model_id,
        "documents": len(texts),
        "docs_per_s": docs_per_s,
        "catalogue_write_s": load_s,
    }
    claims = {qid: data.queries[qid] for qid in queries}
    product, lexical_all[KEYWORD_INDEX], lexical_ms[KEYWORD_INDEX], unanswered = searcher_runs(
        engine, embedder, queries, claims
    )
    test_queries = {q: queries[q] for q in split.test}
    latency = query_latency(engine, embedder, matrix, ids, test_queries)
    if isinstance(embedder, MiniLMEmbedder):
        latency["embed query, torch on 1 thread"] = single_thread_embed_latency(test_queries)
    return Prepared(
        split, doc_of, queries, Counter(path for _, path in parsed.values()),
        semantic, lexical_all, lexical_ms, embedding, latency, all_words_matches(engine, queries),
        product, unanswered,
    )  # fmt: skip


def searcher_runs(
    engine: Engine, embedder: Embedder, queries: dict[str, SearchQuery], claims: dict[str, str]
) -> tuple[dict[str, dict[str, Runs]], Runs, list[float], int]:
    """The product's Searcher end to end without the keyword index (BEFORE: FTS5 ranks the words)
    and with it (AFTER, as app.py builds it; in memory, built first); the keyword index's lexical
    ranking of every query, its ms per query, and the queries it left to FTS5."""
    keywords = KeywordRanker(engine, None)
    before = Searcher(engine, embedder.model_id, embedder=embedder)
    after = Searcher(engine, embedder.model_id, embedder=embedder, keywords=keywords)
    try:
        progress("building the keyword index (in memory)")
        keywords.refresh()
        progress(f"ranking {len(queries)} claims with the keyword index")
        lex, ms, unanswered = keyword_runs(after, queries)
        product = {}
        for side, searcher in ((BEFORE, before), (AFTER, after)):
            progress(f"searching every claim through the product's Searcher ({side}), each mode")
            product[side] = product_runs(searcher, claims)
    finally:
        before.close()
        after.close()  # and the keyword index
    return product, lex, ms, unanswered


def progress(message: str) -> None:
    print(f"[{datetime.now():%H:%M:%S}] {message}", flush=True)
