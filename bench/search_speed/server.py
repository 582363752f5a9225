"""Each mode measured through `paperboy serve`: a cold pass over every query, then wrk with one
connection and with 8, once the server answers every mode fully and its latency is steady."""

from __future__ import annotations

import argparse
import json
import math
import subprocess
import time
import urllib.parse
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from bench import wrk
from bench.common import BenchError, child_env, paperboy_command, tail
from bench.search_speed.corpora import Prepared
from bench.search_speed.environment import CACHE, MODES, SERVER_ENV
from bench.search_speed.memory import server_memory
from bench.server import free_port, get_status, stop_process_group

# Not in the query list, so the cold pass still embeds each of its queries for the first time.
WARM_UP_QUERIES = (
    "warm-up query about neural networks",
    "language model evaluation warm-up",
    "image warm-up",
)
# After the cold pass, each query is asked this many more times on fresh connections, so that
# both workers hold its vector before the one-connection run (each misses it with p = 2^-8).
WARM_TRIES = 8


@dataclass(slots=True)
class ModeResult:
    mode: str
    cold_p50_ms: float = float("nan")
    cold_p99_ms: float = float("nan")
    cold_errors: int = 0
    partial: int = 0  # cold answers without every ranker of the mode (semantic not ready)
    hits_median: float = float("nan")
    single: dict[str, Any] | None = None  # wrk, one connection, cycling through the queries
    loaded: dict[str, Any] | None = None  # wrk, 8 connections
    memory: dict[str, float] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


def measure_server(prepared: Prepared, queries: list[str], args: argparse.Namespace) -> dict[str, ModeResult]:
    """Each mode on a fresh `paperboy serve` (so the cold pass embeds every query)."""
    results = {}
    for mode in MODES:
        log_dir = CACHE / "logs" / f"{prepared.label}-{mode}"
        extra = dict(item.split("=", 1) for item in args.server_env)
        with _serving(prepared.data_dir, log_dir, args.workers, extra) as (base, pid):
            _warm_up(base, mode)
            results[mode] = _measure_mode(base, mode, queries, args, log_dir)
            results[mode].memory = server_memory(pid)
        _progress(prepared.label, results[mode])
    return results


@contextmanager
def _serving(
    data_dir: Path, log_dir: Path, workers: int, extra_env: dict[str, str]
) -> Iterator[tuple[str, int]]:
    port = free_port()
    command = paperboy_command("serve", "--host", "127.0.0.1", "--port", str(port), "--workers", str(workers))
    env = child_env(PAPERBOY_DATA_DIR=str(data_dir), **SERVER_ENV, **extra_env)
    log_dir.mkdir(parents=True, exist_ok=True)
    with (log_dir / "serve.log").open("wb") as out:
        proc = subprocess.Popen(
            command, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while get_status(f"{base}/healthz", timeout=2) != 200:
            if proc.poll() is not None or time.monotonic() > deadline:
                raise BenchError(f"paperboy serve did not start: {tail((log_dir / 'serve.log').read_text())}")
            time.sleep(0.3)
        yield base, proc.pid
    finally:
        stop_process_group(proc)


def search_path(query: str, mode: str, limit: int = 20) -> str:
    return "/api/v1/search?" + urllib.parse.urlencode({"q": query, "mode": mode, "limit": limit})


def _warm_up(base: str, mode: str, patience_s: float = 900.0) -> None:
    """Until both workers have the model and the vectors loaded and the keyword index current
    (they load at start-up, and a search arriving meanwhile answers without its semantic part, or
    with the database ranking its words), then until latency is steady."""
    deadline = time.monotonic() + patience_s
    url = base + search_path(WARM_UP_QUERIES[0], mode)
    with ThreadPoolExecutor(8) as pool:  # 8 at once: both workers get some
        while not all(pool.map(lambda _: _answers_fully(url, mode), range(8))):
            if time.monotonic() > deadline:
                raise BenchError(f"the server did not answer {mode} searches fully within {patience_s:.0f} s")
            time.sleep(1)
    script = wrk.cycling_script([search_path(q, mode) for q in WARM_UP_QUERIES], CACHE / "warm-up.lua")
    previous = math.inf
    while time.monotonic() < deadline:
        result, _ = wrk.run_wrk(base + "/", threads=2, connections=4, duration_s=3, script=script)
        if result.requests and not result.non_2xx and result.p99_ms < 1.5 * previous:
            return
        previous = result.p99_ms if result.requests and not result.non_2xx else math.inf
    raise BenchError(f"the server was not steady after {patience_s:.0f} s")


def _answers_fully(url: str, mode: str) -> bool:
    """True when the search answered 200 with results from every ranker the mode asks for, and
    the keyword index is current where it is on (until then the database ranks keywords)."""
    status, body = _get_json(url)
    if not (status == 200 and bool(body.get("results")) and _all_rankers(body, mode)):
        return False
    health_status, health = _get_json(url.split("/api/", 1)[0] + "/healthz")
    return health_status == 200 and health.get("keyword_index") in (None, "current")


def _all_rankers(body: dict[str, Any], mode: str) -> bool:
    wanted = {"lexical", "semantic"} if mode == "hybrid" else {mode}
    return wanted <= set(body.get("used", ()))


def _measure_mode(
    base: str, mode: str, queries: list[str], args: argparse.Namespace, log_dir: Path
) -> ModeResult:
    result = ModeResult(mode)
    times, hits = [], []
    for query in queries:
        started = time.perf_counter()
        status, body = _get_json(base + search_path(query, mode))
        times.append(1000 * (time.perf_counter() - started))
        if status != 200:
            result.cold_errors += 1
            if len(result.notes) < 3:
                result.notes.append(f"{query!r} answered {status}: {str(body)[:200]}")
        else:
            hits.append(len(body["results"]))
            result.partial += not _all_rankers(body, mode)
    result.cold_p50_ms = float(np.percentile(times, 50))
    result.cold_p99_ms = float(np.percentile(times, 99))
    result.hits_median = float(np.median(hits)) if hits else float("nan")
    _embed_in_every_worker(base, mode, queries)
    script = wrk.cycling_script([search_path(q, mode) for q in queries], log_dir / "queries.lua")
    single, _ = wrk.run_wrk(base + "/", threads=1, connections=1, duration_s=args.duration, script=script)
    loaded, _ = wrk.run_wrk(base + "/", threads=2, connections=8, duration_s=args.duration, script=script)
    result.single, result.loaded = asdict(single), asdict(loaded)
    return result


def _embed_in_every_worker(base: str, mode: str, queries: list[str], tries: int = WARM_TRIES) -> None:
    """Each query asked `tries` more times, each on a connection of its own: every worker then
    has it embedded (each keeps its own query vectors) but with probability 2^-tries. Without
    this the one-connection run, which stays on one worker, embeds the queries the cold pass
    sent to the other worker (about half), and its "service time" measures the model."""
    if mode == "lexical":
        return
    with ThreadPoolExecutor(4) as pool:
        list(pool.map(lambda query: _get_json(base + search_path(query, mode)), queries * tries))


def _get_json(url: str) -> tuple[int, Any]:
    import urllib.error
    import urllib.request

    try:
        with urllib.request.urlopen(url, timeout=60) as response:
            return int(response.status), json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return int(exc.code), exc.read()[:300]


def _progress(label: str, r: ModeResult) -> None:
    single = r.single or {}
    print(
        f"  {label} {r.mode}: cold p50 {r.cold_p50_ms:.1f} ms p99 {r.cold_p99_ms:.1f} ms; "
        f"1-conn p50 {single.get('p50_ms', float('nan')):.1f} ms; "
        f"{(r.loaded or {}).get('requests_per_s', float('nan')):.0f} req/s at 8 connections; "
        f"peak RSS {r.memory.get('peak_rss_mib', 0):.0f} MiB",
        flush=True,
    )
    for note in r.notes:
        print(f"    {note}")
    for name, run in (("1 connection", single), ("8 connections", r.loaded or {})):
        if run.get("non_2xx"):
            print(f"    {name}: {run['non_2xx']} answers were not 2xx: the figures are not searches")
