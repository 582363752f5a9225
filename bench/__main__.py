"""`python -m bench [import] [pages]`: run the benchmarks, print tables, save the figures as JSON."""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable, Sequence
from typing import Any

from bench import (
    alerts,
    api,
    community,
    digest,
    embedding_speed,
    import_speed,
    jobs,
    lexical_engines,
    math_rendering,
    neighbour_lists,
    pages,
    personal,
    postgres,
    rate_limit,
    recommendations,
    render_path,
    scale,
    search_quality,
    search_speed,
    shutdown,
    soak,
    trending_calibration,
)
from bench.common import BenchError, Corpus, find_corpus, save_results
from bench.facts import machine_facts, print_header
from bench.workspace import Workspace

Benchmark = Callable[[Workspace, Corpus, argparse.Namespace], dict[str, Any]]
BENCHMARKS: dict[str, Benchmark] = {
    "import": lambda ws, corpus, args: import_speed.run(
        ws, corpus, repeats=args.repeats, before=args.import_before
    ),
    "pages": lambda ws, corpus, args: pages.run(ws, corpus, _load(args)),
    "community": lambda ws, corpus, args: community.run(ws, corpus, _load(args)),
    # /api/daily_papers?date= and a day's RSS feed, cold and with ETag revalidation (bench/api.py).
    "api": lambda ws, corpus, args: api.run(ws, corpus, _load(args)),
    # Calibrates the trending gravity on the Hugging Face upvotes (docs/trending.md); no database.
    "trending": lambda ws, corpus, args: trending_calibration.run(),
    # Search latency through /api/v1/search at 74,728 papers (bench/search_speed.py; --million there).
    "search": lambda ws, corpus, args: search_speed.run(corpus, args),
    # SciFact nDCG@10 of lexical, semantic and hybrid search; tunes the fusion (bench/search_quality/).
    "search_quality": lambda ws, corpus, args: search_quality.run(),
    # FTS5, PostgreSQL, tantivy and bm25s on the same queries, in-process (bench/lexical_engines/).
    "lexical_engines": lambda ws, corpus, args: lexical_engines.run(args, ws),
    # `paperboy index`'s embedding loop on the whole corpus, before/after keyset; MiniLM per batch.
    "embedding": lambda ws, corpus, args: embedding_speed.run(ws, corpus, args),
    # One daily edition to 100,000 subscribers through a local SMTP sink (bench/digest.py).
    "digest": lambda ws, corpus, args: digest.run(corpus, args),
    # The API limiter's cost per request, 2-worker accuracy and key churn, old vs new (bench/rate_limit.py).
    "rate_limit": lambda ws, corpus, args: rate_limit.run(ws),
    # Titles and abstracts as MathML, cold and cached; formulas shown as TeX (bench/math_rendering.py).
    "math": lambda ws, corpus, args: math_rendering.run(corpus),
    # `serve` stopping on SIGTERM, 1 and 2 workers, idle and while loading, before/after (bench/shutdown.py).
    "shutdown": lambda ws, corpus, args: shutdown.run(ws, corpus),
    # 256 connections of mixed load with 2,000 members, then a worker SIGKILLed (bench/soak.py).
    "soak": lambda ws, corpus, args: soak.run(ws, corpus, args),
    # Issue 15's table: 0320118 against this checkout, side by side, medians (bench/render_path.py).
    "render_path": lambda ws, corpus, args: render_path.run(ws, corpus, args),
    # Issue 16: "For you" quality offline, author leave-one-out, MRR and recall@10 (bench/recommendations.py).
    "recommendations": lambda ws, corpus, args: recommendations.run(args.quick),
    # Issue 16: alerts for a sync of 1,000 new papers, 10,000 members, 20,000 follows (bench/alerts.py).
    "alerts": lambda ws, corpus, args: alerts.run(corpus),
    # Issue 16: library, hide-seen and For you pages with 10,000 members' saves and marks (bench/personal.py).
    "personal": lambda ws, corpus, args: personal.run(ws, corpus, _load(args), args.gc_ab),
    # Issue 17: the job queue, noop jobs per second with 1 and 4 `paperboy worker`s (bench/jobs.py).
    "jobs": lambda ws, corpus, args: jobs.run(ws.pg_admin),
    # Issue 17: vector search in PostgreSQL (pgvector HNSW) vs the per-host index, 74,728 papers or
    # --scale-papers synthetic ones: recall@10, p50/p99, build time, sizes, RSS (bench/scale.py).
    "scale": lambda ws, corpus, args: scale.run(corpus, args),
    # Issue 15: every paper's ten nearest, exact blocked product vs the graph (bench/neighbour_lists.py).
    "neighbours": lambda ws, corpus, args: neighbour_lists.run(ws, corpus, args),
}


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    unknown = [name for name in args.benchmarks if name not in BENCHMARKS]
    if unknown:
        parser.error(f"unknown benchmark {', '.join(unknown)}; choose from {', '.join(BENCHMARKS)}")
    selected = list(dict.fromkeys(args.benchmarks)) or list(BENCHMARKS)
    try:
        corpus = find_corpus()
    except BenchError as exc:
        print(f"bench: {exc}", file=sys.stderr)
        return 1
    pg_admin, pg_note = postgres.admin_url()
    facts = machine_facts(pg_admin)
    print_header(facts)
    results: dict[str, Any] = {"facts": facts}
    failed = False
    if args.databases == "postgresql" and not pg_admin:
        parser.error(f"--databases postgresql needs {postgres.ENV_VAR}")
    with Workspace(pg_admin, pg_note, only=None if args.databases == "both" else args.databases) as ws:
        for name in selected:
            results[name], ok = _run_one(name, ws, corpus, args)
            failed |= not ok
    print(f"\nresults saved to {save_results(results)}")
    return 1 if failed else 0


def _run_one(name: str, ws: Workspace, corpus: Corpus, args: argparse.Namespace) -> tuple[Any, bool]:
    start = time.perf_counter()
    try:
        result = BENCHMARKS[name](ws, corpus, args)
    except BenchError as exc:
        print(f"bench {name}: could not run: {exc}", file=sys.stderr)
        return {"error": str(exc)}, False
    print(f"({name}: {time.perf_counter() - start:.0f} s)", flush=True)
    return result, not result.get("errors")


def _load(args: argparse.Namespace) -> pages.Load:
    return pages.Load(
        threads=args.threads,
        connections=args.connections,
        duration_s=args.duration,
        workers=args.workers,
        gzip=not args.no_gzip,
    )


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m bench",
        description="paperboy benchmarks on the shared arXiv corpus. PostgreSQL runs too when "
        f"{postgres.ENV_VAR} names an admin URL.",
    )
    parser.add_argument(
        "benchmarks",
        nargs="*",
        metavar="BENCHMARK",
        help=f"which to run: {', '.join(BENCHMARKS)} (default: all)",
    )
    parser.add_argument(
        "--repeats", type=_positive, default=1, help="full imports per database (median when > 1)"
    )
    parser.add_argument(
        "--databases",
        choices=("both", "sqlite", "postgresql"),
        default="both",
        help="which databases the benchmarks that measure both run on (both: PostgreSQL when "
        f"{postgres.ENV_VAR} is set)",
    )
    parser.add_argument("--duration", type=_positive, default=10, help="seconds of wrk load per page")
    parser.add_argument("--threads", type=_positive, default=2, help="wrk threads")
    parser.add_argument("--connections", type=_positive, default=8, help="wrk connections")
    parser.add_argument("--workers", type=_positive, default=2, help="paperboy serve worker processes")
    parser.add_argument(
        "--no-gzip", action="store_true", help="load pages without Accept-Encoding: gzip (uncompressed)"
    )
    parser.add_argument(
        "--gc-ab",
        action="store_true",
        help="personal, render_path: serve with the collector policy off, then on (the gc_freeze "
        "setting), back to back; render_path then compares those instead of before and after",
    )
    parser.add_argument(
        "--import-before",
        metavar="REVISION",
        help="import: also run this git revision's code, alternated with this checkout's, run by run",
    )
    digest.add_arguments(parser)
    embedding_speed.add_arguments(parser)
    soak.add_arguments(parser)
    render_path.add_arguments(parser)
    scale.add_arguments(parser)
    neighbour_lists.add_arguments(parser)
    return parser


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {text}")
    return value


if __name__ == "__main__":
    raise SystemExit(main())
