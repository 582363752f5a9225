"""`python -m bench.known_item`: known-item search on the real arXiv corpus — can a reader who
remembers a paper find it? — for the lexical, semantic and fused rankings of the product's own
search service (services/search.py), side by side; each twice: with the database's FTS5 index
ranking the words (before) and with the keyword index (services/keyword_ranker.py, after; built in
memory, passed to the Searcher as app.py does).

The corpus: the 74,728 papers of ../shared/data/arxiv imported with `paperboy import` into a SQLite
database (cached in bench/.cache/known-item/, rebuilt when missing), with the reference MiniLM
embeddings of ../shared/data/arxiv/minilm-l6-v2.f16.npy stored as the papers' vectors (computing
them takes 40 minutes on 2 cores). Before using them, the product's own embedder must agree with
them on a sample (cosine ≥ 0.99), as the data's README asks.

The queries, written from the abstracts by fixed rules (seeded sample of papers, so every run asks
the same questions):
- **keywords**: the four rarest words of the abstract that are not in the title and occur in at
  least 3 papers (a reader who remembers distinctive terms);
- **gist**: 8 to 12 consecutive content words from the middle of the abstract (the sentence with
  the most of them), every third one left out (a reader who remembers what the paper said, not
  its exact words).
Each query has one right answer: the paper it was written from. Reported: MRR (reciprocal rank of
that paper within the first 100, 0 when absent) and recall@10, on a development half (to choose
the fusion) and a test half (to report), per query type.

What the figures cannot say: both kinds of query are made of the target's own words, chosen by
rules that favour what tells it apart, so they cannot stand for a reader's memory of a paper (a
reader forgets the rare words and paraphrases). They check that fusion does not drag a
distinctive-term query down; issue 9 brings a set of questions people ask. CAVEAT is printed
with the figures.
"""

from __future__ import annotations

import argparse
import gzip
import json
import random
import re
import statistics
import sys
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from bench.common import ARXIV_DIR, REPO_ROOT, child_env, paperboy_command, run_measured
from bench.reference_vectors import REFERENCE, store_reference_vectors

CACHE = REPO_ROOT / "bench" / ".cache" / "known-item"
DEPTH = 100
SAMPLE = 400
SEED = 20261128
_WORD = re.compile(r"[A-Za-z][A-Za-z-]{2,}")
STOPWORDS = frozenset(
    """about above after again against also among an and any are as at be because been before being
    below between both but by can could did do does doing down during each few for from further had
    has have having here how however if in into is it its itself just more most no nor not now of off
    on once only or other our out over own same she should so some such than that the their them
    then there these they this those through thus to too under until up very via was we were what
    when where which while who whom why will with within without would yet you your paper propose
    proposed show shows present novel approach method methods results based using use used new
    two one three first second work study""".split()  # noqa: SIM905 (a readable block of words)
)


# Printed with the figures, wherever they are shown: what they can and cannot stand for.
CAVEAT = (
    "caveat: these queries are built from each target's own words (its rarest abstract words, or a run "
    "of its content words), so they cannot stand for a reader's memory of a paper; they check that "
    "fusion does not drag a distinctive-term query below its lexical rank. A set of questions people "
    "ask comes with issue 9."
)


@dataclass(frozen=True, slots=True)
class KnownItem:
    kind: str  # "keywords" or "gist"
    text: str
    arxiv_id: str


def corpus_rows() -> list[dict[str, Any]]:
    with gzip.open(ARXIV_DIR / "papers.jsonl.gz", "rt", encoding="utf-8") as lines:
        return [json.loads(line) for line in lines]


def build_database(rows: Sequence[dict[str, Any]]) -> str:
    """The imported corpus with the reference vectors, built once into the cache folder."""
    db = CACHE / "paperboy.sqlite3"
    done = CACHE / "complete"
    url = f"sqlite:///{db}"
    if done.exists():
        return url
    CACHE.mkdir(parents=True, exist_ok=True)
    db.unlink(missing_ok=True)
    print("known-item: importing the corpus (once; cached in bench/.cache/known-item)", file=sys.stderr)
    env = child_env(PAPERBOY_DATABASE_URL=url, PAPERBOY_DATA_DIR=str(CACHE / "data"))
    listings = ARXIV_DIR / "listings.tsv.gz"
    measured = run_measured(
        paperboy_command("import", str(ARXIV_DIR / "papers.jsonl.gz"), "--listings", str(listings)),
        env,
        CACHE / "import-log",
    )
    if measured.returncode != 0:
        raise SystemExit(f"known-item: import failed: {measured.stderr[-500:]}")
    store_reference_vectors(url, [row["id"] for row in rows])
    done.write_text("ok\n")
    return url


def check_agreement(rows: Sequence[dict[str, Any]], embedder: Any, sample: int = 24) -> float:
    """The smallest cosine between the product's embeddings and the reference rows (a sample)."""
    from paperboy.integrations.embedder import paper_text

    picked = random.Random(SEED).sample(range(len(rows)), sample)
    ours = embedder.embed([paper_text(rows[i]["title"], rows[i]["abstract"]) for i in picked])
    reference = np.load(REFERENCE, mmap_mode="r")
    ref = np.asarray(reference[picked], dtype=np.float32)
    ref /= np.linalg.norm(ref, axis=1, keepdims=True)
    return float(np.min(np.sum(ours * ref, axis=1)))


def make_queries(rows: Sequence[dict[str, Any]], n: int = SAMPLE) -> list[KnownItem]:
    """Two queries (keywords, gist) for each of `n` sampled papers with a long enough abstract."""
    df: Counter[str] = Counter()
    for row in rows:
        df.update({w.lower() for w in _WORD.findall(f"{row['title']} {row['abstract']}")})
    rng = random.Random(SEED)
    candidates = [r for r in rows if len(r["abstract"].split()) >= 80]
    items: list[KnownItem] = []
    for row in rng.sample(candidates, n):
        title_words = {w.lower() for w in _WORD.findall(row["title"])}
        words = {w.lower() for w in _WORD.findall(row["abstract"])} - title_words - STOPWORDS
        rare = sorted((w for w in words if df[w] >= 3), key=lambda w: (df[w], w))[:4]
        if len(rare) == 4:
            items.append(KnownItem("keywords", " ".join(rng.sample(rare, 4)), row["id"]))
        gist = _gist(row["abstract"])
        if gist:
            items.append(KnownItem("gist", gist, row["id"]))
    return items


def _gist(abstract: str) -> str | None:
    sentences = [s for s in re.split(r"(?<=[.!?])\s+", abstract) if s]
    middle = sentences[1:-1] or sentences
    best = max(middle, key=lambda s: sum(w.lower() not in STOPWORDS for w in _WORD.findall(s)))
    content = [w for w in _WORD.findall(best) if w.lower() not in STOPWORDS][:12]
    kept = [w for i, w in enumerate(content) if i % 3 != 2]
    return " ".join(kept) if len(kept) >= 5 else None


Fuser = Callable[[dict[str, tuple[list[int], list[float]]]], list[int]]
BEFORE, AFTER = "before: FTS5", "after: keyword index"  # the product's Searcher without and with it
PRODUCT = "product (default Tuning)"  # services/search.DEFAULT_TUNING's fusion, at this depth
TARGET_MRR = {"keywords": 0.990, "gist": 0.975}  # the product's hybrid, test half, with FTS5 (docs/search.md)


def fusers() -> dict[str, Fuser]:
    from paperboy.domain.fusion import min_max_fusion, reciprocal_rank_fusion
    from paperboy.services.search import DEFAULT_TUNING

    def only(name: str) -> Fuser:
        return lambda r: list(r.get(name, ([], []))[0])

    def rrf(k: float, w: float) -> Fuser:
        return lambda r: reciprocal_rank_fusion([r["lexical"], r["semantic"]], k=k, weights=[w, 1 - w])[0]

    def min_max(w: float) -> Fuser:
        return lambda r: min_max_fusion([r["lexical"], r["semantic"]], weights=[w, 1 - w])[0]

    found: dict[str, Fuser] = {"lexical": only("lexical"), "semantic": only("semantic")}
    tuning = DEFAULT_TUNING
    weights = (tuning.lexical_weight, tuning.semantic_weight)
    if tuning.fusion == "min_max":
        found[PRODUCT] = lambda r: min_max_fusion([r["lexical"], r["semantic"]], weights=weights)[0]
    else:
        found[PRODUCT] = lambda r: reciprocal_rank_fusion(
            [r["lexical"], r["semantic"]], k=tuning.rrf_k, weights=weights
        )[0]
    for k in (10, 30, 60):
        for w in (0.5, 0.6, 0.7):
            found[f"rrf k={k} w_lex={w}"] = rrf(k, w)
    for w in (0.3, 0.4, 0.5, 0.6, 0.7):
        found[f"min-max w_lex={w}"] = min_max(w)
    return found


def evaluate(
    rankings: list[dict[str, tuple[list[int], list[float]]]], targets: list[int], fuse: Fuser
) -> tuple[float, float]:
    reciprocal, hits = [], []
    for ranking, target in zip(rankings, targets, strict=True):
        ids = fuse(ranking)[:DEPTH]
        rank = ids.index(target) + 1 if target in ids else None
        reciprocal.append(1 / rank if rank else 0.0)
        hits.append(1.0 if rank and rank <= 10 else 0.0)
    return statistics.fmean(reciprocal), statistics.fmean(hits)


Rankings = list[dict[str, tuple[list[int], list[float]]]]  # per query: ranker -> (ids, scores)


def run(quick: bool = False, reuse: bool = False) -> dict[str, Any]:
    from sqlalchemy import select

    from paperboy.integrations.embedder import MiniLMEmbedder
    from paperboy.storage.engine import make_engine
    from paperboy.storage.schema import papers

    rows = corpus_rows()
    url = build_database(rows)
    embedder = MiniLMEmbedder()
    agreement = check_agreement(rows, embedder)
    print(f"known-item: product embeddings vs reference rows, min cosine {agreement:.5f} (needs ≥ 0.99)")
    if agreement < 0.99:
        raise SystemExit("known-item: the reference embeddings disagree with the product's; not using them")
    items = make_queries(rows, 60 if quick else SAMPLE)
    engine = make_engine(url)
    with engine.connect() as conn:
        ids = dict(conn.execute(select(papers.c.arxiv_id, papers.c.id)).all())
    try:
        by_side, timings = searcher_rankings(engine, embedder, [item.text for item in items], reuse)
    finally:
        engine.dispose()
    targets = [ids[item.arxiv_id] for item in items]
    results: dict[str, Any] = {
        "agreement_min_cosine": agreement,
        "queries": len(items),
        "caveat": CAVEAT,
        "by_fusion": {
            side: figures_by_fusion(rankings, items, targets) for side, rankings in by_side.items()
        },
        "rankings_ms_median": timings,
    }
    print(f"\nknown-item search, {len(items)} queries from {len(set(targets))} papers (depth {DEPTH})")
    for side, by_fusion in results["by_fusion"].items():
        print_fusion_table(side, by_fusion)
    print_before_after(results["by_fusion"])
    for side, median_ms in timings.items():
        print(f"rankings per query, {side} (lexical + semantic, depth {DEPTH}): median {median_ms:.1f} ms")
    print(f"\n{CAVEAT}")
    return results


def searcher_rankings(
    engine: Any, embedder: Any, texts: list[str], reuse: bool
) -> tuple[dict[str, Rankings], dict[str, float]]:
    """Each query's lexical and semantic rankings from the product's Searcher without the keyword
    index (BEFORE: the database's FTS5 ranks the words) and with it (AFTER, as app.py builds it;
    in memory, built first), semantic neighbours below the similarity floor dropped as the product
    does; and the median ms per query of each (none when the saved rankings are reused)."""
    from paperboy.services.keyword_ranker import KeywordRanker
    from paperboy.services.search import DEFAULT_TUNING, Searcher

    saved = CACHE / "rankings.json"
    if reuse and saved.exists() and json.loads(saved.read_text())["texts"] == texts:
        print("known-item: reusing the rankings of the previous run (--reuse-rankings)")
        stored = json.loads(saved.read_text())["rankings"]
        by_side = {
            side: [{k: (v[0], v[1]) for k, v in r.items()} for r in runs] for side, runs in stored.items()
        }
        return {side: above_floor(runs, DEFAULT_TUNING.min_similarity) for side, runs in by_side.items()}, {}
    keywords = KeywordRanker(engine, None)
    searchers = {
        BEFORE: Searcher(engine, "minilm", embedder=embedder),
        AFTER: Searcher(engine, "minilm", embedder=embedder, keywords=keywords),
    }
    by_side, timings = {}, {}
    try:
        started = time.perf_counter()
        keywords.refresh()
        print(f"known-item: keyword index built in memory in {time.perf_counter() - started:.1f} s")
        for side, searcher in searchers.items():
            by_side[side], times = [], []
            for text in texts:
                started = time.perf_counter()
                by_side[side].append(searcher.rankings(text, DEPTH))
                times.append(time.perf_counter() - started)
            timings[side] = statistics.median(times) * 1000
    finally:
        for searcher in searchers.values():
            searcher.close()
    saved.write_text(json.dumps({"texts": texts, "rankings": by_side}))
    return {side: above_floor(runs, DEFAULT_TUNING.min_similarity) for side, runs in by_side.items()}, timings


def above_floor(rankings: Rankings, floor: float) -> Rankings:
    """As the product does: semantic neighbours below the similarity floor are not results."""
    kept = []
    for ranking in rankings:
        ids_, scores = ranking.get("semantic", ([], []))
        at = [i for i, score in enumerate(scores) if score >= floor]
        kept.append({**ranking, "semantic": ([ids_[i] for i in at], [scores[i] for i in at])})
    return kept


def figures_by_fusion(
    rankings: Rankings, items: Sequence[KnownItem], targets: list[int]
) -> dict[str, dict[str, dict[str, float]]]:
    """Every fusion's MRR and recall@10 per kind of query and half: fusion -> "kind_half" -> figures."""
    by_fusion: dict[str, dict[str, dict[str, float]]] = {}
    for name, fuse in fusers().items():
        figures = {}
        for kind in ("keywords", "gist"):
            of_kind = [i for i, item in enumerate(items) if item.kind == kind]
            for half, parity in (("dev", 0), ("test", 1)):
                chosen = of_kind[parity::2]
                mrr, recall = evaluate([rankings[i] for i in chosen], [targets[i] for i in chosen], fuse)
                figures[f"{kind}_{half}"] = {"mrr": mrr, "recall@10": recall, "n": len(chosen)}
        by_fusion[name] = figures
    return by_fusion


def print_fusion_table(side: str, by_fusion: dict[str, dict[str, dict[str, float]]]) -> None:
    print(f"\nlexical ranking {side}\n")
    halves = [f"{kind}_{half}" for kind in ("keywords", "gist") for half in ("dev", "test")]
    print(f"| {'ranking':<26} | " + " | ".join(f"{h.replace('_', ' ')} MRR | R@10" for h in halves) + " |")
    print("|" + "---|" * (1 + 2 * len(halves)))
    for name, figures in by_fusion.items():
        cells = [f"{figures[h]['mrr']:.3f} | {figures[h]['recall@10']:.3f}" for h in halves]
        print(f"| {name:<26} | " + " | ".join(cells) + " |")


def print_before_after(by_side: dict[str, dict[str, dict[str, dict[str, float]]]]) -> None:
    """The product's lexical, semantic and hybrid rankings before and after, test half."""
    print(f"\ntest half, MRR / R@10: {BEFORE} → {AFTER}\n")
    print("| ranking | keywords before | keywords after | gist before | gist after |")
    print("|---|---|---|---|---|")
    before, after = by_side[BEFORE], by_side[AFTER]
    for name in ("lexical", "semantic", PRODUCT):
        cells = [
            f"{side[name][f'{kind}_test']['mrr']:.3f} / {side[name][f'{kind}_test']['recall@10']:.3f}"
            for kind in ("keywords", "gist")
            for side in (before, after)
        ]
        print(f"| {name} | " + " | ".join(cells) + " |")
    hybrid = after[PRODUCT]
    for kind, target in TARGET_MRR.items():
        mrr = hybrid[f"{kind}_test"]["mrr"]
        reached = "reached" if mrr >= target else "NOT reached"
        print(f"target: {PRODUCT} {AFTER}, {kind} test MRR ≥ {target} (before the keyword index): {reached}")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="60 papers instead of 400")
    parser.add_argument(
        "--reuse-rankings", action="store_true", help="fuse the rankings saved by the last run again"
    )
    args = parser.parse_args(argv)
    run(quick=args.quick, reuse=args.reuse_rankings)
    return 0


if __name__ == "__main__":
    sys.exit(main())
