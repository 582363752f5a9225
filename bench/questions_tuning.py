"""`python -m bench.questions_tuning [--no-known-items]`: the keyword index's field weights and
match rule, and the fusion of the keyword and meaning rankings, chosen on the tuning half of the
hand-written questions (bench/questions/*.jsonl), then the test half reported once (issue 14,
items 2 and 3). bench/README.md ("questions_tuning") has the figures.

The database, vectors and embedder are those of bench/questions_eval.py: SQLite with the 74,728
papers (bench/.cache/search-speed/real), the shared reference MiniLM vectors behind the product's
approximate index, the real MiniLM embedder for each query. The keyword index is the product's
(`KeywordRanker`, in memory). Per query, collected once:
- the keyword ranking `LEXICAL_DEPTH` deep (the product's lexical_depth, so that min-max scales
  by the same last score) for every `Weights(title, authors)` of TITLE x AUTHORS and both match
  rules: "all, then any" (every word must match, any word when none match all: the product's
  rule) and "any" (any word from the start);
- the semantic ranking `SEMANTIC_DEPTH` deep, cut at the product's min_similarity.
Then, offline (bench/fusion_ranks.py, a mirror of domain.fusion checked by a unit test), where
the target lands within the first page (`PAGE`) under every fusion: min-max with lexical weight
MIN_MAX, RRF with each k of RRF_K and lexical weight RRF_WEIGHT, each ranking alone, and a
query-dependent lexical weight (one for queries of at most `n` content words, one for longer).

The choice, fixed before it was run: on the tuning-half questions, the best candidate by MRR, then
R@1, R@5, R@10. It replaces the current defaults (`BEFORE`) only when it gains at least `MARGIN`
MRR there, loses nothing in R@1, R@5 or R@10, and costs the rule-made known items of
bench/known_item.py (development half) no more than `MARGIN` MRR. The questions are all long
(16-30 words), so a query-dependent weight's short-query side can only be chosen on the known
items' development half; it is kept only if it gains `MARGIN` there. The test half of both sets
is then reported once, with plain BM25 (bm25s) beside it. At the end the product's own search
(`Searcher.search`, hybrid, with the defaults in the code as it is run) is asked every question
and its ranks compared with the offline ones of the candidate those defaults name.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from bench.common import REPO_ROOT, BenchError, find_corpus, run_standalone, section
from bench.fusion_ranks import min_max_ranks, pair, rrf_ranks, single_rank
from bench.known_item import SAMPLE, check_agreement, corpus_rows
from bench.lexical_engines.engines import bm25s_engine
from bench.lexical_engines.queries import TEST, TUNING, add_questions_argument, known_items, questions
from bench.questions_grid import (
    KINDS,
    LEXICAL_DEPTH,
    MIN_MAX,
    MIN_SIMILARITY,
    PAGE,
    RRF_K,
    RRF_WEIGHT,
    SEMANTIC_DEPTH,
    Asked,
    Collected,
    Fusion,
    Variant,
    fusions,
    report,
    variants,
)
from paperboy.storage.keyword_index import Weights

CACHE = REPO_ROOT / "bench" / ".cache" / "questions-tuning"


def run(args: argparse.Namespace) -> dict[str, Any]:
    rows = corpus_rows()
    asked = _asked(args, rows)
    section(f"Tuning the keyword index and fusion on the question set ({len(rows):,} papers)")
    for kind in KINDS:
        for half in (TUNING, TEST):
            n = sum(a.kind == kind and a.half == half for a in asked)
            print(f"  {kind} {half}: {n}", end=";" if (kind, half) != (KINDS[-1], TEST) else "\n")

    from paperboy.integrations.embedder import MiniLMEmbedder

    embedder = MiniLMEmbedder()
    agreement = check_agreement(rows, embedder)
    print(f"  the product's MiniLM vs the reference vectors: min cosine {agreement:.5f} (needs ≥ 0.99)")
    if agreement < 0.99:
        raise BenchError("the reference vectors disagree with the product's embedder; not using them")
    from bench.search_speed.corpora import prepare_real

    prepared = prepare_real(find_corpus(), threads=2)
    collected = _collect(prepared.data_dir, embedder, asked, args.reuse)
    with tempfile.TemporaryDirectory(prefix="questions-bm25s-") as folder:
        built = bm25s_engine(
            Path(folder) / "bm25s", [(r["title"], r["abstract"]) for r in rows], [r["id"] for r in rows]
        )
        bm25s = [single_rank((built.search(a.text, PAGE), [0.0] * PAGE), a.arxiv_id) for a in asked]
    return report(asked, collected, bm25s)


def _asked(args: argparse.Namespace, rows: Sequence[dict[str, Any]]) -> list[Asked]:
    known = {row["id"] for row in rows}
    found = []
    for half in (TUNING, TEST):
        chosen, note = questions(args.questions, known, half)
        if not chosen:
            raise BenchError(note)
        found += [Asked("questions", half, q.text, q.target) for q in chosen]
    if args.known_items:
        items = known_items(rows, SAMPLE)
        for kind in ("keywords", "gist"):
            of_kind = [q for q in items if q.kind == kind]
            for half, parity in ((TUNING, 0), (TEST, 1)):  # bench/known_item.py's halves
                found += [Asked(kind, half, q.text, q.target) for q in of_kind[parity::2]]
    return found


def _collect(data_dir: Path, embedder: Any, asked: Sequence[Asked], reuse: bool) -> Collected:
    from sqlalchemy import select

    from paperboy.services.keyword_ranker import KeywordRanker
    from paperboy.services.search import Searcher
    from paperboy.services.vector_index import ANN_DIRECTORY
    from paperboy.storage.engine import make_engine
    from paperboy.storage.schema import papers

    engine = make_engine(f"sqlite:///{data_dir / 'paperboy.sqlite3'}")
    ranker = KeywordRanker(engine, None)
    searcher = Searcher(
        engine, "minilm", embedder=embedder, ann_directory=data_dir / ANN_DIRECTORY, keywords=ranker
    )
    candidates = [(v, f) for v in variants() for f in fusions()]
    saved, key = CACHE / "ranks.npz", _cache_key(asked, candidates)
    try:
        searcher.warm_up()
        if (why := searcher.semantic_unavailable()) is not None:
            raise BenchError(f"search by meaning is off: {why}")
        with engine.connect() as conn:
            paper_ids = dict(conn.execute(select(papers.c.arxiv_id, papers.c.id)).all())
            if reuse and saved.is_file() and str(np.load(saved)["key"]) == key:
                print(f"  reusing the offline ranks of the previous run ({saved})")
                ranks = np.load(saved)["ranks"]
            else:
                ranks = _offline_ranks(searcher, ranker, conn, asked, paper_ids, len(candidates))
                CACHE.mkdir(parents=True, exist_ok=True)
                np.savez(saved, ranks=ranks, key=np.array(key))
        ranker.weights = Weights()  # the product's own search, with the defaults of the code
        product = np.array([_product_rank(searcher, a, paper_ids) for a in asked], np.int16)
    finally:
        searcher.close()
        engine.dispose()
    words = np.array([content_words(a.text) for a in asked])
    return Collected(candidates, ranks, words, product, product_candidate())


def _cache_key(asked: Sequence[Asked], candidates: Sequence[Any]) -> str:
    what = [[a.text, a.arxiv_id] for a in asked], candidates, LEXICAL_DEPTH, SEMANTIC_DEPTH, MIN_SIMILARITY
    return hashlib.sha256(json.dumps(what).encode()).hexdigest()


def _offline_ranks(
    searcher: Any, ranker: Any, conn: Any, asked: Sequence[Asked], paper_ids: dict[str, int], width: int
) -> np.ndarray:
    """[query, candidate]: the target's rank within the first page (0: not on it)."""
    from paperboy.domain.search_query import parse_search_query

    ranks = np.zeros((len(asked), width), np.int16)
    for n, item in enumerate(asked):
        query = parse_search_query(item.text)
        near = searcher.meaning.nearest(conn, query, SEMANTIC_DEPTH)
        if near is None:
            raise BenchError("search by meaning did not answer")
        kept = [i for i, s in enumerate(near[1]) if s >= MIN_SIMILARITY]
        semantic = ([near[0][i] for i in kept], [near[1][i] for i in kept])
        target = paper_ids[item.arxiv_id]
        row: list[int | None] = []
        for variant in variants():
            row += _fused_ranks(_keyword_ranking(ranker, conn, query, variant), semantic, target)
        ranks[n] = [r if r is not None and r <= PAGE else 0 for r in row]
        if n % 100 == 99:
            print(f"  {n + 1} of {len(asked)} queries ranked", flush=True)
    return ranks


def _keyword_ranking(ranker: Any, conn: Any, query: Any, variant: Variant) -> tuple[list[int], list[float]]:
    """The keyword index's ranking for one variant, as Searcher._keyword_ranking asks it (these
    queries have no filters): all words, then any word when none match all (or any word from
    the start)."""
    title, authors, rule = variant
    ranker.weights = Weights(title=title, authors=authors)
    hits = ranker.search(conn, query, LEXICAL_DEPTH, all_words=rule != "any")
    if hits is not None and not hits.ids and rule != "any" and len(query.terms) + len(query.phrases) > 1:
        hits = ranker.search(conn, query, LEXICAL_DEPTH, all_words=False)
    if hits is None:
        raise BenchError(f"the keyword index did not answer {query!r}")
    return hits.ids, hits.scores


def _fused_ranks(lexical: Any, semantic: Any, target: int) -> list[int | None]:
    found = pair(lexical, semantic, target)
    ranks: dict[Fusion, int | None] = {("lexical",): single_rank(lexical, target)}
    ranks[("semantic",)] = single_rank(semantic, target)
    mm = [("min_max", w) for w in MIN_MAX]
    ranks.update(zip(mm, min_max_ranks(found, [(w, round(1 - w, 2)) for w in MIN_MAX]), strict=True))
    rrf = [("rrf", k, w) for k in RRF_K for w in RRF_WEIGHT]
    ranks.update(zip(rrf, rrf_ranks(found, [(float(k), w, round(1 - w, 2)) for _, k, w in rrf]), strict=True))
    return [ranks[f] for f in fusions()]


def _product_rank(searcher: Any, item: Asked, paper_ids: dict[str, int]) -> int:
    page = searcher.search(item.text, mode="hybrid", page_size=PAGE)
    if "semantic" not in page.used:
        raise BenchError(f"the product's hybrid search did not search by meaning: {page.notice}")
    found = [hit.paper.arxiv_id for hit in page.hits]
    return found.index(item.arxiv_id) + 1 if item.arxiv_id in found else 0


def content_words(text: str) -> int:
    """The distinct words of a query that are not stop words, and its quoted phrases."""
    from paperboy.domain.search_query import parse_search_query
    from paperboy.storage.lexical import STOP_WORDS

    query = parse_search_query(text)
    return len({t.lower() for t in query.terms} - STOP_WORDS) + len(query.phrases)


def product_candidate() -> tuple[Variant, Fusion]:
    """The candidate the defaults in the code name."""
    from paperboy.services.search import DEFAULT_TUNING

    weights, tuning = Weights(), DEFAULT_TUNING
    rule = "all, then any"
    if tuning.fusion == "min_max":
        fusion: Fusion = ("min_max", tuning.lexical_weight)
    else:
        fusion = ("rrf", int(tuning.rrf_k), tuning.lexical_weight)
    return (weights.title, weights.authors, rule), fusion


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bench.questions_tuning", description=__doc__)
    add_questions_argument(parser)
    parser.add_argument(
        "--no-known-items",
        dest="known_items",
        action="store_false",
        help="the questions only (no known items)",
    )
    parser.add_argument(
        "--reuse",
        action="store_true",
        help="reuse the offline ranks of the last run (same queries, same grid); the product is asked again",
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    return run_standalone("questions_tuning", "questions-tuning-", lambda: run(args))


if __name__ == "__main__":
    sys.exit(main())
