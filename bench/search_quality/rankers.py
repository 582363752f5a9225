"""The rankings every claim gets: claims read as search queries, the lexical rankings (the product's
keyword index; the database's FTS5 ranking that ranked before it, `search_lexical`, and variants of
it), the semantic ranking, and the product's Searcher end to end, with and without the keyword
index."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace

import numpy as np
from sqlalchemy import Connection, Engine

from paperboy.domain.search_query import InvalidSearchQuery, SearchQuery, parse_search_query
from paperboy.domain.vectors import nearest
from paperboy.services.search import Searcher, SearchRequestError
from paperboy.storage import lexical

MAX_DEPTH = 1000  # every ranker is run once this deep; shallower depths are prefixes of it
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
    LexicalVariant("FTS5 (before): all words, then any"),
    LexicalVariant("any word", any_word=True),
    LexicalVariant("all, then any; no stop words", drop_stop_words=True),
    LexicalVariant("any word; no stop words", any_word=True, drop_stop_words=True),
    LexicalVariant("any; no stop; title 1", True, True, (1.0, 1.0, 2.0)),
    LexicalVariant("any; no stop; title 2", True, True, (2.0, 1.0, 2.0)),
    LexicalVariant("any; no stop; title 5", True, True, (5.0, 1.0, 2.0)),
)


FTS5 = VARIANTS[0].name  # what ranked the lexical side before the keyword index
KEYWORD_INDEX = "keyword index (product): all words, then any"  # what ranks it now
BEFORE, AFTER = "before: FTS5", "after: keyword index"  # the product's Searcher without and with it


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


def keyword_runs(searcher: Searcher, queries: dict[str, SearchQuery]) -> tuple[Runs, list[float], int]:
    """Every query's ranking MAX_DEPTH deep as the product's lexical side makes it (Searcher._lexical:
    the keyword index, all words then any; the database's FTS5 ranking for a query it cannot
    answer), each query's time in ms, and on how many queries the keyword index did not answer."""
    runs, times, unanswered = {}, [], 0
    with searcher.engine.connect() as conn:
        for qid, query in queries.items():
            start = time.perf_counter()
            ids, scores, _ = searcher._lexical(conn, query, MAX_DEPTH, MAX_DEPTH)
            times.append(1000 * (time.perf_counter() - start))
            runs[qid] = (ids, scores)
            unanswered += searcher._keyword_ranking(conn, query, MAX_DEPTH, MAX_DEPTH) is None
    return runs, times, unanswered


def product_runs(searcher: Searcher, claims: dict[str, str]) -> dict[str, Runs]:
    """Each claim searched end to end as the site does (services/search.Searcher with its default
    Tuning: fusion, depths, similarity floor, stop words), top 100, in each mode. A claim the
    parser rejects is searched as its plain words, as claim_query does."""
    runs: dict[str, Runs] = {}
    for mode in ("lexical", "semantic", "hybrid"):
        runs[mode] = {}
        for qid, claim in claims.items():
            try:
                page = searcher.search(claim, mode=mode, page_size=100)
            except SearchRequestError:
                page = searcher.search(" ".join(claim_query(claim)[0].terms)[:250], mode=mode, page_size=100)
            runs[mode][qid] = ([hit.paper.id for hit in page.hits], [hit.score for hit in page.hits])
    return runs
