"""`python -m bench.lexical_engines [--quick] [--million]` (or `python -m bench lexical_engines`):
the lexical engines side by side on the 74,728 papers — the product's FTS5 ranking, the product's
PostgreSQL ranking (when PAPERBOY_BENCH_POSTGRES_URL names a server), tantivy and plain bm25s —
on the same queries, in one process, one query at a time (issue 14, item 2). engines.py says how
each is built and asked.

Queries: the rule-made known items of bench/known_item.py (keywords, gist; 400 papers, 60 with
--quick) and the test half of the hand-written questions in bench/questions/*.jsonl (--questions
DIR), cut to the search box's 250 characters. Each has one target paper. Every engine returns its
top `--depth` (the product's lexical_depth, 1000: what hybrid search fuses).

Per engine: the index's build time and size; per query kind, latency p50 / p99 (in-process,
including the SQL round trip for FTS5 and PostgreSQL, after 20 untimed warm-up queries) and
MRR, R@1, R@5, R@10 of the target. With --million: FTS5 and tantivy over 1,000,000 papers (the
real ones and the synthetic copies of bench/search_speed/synthetic.py), latency only, since a copy
competes with its source; the FTS5 table is the product's, filled directly instead of imported.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Iterator, Sequence
from typing import Any

from bench import postgres
from bench.common import ARXIV_DIR, format_table, run_standalone, section
from bench.known_item import corpus_rows
from bench.lexical_engines.engines import (
    Built,
    bm25s_engine,
    import_corpus,
    keyword_index_engine,
    product_engine,
    rebuild_seconds,
    tantivy_engine,
)
from bench.lexical_engines.queries import QUESTIONS, Query, add_questions_argument, known_items, questions
from bench.workspace import POSTGRES, SQLITE, Workspace
from paperboy.services.search import Tuning

KINDS = ("keywords", "gist", QUESTIONS)
WARM_UP = 20
MILLION_QUERIES = 50  # per kind: FTS5 takes seconds per question at 1M


def run(args: argparse.Namespace, ws: Workspace | None = None) -> dict[str, Any]:
    """The benchmark; `args` as this module's command line gives them (missing ones take their
    defaults, so `python -m bench lexical_engines` works too), in `ws` or a workspace of its own."""
    defaults = vars(_parser().parse_args([]))
    args = argparse.Namespace(**(defaults | {k: v for k, v in vars(args).items() if k in defaults}))
    if ws is not None:
        return _run(args, ws)
    pg_admin, pg_note = postgres.admin_url()
    with Workspace(pg_admin, pg_note) as own:
        return _run(args, own)


def _run(args: argparse.Namespace, ws: Workspace) -> dict[str, Any]:
    rows = corpus_rows()
    ids = [row["id"] for row in rows]
    queries = known_items(rows, 60 if args.quick else 400)
    asked, note = questions(args.questions, set(ids))
    queries += asked
    counts = ", ".join(f"{sum(q.kind == k for q in queries)} {k}" for k in KINDS)
    section(f"Lexical engines, {len(rows):,} papers, top {args.depth}, one query at a time: {counts}")
    print(f"  {note}", flush=True)
    if ws.pg_note:
        print(f"  {ws.pg_note}")
    results: dict[str, Any] = {"papers": len(rows), "depth": args.depth, "questions": note}
    measured = []
    for built in _engines(ws, rows, args):
        try:
            measured.append((built, measure(built, queries, args.depth)))
        finally:
            built.close()
    # Built.build_s of the product's engines is known only once their queries have run.
    results["engines"] = {built.name: _figures(built, by_kind) for built, by_kind in measured}
    print_tables(results["engines"])
    if args.million:
        results["million"] = run_million(ws, rows, queries, args.depth)
    return results


def _engines(ws: Workspace, rows: Sequence[dict[str, Any]], args: argparse.Namespace) -> Iterator[Built]:
    """Each engine built in turn (one in memory at a time); the product's rebuild timed after use."""
    ids = [row["id"] for row in rows]
    records = [(row["title"], row["abstract"]) for row in rows]
    for label, name in ((SQLITE, "FTS5 (product)"), (POSTGRES, "PostgreSQL (product)")):
        if label not in ws.labels():
            continue
        target = ws.fresh(label)
        print(f"  {name}: paperboy import …", flush=True)
        import_s = import_corpus(target, args.papers, args.listings, ws.log_dir("import"))
        print(f"  {name}: imported in {import_s:.0f} s", flush=True)
        built = product_engine(name, target.url)
        yield built
        built.build_s = rebuild_seconds(target.url)
        ws.discard(target)
    yield tantivy_engine(ws.root / "tantivy-2", records, ids)
    yield tantivy_engine(ws.root / "tantivy-1", records, ids, one_field=True)
    authored = [(row["title"], row["abstract"], ", ".join(row.get("authors", ()))) for row in rows]
    yield keyword_index_engine(ws.root / "keyword-index", authored, ids)
    yield bm25s_engine(ws.root / "bm25s", records, ids)


def measure(built: Built, queries: Sequence[Query], depth: int) -> dict[str, Any]:
    for query in queries[:WARM_UP]:
        built.search(query.text, depth)
    by_kind: dict[str, Any] = {}
    for kind in KINDS:
        chosen = [q for q in queries if q.kind == kind]
        if not chosen:
            continue
        seconds, ranks = [], []
        for query in chosen:
            started = time.perf_counter()
            found = built.search(query.text, depth)
            seconds.append(time.perf_counter() - started)
            ranks.append(found.index(query.target) + 1 if query.target in found else None)
        by_kind[kind] = {"n": len(chosen), **latency_ms(seconds), **quality(ranks)}
    print(f"  {built.name}: measured", flush=True)
    return by_kind


def _figures(built: Built, by_kind: dict[str, Any]) -> dict[str, Any]:
    return {"build_s": built.build_s, "size_mib": built.size_mib, "by_kind": by_kind}


def latency_ms(seconds: Sequence[float]) -> dict[str, float]:
    p99 = statistics.quantiles(seconds, n=100, method="inclusive")[98] if len(seconds) > 1 else seconds[0]
    return {"p50_ms": statistics.median(seconds) * 1000, "p99_ms": p99 * 1000}


def quality(ranks: Sequence[int | None]) -> dict[str, float]:
    def within(k: int) -> float:
        return statistics.fmean(1.0 if r and r <= k else 0.0 for r in ranks)

    mrr = statistics.fmean(1 / r if r else 0.0 for r in ranks)
    return {"mrr": mrr, "r@1": within(1), "r@5": within(5), "r@10": within(10)}


def run_million(
    ws: Workspace, rows: Sequence[dict[str, Any]], queries: Sequence[Query], depth: int
) -> dict[str, Any]:
    from bench.lexical_engines.million import million_engines

    section("Lexical engines at 1,000,000 papers (real + synthetic copies), latency only")
    subset = [q for kind in KINDS for q in [q for q in queries if q.kind == kind][:MILLION_QUERIES]]
    found: dict[str, Any] = {}
    for built in million_engines(ws, rows):
        try:
            found[built.name] = _figures(built, measure(built, subset, depth))
        finally:
            built.close()
    print_tables(found, with_quality=False)
    return found


def print_tables(engines: dict[str, Any], with_quality: bool = True) -> None:
    print()
    print(
        format_table(
            ["engine", "build s", "size MiB"], [[n, e["build_s"], e["size_mib"]] for n, e in engines.items()]
        )
    )
    headers = ["engine", "queries", "n", "p50 ms", "p99 ms"]
    headers += ["MRR", "R@1", "R@5", "R@10"] if with_quality else []
    lines = []
    for kind in KINDS:
        for name, engine in engines.items():
            if kind in engine["by_kind"]:
                m = engine["by_kind"][kind]
                line = [name, kind, m["n"], m["p50_ms"], m["p99_ms"]]
                lines.append(line + ([m["mrr"], m["r@1"], m["r@5"], m["r@10"]] if with_quality else []))
    print()
    print(format_table(headers, lines), flush=True)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bench.lexical_engines", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="known items of 60 papers instead of 400")
    parser.add_argument("--million", action="store_true", help="also FTS5 and tantivy at 1,000,000 papers")
    add_questions_argument(parser)
    parser.add_argument(
        "--depth", type=int, default=Tuning().lexical_depth, help="results asked of each engine"
    )
    parser.set_defaults(papers=ARXIV_DIR / "papers.jsonl.gz", listings=ARXIV_DIR / "listings.tsv.gz")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    return run_standalone("lexical_engines", "lexical-engines-", lambda: run(args))
