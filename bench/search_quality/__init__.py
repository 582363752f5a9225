"""SciFact retrieval quality of paperboy's own search machinery (issue 4; docs/search.md).

    python -m bench.search_quality           # ~10 min on 2 cores, plus embedding once (cached)
    python -m bench.search_quality --quick   # a subset, for a smoke test
    python -m bench search_quality           # the same, through the benchmark runner

The package reads in the order it runs: `catalogue` (SciFact in a real database), `rankers` (every
claim ranked), `latency`, `prepare` (all of that, once), `tuning` and `measures` (the fusion grid
on train), `evaluate` (the figures) and `report` (the tables).

Method:

- The 5,183 SciFact abstracts are written into a fresh, migrated paperboy SQLite database with
  `storage.papers.upsert_papers` (synthetic arXiv ids 2001.00001…, mapped back to SciFact ids),
  which fills the FTS5 index as on any write. They are embedded with the product's MiniLM embedder
  (cached in bench/.cache/ by a hash of model and texts), stored with `store_embeddings` and read
  back with `load_vectors` (float16 round trip included).
- Each claim is parsed by `parse_search_query`; a claim the parser rejects, or reads as filters or
  exclusions, is searched as plain words instead, and the counts are shown.
- Rankers: lexical = the product's, the keyword index (services/keyword_ranker.KeywordRanker over
  the catalogue, in memory, through Searcher's lexical side: all words, then any word when none
  match all); before it, FTS5's `search_lexical` (the same rule) and variants of that (any word
  from the start, English stop words dropped, other bm25 column weights); semantic =
  `domain.vectors.nearest` on the query's MiniLM vector; hybrid = `domain.fusion`'s
  `reciprocal_rank_fusion` or `min_max_fusion` of both, each cut to a candidate depth.
- Fusion kind, RRF k, the lexical weight (semantic = 1 - it) and the depths are chosen on the 809
  train queries only (best mean nDCG@10), for each lexical ranking, and the lexical ranking with
  the best hybrid; the 300 test queries are then scored once with nDCG@10 and recall@100 (BEIR's
  definitions, bench/retrieval_metrics.py) and shown beside the published figures in
  ../shared/data/published_baselines.json.
- Before and after: lexical, semantic, hybrid with services/search.DEFAULT_TUNING (similarity
  floor included) and with the grid's best on train, and the product's Searcher end to end (built
  without keywords, and with keywords=KeywordRanker as app.py builds it), each with FTS5 ranking
  the words and with the keyword index, with the per-query test difference.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any

from bench.common import SHARED, BenchError
from bench.search_quality.catalogue import CACHE_DIR, DATA, load_subset
from bench.search_quality.evaluate import evaluate
from bench.search_quality.prepare import prepare
from bench.search_quality.report import print_report
from paperboy.storage.engine import make_engine

BASELINES = SHARED / "data" / "published_baselines.json"


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
