"""`python -m bench.questions_eval [--no-postgres]`: the hand-written questions of
bench/questions/*.jsonl asked of the product's search service as a reader gets it, beside a plain
BM25 (issue 14, "an honest question benchmark"; the "before" figures of its targets).

The service: `services.search.Searcher` with the default tuning (`DEFAULT_TUNING`), the real MiniLM
embedder for the query vectors and the shared reference MiniLM vectors as the papers' vectors,
built as `app.py` builds it (with the approximate vector index `paperboy index` leaves at this
size), over the 74,728 papers imported by `paperboy import`. SQLite: the database of
bench/search_speed (cached in bench/.cache/search-speed/real, built when missing); PostgreSQL, when
PAPERBOY_BENCH_POSTGRES_URL names a server: a fresh import into a throw-away database, the same
vectors stored and the same index built (about 2 minutes more), dropped at the end.

Each question is one `Searcher.search(text, mode=…)` call for the first page of results the
search page shows (20 hits, hydrated and highlighted), in lexical, semantic and hybrid mode, one
at a time, after 10 untimed ones; a search whose mode could not run (search by meaning off) stops
the benchmark rather than measuring keywords twice. The baseline: bm25s over title + abstract,
stemmed by PyStemmer (English), no field weights (bench/lexical_engines/engines.py), asked for its
top 20 in the same process.

Reported per half, ranking and database: MRR (of the one target within the top 20, 0 when absent),
R@1, R@5, R@10, and latency p50 / p99 per query. The test half is the measure; the tuning half is
printed, labelled, for the tuning that comes next (nothing here is tuned). Questions longer than the
search box's 250 characters are cut at a word boundary (bench/lexical_engines/queries.py).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from bench import postgres
from bench.common import ARXIV_DIR, BenchError, find_corpus, format_table, run_standalone, section
from bench.known_item import check_agreement, corpus_rows
from bench.lexical_engines import latency_ms, quality
from bench.lexical_engines.engines import bm25s_engine, import_corpus
from bench.lexical_engines.queries import TEST, TUNING, Query, add_questions_argument, questions
from bench.reference_vectors import MODEL, store_reference_vectors
from bench.workspace import POSTGRES, SQLITE, Workspace

MODES = ("lexical", "semantic", "hybrid")
PAGE = 20  # the search page's first page (web/search.py PAGE_SIZE): what a reader sees
WARM_UP = 10
BASELINE = "plain BM25 (bm25s)"
HALVES = (TEST, TUNING)

Ask = Callable[[str], list[str]]  # question -> arXiv ids, best first


def run(args: argparse.Namespace) -> dict[str, Any]:
    rows = corpus_rows()
    known = {row["id"] for row in rows}
    asked: dict[str, list[Query]] = {}
    notes = []
    for half in HALVES:
        asked[half], note = questions(args.questions, known, half)
        if not asked[half]:
            raise BenchError(note)
        notes.append(note)
    section(f"Questions to the product's search, {len(rows):,} papers, first page of {PAGE}")
    print(f"  {'; '.join(notes)}")
    print(f"  load average at start: {' '.join(f'{x:.1f}' for x in os.getloadavg())}", flush=True)

    from paperboy.integrations.embedder import MiniLMEmbedder

    embedder = MiniLMEmbedder()
    agreement = check_agreement(rows, embedder)
    print(f"  the product's MiniLM vs the reference vectors: min cosine {agreement:.5f} (needs ≥ 0.99)")
    if agreement < 0.99:
        raise BenchError("the reference vectors disagree with the product's embedder; not using them")
    results: dict[str, Any] = {"papers": len(rows), "page": PAGE, "questions": notes, "agreement": agreement}
    figures: dict[str, dict[str, Any]] = {}  # "database ranking" -> half -> figures

    from bench.search_speed.corpora import prepare_real

    prepared = prepare_real(find_corpus(), threads=2)
    url = f"sqlite:///{prepared.data_dir / 'paperboy.sqlite3'}"
    figures |= product_rows(SQLITE, url, prepared.data_dir, embedder, asked)

    if args.postgres:
        figures |= postgres_rows([row["id"] for row in rows], embedder, asked, results)
    else:
        print("  PostgreSQL skipped (--no-postgres)")

    records = [(row["title"], row["abstract"]) for row in rows]
    with tempfile.TemporaryDirectory(prefix="questions-bm25s-") as folder:
        built = bm25s_engine(Path(folder) / "bm25s", records, [row["id"] for row in rows])
        figures[BASELINE] = measure(lambda text: built.search(text, PAGE), asked)

    results["rankings"] = figures
    for half in HALVES:
        print_table(figures, half)
    return results


def product_rows(
    label: str, url: str, data_dir: Path, embedder: Any, asked: dict[str, list[Query]]
) -> dict[str, dict[str, Any]]:
    """Each mode of the product's search on the database at `url`, as `app.py` builds it (the
    keyword index built first, as `serve`'s warm-up does), then lexical and hybrid again the way
    they ranked before the keyword index: the database's full-text index alone."""
    from paperboy.services.keyword_ranker import KeywordRanker
    from paperboy.services.search import Searcher
    from paperboy.services.vector_index import ANN_DIRECTORY
    from paperboy.storage.engine import make_engine

    engine = make_engine(url)
    found = {}
    with tempfile.TemporaryDirectory(prefix="questions-keywords-") as folder:
        keywords = KeywordRanker(engine, Path(folder) / "keywords")
        started = time.perf_counter()
        keywords.refresh()
        print(f"  {label}: keyword index built in {time.perf_counter() - started:.1f} s", flush=True)
        after = Searcher(
            engine, "minilm", embedder=embedder, ann_directory=data_dir / ANN_DIRECTORY, keywords=keywords
        )
        before = Searcher(engine, "minilm", embedder=embedder, ann_directory=data_dir / ANN_DIRECTORY)
        try:
            for searcher, suffix, modes in (
                (after, "", MODES),
                (before, " (before: database index)", ("lexical", "hybrid")),
            ):
                searcher.warm_up()
                if (why := searcher.semantic_unavailable()) is not None:
                    raise BenchError(f"{label}: search by meaning is off: {why}")
                for mode in modes:
                    name = f"{label} {mode}{suffix}"
                    found[name] = measure(_asker(searcher, mode, name), asked)
                    print(f"  {name}: measured", flush=True)
        finally:
            after.close()
            before.close()
    engine.dispose()
    return found


def _asker(searcher: Any, mode: str, name: str) -> Ask:
    def ask(text: str) -> list[str]:
        page = searcher.search(text, mode=mode, page_size=PAGE)
        if mode != "lexical" and "semantic" not in page.used:
            raise BenchError(f"{name}: search by meaning did not answer: {page.notice}")
        return [hit.paper.arxiv_id for hit in page.hits]

    return ask


def postgres_rows(
    arxiv_ids: Sequence[str], embedder: Any, asked: dict[str, list[Query]], results: dict[str, Any]
) -> dict[str, dict[str, Any]]:
    """The same on a fresh PostgreSQL import (a throw-away database), when a server is named."""
    pg_admin, pg_note = postgres.admin_url()
    if not pg_admin:
        print(f"  {pg_note}")
        return {}
    with Workspace(pg_admin) as ws:
        target = ws.fresh(POSTGRES)
        print("  PostgreSQL: paperboy import, reference vectors, approximate index …", flush=True)
        started = time.perf_counter()
        papers, listings = ARXIV_DIR / "papers.jsonl.gz", ARXIV_DIR / "listings.tsv.gz"
        import_corpus(target, papers, listings, ws.log_dir("import"))
        data_dir = Path(target.env["PAPERBOY_DATA_DIR"])
        _vectors_and_index(target.url, arxiv_ids, data_dir)
        results["postgres_prepare_s"] = time.perf_counter() - started
        print(f"  PostgreSQL: ready in {results['postgres_prepare_s']:.0f} s", flush=True)
        return product_rows(POSTGRES, target.url, data_dir, embedder, asked)


def _vectors_and_index(url: str, arxiv_ids: Sequence[str], data_dir: Path) -> None:
    """The reference vectors stored and the approximate index built, as `paperboy index` would."""
    from paperboy.config import SETTINGS
    from paperboy.services.vector_index import ANN_DIRECTORY, update_ann_index
    from paperboy.storage.engine import make_engine

    store_reference_vectors(url, arxiv_ids)
    threshold = next(s.default for s in SETTINGS if s.name == "vector_ann_threshold")
    engine = make_engine(url)
    try:
        print(f"  {update_ann_index(engine, MODEL, data_dir / ANN_DIRECTORY, threshold, threads=2)}")
    finally:
        engine.dispose()


def measure(ask: Ask, asked: dict[str, list[Query]]) -> dict[str, Any]:
    """Latency and rank quality of `ask` on each half, after WARM_UP untimed questions."""
    for query in asked[TEST][:WARM_UP]:
        ask(query.text)
    by_half = {}
    for half in HALVES:
        seconds, ranks = [], []
        for query in asked[half]:
            started = time.perf_counter()
            found = ask(query.text)
            seconds.append(time.perf_counter() - started)
            ranks.append(found.index(query.target) + 1 if query.target in found else None)
        by_half[half] = {"n": len(ranks), **latency_ms(seconds), **quality(ranks)}
    return by_half


def print_table(figures: dict[str, dict[str, Any]], half: str) -> None:
    title = "TEST half (the measure)" if half == TEST else "TUNING half (for tuning next; not the measure)"
    headers = ["ranking", "n", "MRR", "R@1", "R@5", "R@10", "p50 ms", "p99 ms"]
    lines = []
    for name, by_half in figures.items():
        m = by_half[half]
        rates = [f"{m[key]:.3f}" for key in ("mrr", "r@1", "r@5", "r@10")]  # 1/122 = 0.008
        lines.append([name, m["n"], *rates, m["p50_ms"], m["p99_ms"]])
    print(f"\n{title}, MRR within the first {PAGE}:\n")
    print(format_table(headers, lines), flush=True)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bench.questions_eval", description=__doc__)
    add_questions_argument(parser)
    parser.add_argument(
        "--no-postgres",
        dest="postgres",
        action="store_false",
        help="skip PostgreSQL even when PAPERBOY_BENCH_POSTGRES_URL is set",
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    return run_standalone("questions_eval", "questions-eval-", lambda: run(args))


if __name__ == "__main__":
    sys.exit(main())
