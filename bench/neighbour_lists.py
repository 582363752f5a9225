"""Every paper's ten nearest computed for the whole corpus (services/paper_neighbours.py), as
`paperboy index` does after building the vector index: exactly (every vector in memory, a matrix
product per block of papers: the product's path up to paper_neighbours.EXACT_UP_TO) against the
approximate index's graph (the path above it, and every site's path before).

On the SQLite database of the imported corpus with the reference vectors: the graph built as
`paperboy index` builds it, then `update_paper_neighbours` timed in full on the exact path, and
the graph's lists timed on `--neighbours-sample` random papers (0: every paper, ~15-30 min on
two cores), with the exact and graph time per paper on that same sample and the graph's
recall@10 against the exact lists.
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path
from typing import Any

import numpy as np

from bench.common import Corpus, format_table, section
from bench.import_speed import imported_database
from bench.reference_vectors import MODEL, embed_beforehand
from bench.workspace import SQLITE, Workspace

SEED = 15


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--neighbours-sample",
        type=int,
        default=5000,
        help="neighbours: papers whose lists the graph computes (0: every paper, the full run)",
    )


def run(ws: Workspace, corpus: Corpus, args: argparse.Namespace) -> dict[str, Any]:
    from paperboy.services.vector_index import build_ann_index
    from paperboy.storage.engine import make_engine

    section("Neighbour lists (issue 15): exact blocked product against the approximate index's graph")
    target = imported_database(ws, corpus, SQLITE)
    print(f"  {embed_beforehand(target, corpus)}", flush=True)
    directory = Path(target.env["PAPERBOY_DATA_DIR"]) / "vectors"
    engine = make_engine(target.url)
    try:
        started = time.perf_counter()
        build_ann_index(engine, MODEL, directory)
        print(f"  graph built in {time.perf_counter() - started:.0f} s", flush=True)
        result = _measure(engine, directory, args.neighbours_sample)
    finally:
        engine.dispose()
    result["load_average"] = os.getloadavg()
    _print(result)
    return result


def _measure(engine: Any, directory: Path, sample: int) -> dict[str, Any]:
    from paperboy.services.paper_neighbours import update_paper_neighbours
    from paperboy.services.vector_index import VectorIndex
    from paperboy.storage.vectors import load_vector_versions

    with engine.connect() as conn:
        ids, _ = load_vector_versions(conn, MODEL)
    exact = update_paper_neighbours(engine, MODEL, directory)
    picked = (
        ids if sample <= 0 or sample >= len(ids) else np.random.default_rng(SEED).choice(ids, sample, False)
    )
    answers: dict[str, dict[int, tuple[list[int], list[float]]]] = {}
    seconds: dict[str, float] = {}
    for name, where in (("exact", None), ("graph", directory)):
        index = VectorIndex(engine, MODEL, directory=where, refresh_seconds=float("inf"))
        try:
            index.refresh()
            started = time.perf_counter()
            answers[name] = {}
            for start in range(0, len(picked), 1000):  # paper_neighbours.BATCH
                answers[name] |= index.compute_neighbours(picked[start : start + 1000].tolist(), 10)
            seconds[name] = time.perf_counter() - started
        finally:
            index.close()
    found = sum(
        len(set(answers["exact"][p][0]) & set(answers["graph"].get(p, ([], []))[0])) for p in answers["exact"]
    )
    return {
        "papers": len(ids),
        "exact_full_s": exact.seconds,
        "exact_full_lists": exact.computed,
        "sample": len(picked),
        "exact_sample_s": seconds["exact"],
        "graph_sample_s": seconds["graph"],
        "graph_full_estimate_s": seconds["graph"] * len(ids) / len(picked),
        "graph_recall_at_10": found / (10 * len(answers["exact"])),
    }


def _print(r: dict[str, Any]) -> None:
    per = 1000 / r["sample"]
    rows: list[list[object]] = [
        ["every list, exact (update_paper_neighbours)", r["exact_full_s"], None],
        [f"{r['sample']:,} lists, exact", r["exact_sample_s"], r["exact_sample_s"] * per],
        [f"{r['sample']:,} lists, graph", r["graph_sample_s"], r["graph_sample_s"] * per],
        ["every list, graph (from the sample)", r["graph_full_estimate_s"], None],
    ]
    print(format_table(["what", "s", "ms a paper"], rows))
    print(f"  {r['papers']:,} papers; graph recall@10 against exact: {r['graph_recall_at_10']:.5f}")
    print("  load average (1, 5, 15 min) at the end: {:.2f} {:.2f} {:.2f}".format(*r["load_average"]))
