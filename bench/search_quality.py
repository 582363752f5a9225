"""SciFact retrieval quality of paperboy's own search machinery (issue 4; docs/search.md).

    python -m bench.search_quality           # ~10 min on 2 cores, plus embedding once (cached)
    python -m bench.search_quality --quick   # a subset, for a smoke test
    python -m bench search_quality           # the same, through the benchmark runner

Method:

- The 5,183 SciFact abstracts are written into a fresh, migrated paperboy SQLite database with
  `storage.papers.upsert_papers` (synthetic arXiv ids 2001.00001…, mapped back to SciFact ids),
  which fills the FTS5 index as on any write. They are embedded with the product's MiniLM embedder
  (cached in bench/.cache/ by a hash of model and texts), stored with `store_embeddings` and read
  back with `load_vectors` (float16 round trip included).
- Each claim is parsed by `parse_search_query`; a claim the parser rejects, or reads as filters or
  exclusions, is searched as plain words instead, and the counts are shown.
- Rankers: lexical = `search_lexical` (all words, then any word when none match all) and variants
  (any word from the start, English stop words dropped, other bm25 column weights); semantic =
  `domain.vectors.nearest` on the query's MiniLM vector; hybrid = `domain.fusion`'s
  `reciprocal_rank_fusion` or `min_max_fusion` of both, each cut to a candidate depth.
- Fusion kind, RRF k, the lexical weight (semantic = 1 - it) and the depths are chosen on the 809
  train queries only (best mean nDCG@10), as is the lexical variant; the 300 test queries are
  then scored once with nDCG@10 and recall@100 (BEIR's definitions, bench/retrieval_metrics.py)
  and shown beside the published figures in ../shared/data/published_baselines.json.
"""

from __future__ import annotations

import argparse
import hashlib
import itertools
import json
import os
import re
import statistics
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
from sqlalchemy import Connection, Engine, select

from bench.common import SHARED, BenchError, save_results, section
from bench.retrieval_metrics import Scifact, load_scifact, ndcg_at_k, recall_at_k
from paperboy.domain import fusion
from paperboy.domain.models import PaperRecord, Version
from paperboy.domain.search_query import InvalidSearchQuery, SearchQuery, parse_search_query
from paperboy.domain.vectors import nearest
from paperboy.integrations.embedder import (
    Embedder,
    EmbedderUnavailable,
    MiniLMEmbedder,
    make_embedder,
    paper_text,
)
from paperboy.services.search import Searcher, SearchRequestError
from paperboy.storage import lexical
from paperboy.storage.engine import make_engine
from paperboy.storage.migrate import upgrade
from paperboy.storage.papers import upsert_papers
from paperboy.storage.schema import papers
from paperboy.storage.transactions import write_transaction
from paperboy.storage.vectors import load_vectors, store_embeddings

DATA = SHARED / "data" / "scifact"
BASELINES = SHARED / "data" / "published_baselines.json"
CACHE_DIR = Path(__file__).resolve().parent / ".cache"
MAX_DEPTH = 1000  # every ranker is run once this deep; shallower depths are prefixes of it
DEPTHS = (20, 50, 100, 200, 1000)
RRF_KS = (5, 10, 20, 40, 60, 100)
TARGET_NDCG = 0.72  # issue 4: the hybrid's test nDCG@10
LEXICAL_WEIGHTS = (0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8)
# Lucene's English stop words (Elasticsearch's `_english_` list, as its english analyzer drops).
# fmt: off
STOP_WORDS = frozenset({
    "a", "an", "and", "are", "as", "at", "be", "but", "by", "for", "if", "in", "into", "is", "it",
    "no", "not", "of", "on", "or", "such", "that", "the", "their", "then", "there", "these", "they",
    "this", "to", "was", "will", "with",
})
# fmt: on

Ranking = tuple[list[int], list[float]]  # paper ids best first, scores (higher is better)
Runs = dict[str, Ranking]  # query id -> ranking


@dataclass(frozen=True, slots=True)
class LexicalVariant:
    """How the lexical candidates are generated: the product's search_lexical or an alternative."""

    name: str
    any_word: bool = False  # True: any word from the start; False: search_lexical (all, then any)
    drop_stop_words: bool = False
    bm25_weights: tuple[float, float, float] = lexical.BM25_WEIGHTS  # title, abstract, authors


VARIANTS = (
    LexicalVariant("product: all words, then any"),
    LexicalVariant("any word", any_word=True),
    LexicalVariant("all, then any; no stop words", drop_stop_words=True),
    LexicalVariant("any word; no stop words", any_word=True, drop_stop_words=True),
    LexicalVariant("any; no stop; title 1", True, True, (1.0, 1.0, 2.0)),
    LexicalVariant("any; no stop; title 2", True, True, (2.0, 1.0, 2.0)),
    LexicalVariant("any; no stop; title 5", True, True, (5.0, 1.0, 2.0)),
)


@dataclass(frozen=True, slots=True)
class Fusion:
    kind: str  # "rrf" or "minmax"
    k: float  # RRF's constant; unused by min-max
    lexical_weight: float  # the semantic ranking weighs 1 - this
    lexical_depth: int
    semantic_depth: int

    def label(self) -> str:
        k = f" k={self.k:g}" if self.kind == "rrf" else ""
        weights = f"{self.lexical_weight:.1f}/{1 - self.lexical_weight:.1f}"
        return f"{self.kind}{k} w={weights} depth={self.lexical_depth}/{self.semantic_depth}"


@dataclass(frozen=True, slots=True)
class Split:
    train: dict[str, dict[str, int]]  # query id -> judged relevant SciFact ids
    test: dict[str, dict[str, int]]


# --- the catalogue: SciFact in a real paperboy database ---


def synthetic_arxiv_id(n: int) -> str:
    """A valid new-style id for the n-th document (n from 1): 2001.00001, 2001.00002, …"""
    return f"{2001 + (n - 1) // 99_999}.{(n - 1) % 99_999 + 1:05d}"


def load_catalogue(engine: Engine, corpus: dict[str, tuple[str, str]]) -> dict[int, str]:
    """Write every document as a paper through the product's write path; paper id -> SciFact id."""
    by_arxiv = {synthetic_arxiv_id(n): doc for n, doc in enumerate(corpus, start=1)}
    version = (Version(1, datetime(2020, 1, 1, tzinfo=UTC)),)
    records = [
        PaperRecord(arxiv_id, title=corpus[doc][0], abstract=corpus[doc][1], versions=version)
        for arxiv_id, doc in by_arxiv.items()
    ]
    for start in range(0, len(records), 1000):
        with write_transaction(engine) as conn:
            upsert_papers(conn, records[start : start + 1000])
    with engine.connect() as conn:
        rows = conn.execute(select(papers.c.id, papers.c.arxiv_id)).all()
    return {row.id: by_arxiv[row.arxiv_id] for row in rows}


def embed_cached(embedder: Embedder, texts: list[str], cache: Path | None) -> tuple[np.ndarray, float | None]:
    """The embeddings of `texts`, from `cache` when a file for this model and these texts is
    there; with the docs/s measured when they were computed (None when unknown)."""
    key = hashlib.sha256("\0".join([embedder.model_id, *texts]).encode()).hexdigest()[:20]
    path = cache / f"{embedder.model_id}-{key}.npy" if cache else None
    if path and path.is_file():
        meta = path.with_suffix(".json")
        rate = json.loads(meta.read_text())["docs_per_s"] if meta.is_file() else None
        return np.load(path), rate
    start = time.perf_counter()
    vectors = embedder.embed(texts)
    rate = len(texts) / (time.perf_counter() - start)
    if path:
        path.parent.mkdir(parents=True, exist_ok=True)
        np.save(path, vectors)
        path.with_suffix(".json").write_text(
            json.dumps({"docs_per_s": rate, "texts": len(texts), "load_average": os.getloadavg()})
        )
    return vectors, rate


def store_and_load_vectors(engine: Engine, model: str, paper_ids: list[int], vectors: np.ndarray) -> Any:
    """Through the vector store, so the float16 storage is part of what is measured."""
    with write_transaction(engine) as conn:
        store_embeddings(conn, model, [(paper_id, 1) for paper_id in paper_ids], vectors)
    with engine.connect() as conn:
        return load_vectors(conn, model)


# --- queries ---


def claim_query(claim: str) -> tuple[SearchQuery, str]:
    """The claim as the search box reads it, or as plain words when the parser rejects it or reads
    part of it as syntax a claim does not mean (filters, -exclusions); with which path was taken."""
    try:
        query = parse_search_query(claim)
    except InvalidSearchQuery:
        query = None
    if query is not None and not _has_syntax(query):
        return query, "parsed, with phrases" if query.phrases else "parsed as typed"
    words = [word.strip('"“”„') for word in claim.split()]
    terms = tuple(dict.fromkeys(w for w in words if any(c.isalnum() for c in w)))
    return SearchQuery(terms=terms, positive_text=claim), "plain words (parser rejected or read syntax)"


def _has_syntax(query: SearchQuery) -> bool:
    filters = query.authors or query.categories or query.date_from or query.date_to or query.has_code
    return bool(filters or query.excluded_terms or query.excluded_phrases)


def without_stop_words(query: SearchQuery) -> SearchQuery:
    """The query minus English stop words (kept whole when nothing else is left)."""
    terms = tuple(t for t in query.terms if t.strip(".,;:!?()[]'").lower() not in STOP_WORDS)
    return replace(query, terms=terms) if terms or query.phrases else query


# --- rankers ---


@contextmanager
def bm25_weights(weights: tuple[float, float, float]) -> Iterator[None]:
    """search_lexical reads lexical.BM25_WEIGHTS on every call; set it for one variant."""
    saved = lexical.BM25_WEIGHTS
    lexical.BM25_WEIGHTS = weights
    try:
        yield
    finally:
        lexical.BM25_WEIGHTS = saved


def lexical_ranking(conn: Connection, query: SearchQuery, variant: LexicalVariant, depth: int) -> Ranking:
    if variant.drop_stop_words:
        query = without_stop_words(query)
    if variant.any_word:  # the module's own OR statement, without the all-words attempt first
        return lexical._run(conn, query, depth, 0, any_word=True)
    return lexical.search_lexical(conn, query, limit=depth)


def lexical_runs(
    engine: Engine, queries: dict[str, SearchQuery], variant: LexicalVariant
) -> tuple[Runs, list[float]]:
    """Every query's ranking MAX_DEPTH deep, and each query's time in ms."""
    runs, times = {}, []
    with bm25_weights(variant.bm25_weights), engine.connect() as conn:
        for qid, query in queries.items():
            start = time.perf_counter()
            runs[qid] = lexical_ranking(conn, query, variant, MAX_DEPTH)
            times.append(1000 * (time.perf_counter() - start))
    return runs, times


def all_words_matches(engine: Engine, queries: dict[str, SearchQuery]) -> dict[str, dict[str, int]]:
    """How many papers match all of each claim's words (when any do, search_lexical never tries
    any word), as typed and without stop words: label -> query id -> papers (up to MAX_DEPTH)."""
    found: dict[str, dict[str, int]] = {"as typed": {}, "without stop words": {}}
    with engine.connect() as conn:
        for qid, query in queries.items():
            for label, q in (("as typed", query), ("without stop words", without_stop_words(query))):
                found[label][qid] = len(lexical._run(conn, q, MAX_DEPTH, 0, any_word=False)[0])
    return found


def semantic_runs(matrix: np.ndarray, ids: np.ndarray, vectors: dict[str, np.ndarray]) -> Runs:
    return {qid: nearest(matrix, ids, vector, MAX_DEPTH) for qid, vector in vectors.items()}


def fuse(lexical_run: Ranking, semantic_run: Ranking, setting: Fusion, top: int = 100) -> list[int]:
    """The product's fusion of both rankings, each cut to its candidate depth."""
    rankings = [
        (lexical_run[0][: setting.lexical_depth], lexical_run[1][: setting.lexical_depth]),
        (semantic_run[0][: setting.semantic_depth], semantic_run[1][: setting.semantic_depth]),
    ]
    weights = (setting.lexical_weight, 1 - setting.lexical_weight)
    if setting.kind == "rrf":
        ids, _ = fusion.reciprocal_rank_fusion(rankings, k=setting.k, weights=weights)
    else:
        ids, _ = fusion.min_max_fusion(rankings, weights)
    return ids[:top]


def top_of(runs: Runs) -> Callable[[str], list[int]]:
    """query id -> a ranker's paper ids, best first."""
    return lambda qid: runs[qid][0]


def fused_top(lex: Runs, sem: Runs, setting: Fusion) -> Callable[[str], list[int]]:
    """query id -> the product's fusion of both rankings with `setting`."""
    return lambda qid: fuse(lex[qid], sem[qid], setting)


# --- measures ---


def quality(
    ranked: Callable[[str], list[int]], qrels: dict[str, dict[str, int]], doc_of: dict[int, str]
) -> dict[str, float]:
    """Mean nDCG@10 and recall@100 over the judged queries of `qrels`."""
    ndcg, recall = [], []
    for qid, relevant in qrels.items():
        docs = [doc_of[paper_id] for paper_id in ranked(qid)[:100]]
        ndcg.append(ndcg_at_k(docs, relevant, 10))
        recall.append(recall_at_k(docs, relevant, 100))
    return {"ndcg@10": statistics.fmean(ndcg), "recall@100": statistics.fmean(recall)}


def per_query_ndcg(
    ranked: Callable[[str], list[int]], qrels: dict[str, dict[str, int]], doc_of: dict[int, str]
) -> list[float]:
    return [ndcg_at_k([doc_of[i] for i in ranked(qid)[:10]], relevant, 10) for qid, relevant in qrels.items()]


def paired_difference(ours: Sequence[float], theirs: Sequence[float]) -> dict[str, float]:
    """Mean per-query difference with a normal 95% interval (±1.96 standard errors): whether a
    gap between two systems on the same queries is more than the queries' noise."""
    diffs = [a - b for a, b in zip(ours, theirs, strict=True)]
    half = 1.96 * statistics.stdev(diffs) / len(diffs) ** 0.5 if len(diffs) > 1 else float("nan")
    return {"mean": statistics.fmean(diffs), "ci95_half_width": half}


def fusion_grid(quick: bool) -> list[Fusion]:
    depths = (50, 100) if quick else DEPTHS
    ks = (10, 60) if quick else RRF_KS
    weights = (0.3, 0.5, 0.7) if quick else LEXICAL_WEIGHTS
    grid = [Fusion("rrf", k, w, d, d) for k, w, d in itertools.product(ks, weights, depths)]
    grid += [Fusion("minmax", 0, w, d, d) for w, d in itertools.product(weights, depths)]
    return grid


@dataclass(frozen=True, slots=True)
class Arrays:
    """One query's two rankings as numpy arrays, for the grid's mirror of domain.fusion."""

    lex_ids: np.ndarray
    lex_scores: np.ndarray
    sem_ids: np.ndarray
    sem_scores: np.ndarray

    @classmethod
    def of(cls, lex: Ranking, sem: Ranking) -> Arrays:
        ids, scores = np.int64, np.float64
        return cls(
            np.asarray(lex[0], ids),
            np.asarray(lex[1], scores),
            np.asarray(sem[0], ids),
            np.asarray(sem[1], scores),
        )


def fast_fuse(arrays: Arrays, setting: Fusion, top: int = 100) -> list[int]:
    """The top of `fuse`'s result, computed with numpy for the grid (~20 times faster): the same float
    operations in the same order and the same tie-break (best position, then smaller id), so the
    result is identical; `mirror_agreement` checks that on every query for the chosen settings."""
    weight = setting.lexical_weight
    parts = [
        (arrays.lex_ids[: setting.lexical_depth], arrays.lex_scores[: setting.lexical_depth], weight),
        (arrays.sem_ids[: setting.semantic_depth], arrays.sem_scores[: setting.semantic_depth], 1 - weight),
    ]
    union, where = np.unique(np.concatenate([part[0] for part in parts]), return_inverse=True)
    fused = np.zeros(len(union))
    best = np.full(len(union), len(union) + MAX_DEPTH)
    start = 0
    for ids, scores, part_weight in parts:
        at = where[start : start + len(ids)]
        start += len(ids)
        fused[at] += _contribution(scores, part_weight, setting)
        best[at] = np.minimum(best[at], np.arange(len(ids)))
    order = np.lexsort((union, best, -fused))[:top]
    return [int(i) for i in union[order]]


def _contribution(scores: np.ndarray, weight: float, setting: Fusion) -> np.ndarray:
    """What one ranking adds to each of its ids: weight / (k + rank), or its min-max scaled score."""
    if setting.kind == "rrf":
        return weight / (setting.k + np.arange(len(scores)) + 1)
    if len(scores) == 0 or scores[0] == scores[-1]:
        return np.full(len(scores), weight * 1.0)
    scaled: np.ndarray = weight * ((scores - scores[-1]) / (scores[0] - scores[-1]))
    return scaled


def mirror_agreement(lex: Runs, sem: Runs, setting: Fusion) -> tuple[int, int]:
    """On how many queries `fast_fuse` and the product's fusion give the same top 100."""
    same = sum(fast_fuse(Arrays.of(lex[q], sem[q]), setting) == fuse(lex[q], sem[q], setting) for q in lex)
    return same, len(lex)


def tune(
    lex: Runs, sem: Runs, train: dict[str, dict[str, int]], doc_of: dict[int, str], quick: bool
) -> list[tuple[Fusion, dict[str, float]]]:
    """Every grid setting's train quality, best nDCG@10 first; then the best setting again with
    each ranker's depth varied on its own."""
    arrays = {qid: Arrays.of(lex[qid], sem[qid]) for qid in train}

    def score(setting: Fusion) -> dict[str, float]:
        return quality(lambda qid: fast_fuse(arrays[qid], setting), train, doc_of)

    scored = [(setting, score(setting)) for setting in fusion_grid(quick)]
    best = max(scored, key=lambda item: item[1]["ndcg@10"])[0]
    depths = (50, 100) if quick else DEPTHS
    for lexical_depth, semantic_depth in itertools.product(depths, depths):
        if lexical_depth != semantic_depth:
            setting = replace(best, lexical_depth=lexical_depth, semantic_depth=semantic_depth)
            scored.append((setting, score(setting)))
    return sorted(scored, key=lambda item: -item[1]["ndcg@10"])


# --- the run ---


@dataclass(slots=True)
class Prepared:
    """Everything measured before tuning: the rankings of every query, and how they were made."""

    split: Split
    doc_of: dict[int, str]
    queries: dict[str, SearchQuery]
    query_paths: Counter[str]
    semantic: Runs
    lexical: dict[str, Runs]  # variant name -> runs
    lexical_ms: dict[str, list[float]]
    embedding: dict[str, Any]
    latency: dict[str, Any]
    all_words: dict[str, dict[str, int]]  # as typed / without stop words -> query id -> papers
    product: dict[str, Runs] = field(default_factory=dict)  # mode -> the Searcher's top 100


def run(quick: bool = False, embedder_name: str = "minilm", cache: Path | None = CACHE_DIR) -> dict[str, Any]:
    """Load, embed, rank, tune on train, score on test; prints the tables, returns the figures."""
    if not (DATA / "corpus.jsonl.gz").is_file():
        raise BenchError(f"{DATA} is absent (see ../shared/data/README.md)")
    load_average = os.getloadavg()
    published = json.loads(BASELINES.read_text())["scifact_test_ndcg_at_10"] if BASELINES.is_file() else {}
    with tempfile.TemporaryDirectory(prefix="paperboy-scifact-") as folder:
        engine = make_engine(f"sqlite:///{folder}/scifact.sqlite3")
        try:
            prepared = prepare(engine, load_subset(quick), embedder_name, cache)
        finally:
            engine.dispose()
    results = evaluate(prepared, quick)
    results["load_average_at_start"] = load_average
    results["published_test_ndcg@10"] = {k: v for k, v in published.items() if not k.startswith("_")}
    print_report(results)
    return results


def load_subset(quick: bool) -> tuple[Scifact, Split]:
    """SciFact; with `quick`, 40 train and 40 test queries over their judged documents plus 800 others."""
    data = load_scifact(DATA)
    split = Split(dict(data.train), dict(data.test))
    if not quick:
        return data, split
    split = Split(dict(sorted(split.train.items())[:40]), dict(sorted(split.test.items())[:40]))
    judged = {doc for qrels in (split.train, split.test) for relevant in qrels.values() for doc in relevant}
    keep = judged | set(list(data.corpus)[:800])
    corpus = {doc: text for doc, text in data.corpus.items() if doc in keep}
    return replace(data, corpus=corpus), split


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
    _progress(f"embedding {len(texts)} documents with {embedder.model_id} (or reading them from {cache})")
    doc_vectors, docs_per_s = embed_cached(embedder, texts, cache)
    matrix, ids = store_and_load_vectors(engine, embedder.model_id, paper_ids, doc_vectors)
    parsed = {qid: claim_query(data.queries[qid]) for qid in [*split.train, *split.test]}
    queries = {qid: query for qid, (query, _) in parsed.items()}
    query_texts = [query.semantic_text() for query in queries.values()]
    query_vectors, _ = embed_cached(embedder, query_texts, cache)
    semantic = semantic_runs(matrix, ids, dict(zip(queries, query_vectors, strict=True)))
    lexical_all, lexical_ms = {}, {}
    _progress(f"ranking {len(queries)} claims with each of {len(VARIANTS)} lexical variants")
    for variant in VARIANTS:
        lexical_all[variant.name], lexical_ms[variant.name] = lexical_runs(engine, queries, variant)
    embedding = {
        "model": embedder.model_id,
        "documents": len(texts),
        "docs_per_s": docs_per_s,
        "catalogue_write_s": load_s,
    }
    _progress("searching every claim through the product's Searcher (default Tuning), each mode")
    product = product_runs(engine, embedder, {qid: data.queries[qid] for qid in queries})
    test_queries = {q: queries[q] for q in split.test}
    latency = query_latency(engine, embedder, matrix, ids, test_queries)
    if isinstance(embedder, MiniLMEmbedder):
        latency["embed query, torch on 1 thread"] = single_thread_embed_latency(test_queries)
    return Prepared(
        split, doc_of, queries, Counter(path for _, path in parsed.values()),
        semantic, lexical_all, lexical_ms, embedding, latency, all_words_matches(engine, queries),
        product,
    )  # fmt: skip


def product_runs(engine: Engine, embedder: Embedder, claims: dict[str, str]) -> dict[str, Runs]:
    """Each claim searched end to end as the site does (services/search.Searcher with its default
    Tuning: fusion, depths, similarity floor, stop words), top 100, in each mode. A claim the
    parser rejects is searched as its plain words, as claim_query does."""
    searcher = Searcher(engine, embedder.model_id, embedder=embedder)
    runs: dict[str, Runs] = {}
    try:
        for mode in ("lexical", "semantic", "hybrid"):
            runs[mode] = {}
            for qid, claim in claims.items():
                try:
                    page = searcher.search(claim, mode=mode, page_size=100)
                except SearchRequestError:
                    page = searcher.search(
                        " ".join(claim_query(claim)[0].terms)[:250], mode=mode, page_size=100
                    )
                runs[mode][qid] = ([hit.paper.id for hit in page.hits], [hit.score for hit in page.hits])
    finally:
        searcher.close()
    return runs


def _progress(message: str) -> None:
    print(f"[{datetime.now():%H:%M:%S}] {message}", flush=True)


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


FIXED_SETTINGS = (  # reported for reference (not chosen by): docs/search.md's defaults and simple ones
    Fusion("rrf", fusion.RRF_K, 0.5, 100, 100),
    Fusion("rrf", 10, 0.6, 200, 200),
    Fusion("minmax", 0, 0.5, 100, 100),
    Fusion("minmax", 0, 0.6, 200, 200),
)
ANY_WORD_NO_STOP = "any word; no stop words"


def evaluate(prepared: Prepared, quick: bool) -> dict[str, Any]:
    """Each ranker alone; the fusion tuned on train for every lexical variant; the variant with the
    best train hybrid chosen; its test figures, compared with the other systems."""
    split, doc_of, sem = prepared.split, prepared.doc_of, prepared.semantic
    alone = {f"semantic: {prepared.embedding['model']}": _both(prepared, top_of(sem))}
    alone |= {f"lexical: {name}": _both(prepared, top_of(runs)) for name, runs in prepared.lexical.items()}
    by_variant: dict[str, dict[str, Any]] = {}
    grids: dict[str, list[dict[str, Any]]] = {}
    for name, lex in prepared.lexical.items():
        _progress(f"tuning the fusion on train for lexical '{name}'")
        scored = tune(lex, sem, split.train, doc_of, quick)
        best = scored[0][0]
        grids[name] = [{**asdict(s), **{f"train {m}": v for m, v in q.items()}} for s, q in scored]
        hybrid = _both(prepared, fused_top(lex, sem, best))
        by_variant[name] = {"setting": asdict(best), "label": best.label(), **hybrid}
    chosen = max(by_variant, key=lambda name: float(by_variant[name]["train"]["ndcg@10"]))
    setting = Fusion(**by_variant[chosen]["setting"])
    same, queries = mirror_agreement(prepared.lexical[chosen], sem, setting)
    return {
        "documents": len(doc_of),
        "queries": {"train": len(split.train), "test": len(split.test)},
        "query_paths": dict(prepared.query_paths),
        "embedding": prepared.embedding,
        "alone": alone,
        "hybrid_by_lexical_variant": by_variant,
        "fixed_settings": _fixed_settings(prepared),
        "chosen": {"lexical_variant": chosen, **by_variant[chosen]},
        "grid_mirror_agrees_with_domain_fusion": {"queries": queries, "same_top_100": same},
        "test_ndcg@10_chosen_hybrid_minus": _paired(prepared, chosen, setting, by_variant),
        "all_words_match": _all_words_summary(prepared, setting),
        "grid": grids,
        "lexical_ms_1000_deep_p50": {
            f"lexical: {name}": statistics.median(ms) for name, ms in prepared.lexical_ms.items()
        },
        "latency": prepared.latency,
        "product_end_to_end": {
            mode: _both(prepared, top_of(runs)) for mode, runs in prepared.product.items()
        },
    }


def _both(prepared: Prepared, ranked: Callable[[str], list[int]]) -> dict[str, dict[str, float]]:
    split = prepared.split
    return {
        "train": quality(ranked, split.train, prepared.doc_of),
        "test": quality(ranked, split.test, prepared.doc_of),
    }


def _fixed_settings(prepared: Prepared) -> dict[str, dict[str, Any]]:
    """FIXED_SETTINGS on the product's lexical ranking and on any word without stop words."""
    sem = prepared.semantic
    return {
        f"{setting.label()} | {name}": _both(prepared, fused_top(prepared.lexical[name], sem, setting))
        for setting in FIXED_SETTINGS
        for name in (VARIANTS[0].name, ANY_WORD_NO_STOP)
    }


def _paired(
    prepared: Prepared, chosen: str, setting: Fusion, by_variant: dict[str, Any]
) -> dict[str, dict[str, float]]:
    """The chosen hybrid's per-query test nDCG@10 minus other systems' on the same queries."""
    sem, product, test, doc_of = (
        prepared.semantic,
        prepared.lexical[VARIANTS[0].name],
        prepared.split.test,
        prepared.doc_of,
    )
    product_tuned = Fusion(**by_variant[VARIANTS[0].name]["setting"])
    others: dict[str, Callable[[str], list[int]]] = {
        f"lexical: {VARIANTS[0].name}": top_of(product),
        "semantic": top_of(sem),
        f"hybrid, product lexical, tuned: {product_tuned.label()}": (fused_top(product, sem, product_tuned)),
    }
    others |= {
        f"hybrid, product lexical: {s.label()}": fused_top(product, sem, s) for s in FIXED_SETTINGS[::2]
    }
    lex = prepared.lexical[chosen]
    ours = per_query_ndcg(fused_top(lex, sem, setting), test, doc_of)
    return {
        name: paired_difference(ours, per_query_ndcg(ranked, test, doc_of)) for name, ranked in others.items()
    }


def _all_words_summary(prepared: Prepared, setting: Fusion) -> dict[str, Any]:
    """How often all words match, and, on the judged claims where they do (as typed), the
    product's all-then-any lexical ranking against any word from the start, alone and fused."""
    summary: dict[str, Any] = {}
    for label, sizes in prepared.all_words.items():
        matched = [n for n in sizes.values() if n > 0]
        summary[label] = {
            "queries_matched": len(matched),
            "median_papers_when_matched": statistics.median(matched) if matched else 0,
        }
    judged = {**prepared.split.train, **prepared.split.test}
    subset = {qid: rel for qid, rel in judged.items() if prepared.all_words["as typed"][qid] > 0}
    if not subset:
        return summary
    sem, doc_of = prepared.semantic, prepared.doc_of
    for name in (VARIANTS[0].name, "any word"):
        lex = prepared.lexical[name]
        summary[f"judged claims matching all words: lexical {name}"] = quality(top_of(lex), subset, doc_of)
        summary[f"judged claims matching all words: hybrid ({setting.label()}) on {name}"] = quality(
            fused_top(lex, sem, setting), subset, doc_of
        )
    summary["judged claims matching all words"] = len(subset)
    return summary


# --- printing ---


def markdown_table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """A GitHub-Markdown table, padded so that it also reads well as plain text; columns of
    numbers are right-aligned."""
    cells = [[str(h) for h in headers], *[[str(v) for v in row] for row in rows]]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    numeric = [
        bool(rows) and all(_NUMBER.fullmatch(row[i]) for row in cells[1:]) for i in range(len(headers))
    ]

    def line(row: list[str]) -> str:
        padded = (c.rjust(w) if n else c.ljust(w) for c, w, n in zip(row, widths, numeric, strict=True))
        return "| " + " | ".join(padded) + " |"

    rule = (
        "|"
        + "|".join("-" * (w + 1) + (":" if n else "-") for w, n in zip(widths, numeric, strict=True))
        + "|"
    )
    return "\n".join([line(cells[0]), rule, *map(line, cells[1:])])


_NUMBER = re.compile(r"[-+±]?\d[\d.,]*|—")


def _f(value: float | None) -> str:
    return "—" if value is None else f"{value:.3f}"


def print_report(results: dict[str, Any]) -> None:
    print_setup(results)
    section("each ranker alone (nDCG@10 / recall@100)")
    ms = results["lexical_ms_1000_deep_p50"]
    rows = [
        [name, _f(f["train"]["ndcg@10"]), _f(f["test"]["ndcg@10"]), _f(f["train"]["recall@100"]),
         _f(f["test"]["recall@100"]), f"{ms[name]:.1f}" if name in ms else "—"]
        for name, f in results["alone"].items()
    ]  # fmt: skip
    headers = ["ranker", "train nDCG@10", "test nDCG@10", "train R@100", "test R@100", "ms p50 (1000 deep)"]
    print(markdown_table(headers, rows))
    print_all_words(results["all_words_match"])
    print_hybrids(results)
    chosen = results["chosen"]
    print_grid_summary(results["grid"][chosen["lexical_variant"]], chosen["lexical_variant"])
    print_test_table(results)
    section("the product end to end: services/search.Searcher, default Tuning, top 100 (nDCG@10 / R@100)")
    rows = [
        [mode, _f(f["train"]["ndcg@10"]), _f(f["test"]["ndcg@10"]), _f(f["train"]["recall@100"]),
         _f(f["test"]["recall@100"])]
        for mode, f in results["product_end_to_end"].items()
    ]  # fmt: skip
    print(markdown_table(["mode", "train nDCG@10", "test nDCG@10", "train R@100", "test R@100"], rows))
    section("test nDCG@10: chosen hybrid minus another system, same queries (mean, 95% interval)")
    rows = [
        [name, f"{d['mean']:+.3f}", f"±{d['ci95_half_width']:.3f}"]
        for name, d in results["test_ndcg@10_chosen_hybrid_minus"].items()
    ]
    print(markdown_table(["other system", "difference", "95% interval"], rows))
    section("query latency, test queries (ms; a 5k-document corpus on a shared machine, so only a note)")
    rows = [
        [name, f"{t['min_ms']:.2f}", f"{t['p50_ms']:.2f}", f"{t['p90_ms']:.2f}"]
        for name, t in results["latency"].items()
    ]
    print(markdown_table(["step", "min", "p50", "p90"], rows))


def print_setup(results: dict[str, Any]) -> None:
    embedding, queries = results["embedding"], results["queries"]
    rate = embedding["docs_per_s"]
    print(
        f"\n{results['documents']} documents, {queries['train']} train / {queries['test']} test queries; "
        f"embedder {embedding['model']}" + (f", {rate:.1f} docs/s when embedded" if rate else "")
    )
    load = "/".join(f"{x:.1f}" for x in results["load_average_at_start"])
    print(f"catalogue written in {embedding['catalogue_write_s']:.1f} s; load average at start {load}")
    print("claims:", ", ".join(f"{n} {path}" for path, n in sorted(results["query_paths"].items())))


def print_all_words(summary: dict[str, Any]) -> None:
    """search_lexical's all-words attempt: how often it matches, and what it costs when it does."""
    section("all words, then any (product) against any word from the start")
    for label in ("as typed", "without stop words"):
        match = summary[label]
        print(
            f"all words ({label}) match a paper for {match['queries_matched']} claims "
            f"(median {match['median_papers_when_matched']:g} papers); the others fall back to any word"
        )
    prefix = "judged claims matching all words: "
    rows = [
        [name.removeprefix(prefix), _f(f["ndcg@10"]), _f(f["recall@100"])]
        for name, f in summary.items()
        if name.startswith(prefix)
    ]
    if rows:
        count = summary["judged claims matching all words"]
        print(markdown_table([f"on the {count} judged claims matching all words", "nDCG@10", "R@100"], rows))


def print_hybrids(results: dict[str, Any]) -> None:
    section("hybrid: fusion tuned on train for each lexical variant; then fixed settings")
    rows = [
        [name, f["label"], _f(f["train"]["ndcg@10"]), _f(f["test"]["ndcg@10"]), _f(f["test"]["recall@100"])]
        for name, f in results["hybrid_by_lexical_variant"].items()
    ]
    for label, f in results["fixed_settings"].items():
        setting, variant = label.split(" | ")
        rows.append(
            [f"fixed: {variant}", setting, _f(f["train"]["ndcg@10"]), _f(f["test"]["ndcg@10"]),
             _f(f["test"]["recall@100"])]
        )  # fmt: skip
    headers = ["lexical variant", "fusion setting", "train nDCG@10", "test nDCG@10", "test R@100"]
    print(markdown_table(headers, rows))
    mirror = results["grid_mirror_agrees_with_domain_fusion"]
    print(
        "(the grid ran on a numpy mirror of domain.fusion; for the chosen setting it gives the same top 100 "
        f"on {mirror['same_top_100']} of {mirror['queries']} queries; every figure shown is domain.fusion's)"
    )


def print_grid_summary(grid: list[dict[str, Any]], variant: str) -> None:
    """The best train nDCG@10 reached with each value of each parameter (the others free)."""
    section(f"train grid for lexical '{variant}': best nDCG@10 with each parameter value")
    rows = []
    for kind in ("rrf", "minmax"):
        cells = [cell for cell in grid if cell["kind"] == kind]
        params = ["k"] if kind == "rrf" else []
        for param in [*params, "lexical_weight", "lexical_depth", "semantic_depth"]:
            for value in sorted({cell[param] for cell in cells}):
                best = max((c for c in cells if c[param] == value), key=lambda c: c["train ndcg@10"])
                rows.append(
                    [kind, f"{param}={value:g}", _f(best["train ndcg@10"]), _f(best["train recall@100"])]
                )
    print(markdown_table(["fusion", "parameter", "best train nDCG@10", "its train R@100"], rows))
    top = [[Fusion(**{k: c[k] for k in Fusion.__slots__}).label(), _f(c["train ndcg@10"])] for c in grid[:5]]
    print(markdown_table(["top settings on train", "train nDCG@10"], top))


def print_test_table(results: dict[str, Any]) -> None:
    section(f"test split ({results['queries']['test']} queries) beside the published figures")
    chosen = results["chosen"]
    product = results["alone"][f"lexical: {VARIANTS[0].name}"]["test"]
    best_lexical = results["alone"][f"lexical: {chosen['lexical_variant']}"]["test"]
    semantic = results["alone"][f"semantic: {results['embedding']['model']}"]["test"]
    systems = {
        f"paperboy lexical: {VARIANTS[0].name}": product,
        f"paperboy lexical: {chosen['lexical_variant']}": best_lexical,
        f"paperboy semantic: {results['embedding']['model']}": semantic,
        f"paperboy hybrid: {chosen['label']}": chosen["test"],
    }
    rows = [[name, _f(f["ndcg@10"]), _f(f["recall@100"])] for name, f in systems.items()]
    rows += [
        [f"published: {name}", _f(value), "—"] for name, value in results["published_test_ndcg@10"].items()
    ]
    print(markdown_table(["system", "test nDCG@10", "test recall@100"], rows))
    reached = "reached" if chosen["test"]["ndcg@10"] >= TARGET_NDCG else "NOT reached"
    print(f"target: hybrid test nDCG@10 ≥ {TARGET_NDCG}: {reached}")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.search_quality", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--quick", action="store_true", help="40 train / 40 test queries, ~1,100 documents")
    parser.add_argument("--embedder", choices=("minilm", "hashing"), default="minilm")
    args = parser.parse_args(argv)
    try:
        results = run(args.quick, args.embedder)
    except BenchError as exc:
        print(f"bench search_quality: {exc}")
        return 1
    print(f"\nresults saved to {save_results(results, 'search-quality-')}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
