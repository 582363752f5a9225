"""Search speed through the HTTP API: `python -m bench search` (74,728 papers), or standalone
`python -m bench.search_speed [--million] [--ann-only]`.

What it measures, on `paperboy serve --workers 2` with the real MiniLM embedder (the server embeds
each query) and the page cache off (so every request searches):

- `GET /api/v1/search?q=…&mode=lexical|semantic|hybrid&limit=20` for a fixed list of 200
  realistic queries (170 runs of 2-5 content words cut from real titles with a fixed seed, and 30
  short topical ones such as "diffusion" or "graph neural network"): a *cold* pass, each query
  once on a fresh server, so semantic and hybrid include embedding the query; then wrk cycling
  through the list with one connection (the service time; query vectors are cached by then) and
  with 8 (throughput). Server memory: peak RSS (VmHWM) and PSS summed over the server's processes.
- the embedder alone: abstracts/s over 500 abstracts (median of 3 runs), after checking that it
  agrees with the reference embeddings of 50 sampled papers (cosine ≥ 0.99).
- at 1,000,000 papers (`--million`): the same, plus the approximate index's build time, and
  in-process recall@10 and latency of `VectorIndex` against exact search.

The corpora: the real 74,728 papers imported with `paperboy import` (listings included), with the
reference embeddings (`minilm-l6-v2.f16.npy`, row i = line i) stored for all-MiniLM-L6-v2 instead
of computing them (40 minutes). The 1,000,000-paper corpus is the real one plus 925,272 synthetic
papers: copy c of paper i gets a fresh arXiv id (1501.00001 onwards), its title a prefix
("Revisiting …", "Towards …"; one per copy), its abstract's sentences rotated by c, the same
authors, categories and listing days, and the reference vector plus gaussian noise (sigma 0.04 per
dimension) re-normalised: cosine ≈ 0.79 with its source, about a real paper's nearest neighbour
(0.75), so neighbourhoods stay meaningful while every vector is distinct. Both databases are
built once and kept in bench/.cache/search-speed/ (git-ignored; the 1M one takes ~4 GB and tens of
minutes to make); delete that folder to rebuild them.

The package: `queries` (the 200 queries), `embedder_check`, `corpora` (the cached databases) and
`synthetic` (the million-paper copies), `server` (each mode through `paperboy serve`, with `memory`),
`index` (the approximate index in-process) and `report` (the tables); `run` here ties them together.
"""

from __future__ import annotations

import argparse
import json
from dataclasses import asdict
from typing import Any

from bench import wrk
from bench.common import BenchError, Corpus, section
from bench.search_speed.corpora import prepare_million, prepare_real
from bench.search_speed.embedder_check import check_embedder
from bench.search_speed.environment import CACHE
from bench.search_speed.index import measure_index
from bench.search_speed.queries import search_queries
from bench.search_speed.report import print_modes
from bench.search_speed.server import ModeResult, measure_server


def run(corpus: Corpus, args: argparse.Namespace) -> dict[str, Any]:
    """The whole benchmark; `args` as `python -m bench` or this module's own command line give."""
    defaults = {"million": False, "ann_only": False, "build_threads": 2, "embed_runs": 3, "server_env": []}
    for name, default in defaults.items():
        if not hasattr(args, name):
            setattr(args, name, default)
    section(
        f"Search speed: GET /api/v1/search (limit 20) on paperboy serve --workers {args.workers}, "
        f"embedder minilm, page cache off; wrk {args.duration} s per run"
        + (f"; server environment {' '.join(args.server_env)}" if args.server_env else "")
    )
    if not wrk.available():
        raise BenchError("wrk is not installed (apt-get install wrk)")
    CACHE.mkdir(parents=True, exist_ok=True)
    queries = search_queries(corpus.papers)
    print(f"  {len(queries)} queries, e.g. {', '.join(repr(q) for q in queries[28:34])}")
    out: dict[str, Any] = {"queries": queries, "errors": {}}
    if not args.ann_only:
        out["embedder"] = check_embedder(corpus, runs=args.embed_runs)
    real = prepare_real(corpus, args.build_threads)
    out["74,728"] = {"facts": real.facts, "index": measure_index(real, queries)}
    if not args.ann_only:
        out["74,728"]["modes"] = _as_json(measure_server(real, queries, args))
        print_modes("74,728", _modes(out["74,728"]["modes"]))
    if args.million or args.ann_only:
        million = prepare_million(corpus, args.build_threads)
        out["1,000,000"] = {"facts": million.facts, "index": measure_index(million, queries)}
        if not args.ann_only:
            out["1,000,000"]["modes"] = _as_json(measure_server(million, queries, args))
            print_modes("1,000,000", _modes(out["1,000,000"]["modes"]))
        print(f"  1M corpus: {json.dumps(million.facts)}")
    return out


def _as_json(modes: dict[str, ModeResult]) -> dict[str, Any]:
    return {mode: asdict(result) for mode, result in modes.items()}


def _modes(data: dict[str, Any]) -> dict[str, ModeResult]:
    return {mode: ModeResult(**values) for mode, values in data.items()}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--million", action="store_true", help="also 1,000,000 papers (slow the first time)")
    parser.add_argument(
        "--ann-only", action="store_true", help="only the in-process index figures (74,728 and 1M papers)"
    )
    parser.add_argument("--build-threads", type=int, default=2, help="threads building the approximate index")
    parser.add_argument(
        "--embed-runs", type=int, default=3, help="runs of the embedding throughput (0: none)"
    )
    parser.add_argument(
        "--server-env",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="an environment variable for the server, e.g. OMP_WAIT_POLICY=PASSIVE (repeatable)",
    )
