"""`python -m bench scale --scale-stack`: issue 17's whole stack at scale on PostgreSQL with pgvector.

- Catalogue: the corpus's 74,728 papers, then synthetic ones up to `--scale-papers` (each a real
  paper again: its title with " (variant k)", the same abstract, authors and categories, an arXiv id
  of its own in 1501-…, listed on its source's days shifted back 52·k weeks: a back catalogue with
  days as full as the corpus's), written as a JSON-lines file and a listings TSV and loaded by
  `paperboy import` (timed: the product's import path, tsvectors included).
- Vectors: the reference MiniLM vectors (bench/scale.py's synthetic rows for the variants) stored
  directly: what `paperboy index` would spend days computing on 2 cores.
- `paperboy index` (timed): the keyword index (tantivy, in the shared data directory) and the vector
  index: pgvector's HNSW in the database (`vector_search` auto), or the per-host usearch file and the
  stored neighbour lists (`vector_search` per-host).
- Two `paperboy serve --workers 1` on two ports, one data directory, default settings but the
  database URL, a secret key (PostgreSQL needs one) and the search rate limit (120/minute per IP
  would answer 429 to a load generator on 127.0.0.1). wrk loads both at once (half the connections
  each): /search?q= with the 252 questions of bench/questions (each 8+ words, asked in turn), at 8
  and 64 connections; then a day page of the corpus (anonymous: the page cache).
- Figures: per instance and for both, wrk's p50/p99 and requests/s; CPU seconds per request of the
  servers and of their PostgreSQL backends (from /proc, whatever else the machine ran); peak RSS
  (VmHWM) of each serve process and of the backends; the load average beside each figure.
"""

from __future__ import annotations

import argparse
import datetime as dt
import gzip
import json
import tempfile
import time
import urllib.parse
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

import numpy as np

from bench.common import REPO_ROOT, BenchError, Corpus, child_env, paperboy_command, run_measured, tail
from bench.reference_vectors import MODEL, REFERENCE
from bench.scale_stack_load import load_average, measure_load, peak_rss
from bench.server import get_status, start_serve, stop_process_group

PER_MONTH = 50_000  # synthetic ids: 50000-99999 in each month from 1501, clear of real numbers
SHIFT_DAYS = 364  # 52 weeks: a variant's listing days keep their weekday
SECRET = "bench-scale-stack-secret-key-0123456789abcdef"
CONNECTIONS = (8, 64)
QUESTIONS = REPO_ROOT / "bench" / "questions"


def synthetic_id(j: int) -> str:
    month = j // PER_MONTH
    return f"{15 + month // 12:02d}{month % 12 + 1:02d}.{PER_MONTH + j % PER_MONTH:05d}"


def write_catalogue(corpus: Corpus, count: int, work: Path) -> tuple[Path, Path, list[str]]:
    """The papers file and listings TSV of `count` papers; the arXiv id of each line, in order."""
    with gzip.open(corpus.papers, "rt", encoding="utf-8") as lines:
        rows = [json.loads(line) for line in lines]
    listed: dict[str, list[str]] = {}
    with gzip.open(corpus.listings, "rt", encoding="utf-8") as lines:
        next(lines)
        for line in lines:
            day, arxiv_id = line.rstrip("\n").split("\t")
            listed.setdefault(arxiv_id, []).append(day)
    n, ids = len(rows), []
    papers, listings = work / "papers.jsonl.gz", work / "listings.tsv.gz"
    with (
        gzip.open(papers, "wt", encoding="utf-8", compresslevel=1) as out,
        gzip.open(listings, "wt", encoding="utf-8", compresslevel=1) as days,
    ):
        days.write("date\tarxiv_id\n")
        for i in range(count):
            row, k = rows[i % n], i // n
            new = dict(row) if k else row
            if k:
                new["id"] = synthetic_id(i - n)
                new["title"] = f"{row['title']} (variant {k})"
                for key in ("first_listed", "last_listed"):
                    new[key] = _shift(row.get(key), k)
            out.write(json.dumps(new) + "\n")
            ids.append(new["id"])
            for day in listed.get(row["id"], []):
                days.write(f"{_shift(day, k)}\t{new['id']}\n")
    return papers, listings, ids


def _shift(day: str | None, k: int) -> str | None:
    if not day or not k:
        return day
    return (dt.date.fromisoformat(day) - dt.timedelta(days=SHIFT_DAYS * k)).isoformat()


def store_vectors(url: str, arxiv_ids: list[str], batch: int = 5000) -> float:
    """Reference row i (plus noise past the corpus: bench/scale.py's rows) as line i's vector."""
    from sqlalchemy import func, select

    from bench.scale import _vectors
    from paperboy.storage.engine import make_engine
    from paperboy.storage.schema import papers
    from paperboy.storage.transactions import write_transaction
    from paperboy.storage.vectors import store_embeddings

    started = time.perf_counter()
    reference = np.load(REFERENCE, mmap_mode="r")
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            query = select(papers.c.arxiv_id, papers.c.id, func.coalesce(papers.c.latest_version, 0))
            known = {row[0]: (row[1], row[2]) for row in conn.execute(query)}
        for start in range(0, len(arxiv_ids), batch):
            stop = min(len(arxiv_ids), start + batch)
            with write_transaction(engine) as conn:
                store_embeddings(
                    conn, MODEL, [known[a] for a in arxiv_ids[start:stop]], _vectors(reference, start, stop)
                )
    finally:
        engine.dispose()
    return time.perf_counter() - started


def timed_command(args: list[str], env: dict[str, str], log: Path, what: str) -> dict[str, Any]:
    load = load_average()
    measured = run_measured(paperboy_command(*args), env, log)
    if measured.returncode != 0:
        raise BenchError(f"{what} exited {measured.returncode}: {tail(measured.stderr or measured.stdout)}")
    print(f"scale-stack: {what} {measured.wall_s:.0f} s (load {load} → {load_average()})", flush=True)
    return {
        "wall_s": measured.wall_s,
        "cpu_s": measured.cpu_s,
        "peak_rss_mib": measured.peak_rss_mib,
        "load": f"{load} → {load_average()}",
        "output": tail(measured.stdout, 6),
    }


def search_paths() -> list[str]:
    questions = []
    for part in sorted(QUESTIONS.glob("*.jsonl")):
        questions += [json.loads(line)["question"] for line in part.read_text().splitlines() if line]
    return ["/search?q=" + urllib.parse.quote_plus(q) for q in questions]


@contextmanager
def two_instances(env: dict[str, str], work: Path) -> Iterator[list[tuple[str, int]]]:
    """Two `paperboy serve --workers 1`, once each answers /healthz/search 200 with its keyword
    index current: [(base URL, process group)]."""
    with ExitStack() as stack:
        found = []
        for name in ("a", "b"):
            proc, base = start_serve(env, work / f"serve-{name}", workers=1)
            stack.callback(stop_process_group, proc)
            found.append((base, proc.pid))
        for base, _ in found:
            _wait_ready(base)
        yield found


def _wait_ready(base: str, timeout_s: float = 900.0) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if get_status(f"{base}/healthz/search", timeout=5) == 200 and _keywords_current(base):
            return
        time.sleep(1)
    raise BenchError(f"{base}: search not ready within {timeout_s:.0f} s")


def _keywords_current(base: str) -> bool:
    import urllib.request

    with urllib.request.urlopen(f"{base}/healthz", timeout=5) as response:
        return bool(json.loads(response.read()).get("keyword_index") in ("current", None))


def day_paths(corpus: Corpus, days: int = 20) -> list[str]:
    seen: dict[str, int] = {}
    with gzip.open(corpus.listings, "rt", encoding="utf-8") as lines:
        next(lines)
        for line in lines:
            day = line.split("\t")[0]
            seen[day] = seen.get(day, 0) + 1
    busiest = sorted(seen, key=lambda d: -seen[d])[:days]
    return [f"/papers/date/{day}" for day in sorted(busiest)]


def serve_env(url: str, data_dir: Path, search: str) -> dict[str, str]:
    return child_env(
        PAPERBOY_DATABASE_URL=url,
        PAPERBOY_DATA_DIR=str(data_dir),
        PAPERBOY_SECRET_KEY=SECRET,
        PAPERBOY_RATE_LIMIT_SEARCH="1000000000/minute",
        PAPERBOY_VECTOR_SEARCH=search,
    )


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--scale-stack",
        action="store_true",
        help="scale: the whole stack (import, index, two serve instances under wrk) instead of vectors alone",
    )
    parser.add_argument(
        "--scale-stack-reuse",
        default="",
        help="scale-stack: the work folder a run left (killed, or --scale-keep): serve phases only",
    )
    parser.add_argument(
        "--scale-searches",
        default="auto,per-host",
        help="scale-stack: vector_search values to serve with, in turn (default: auto,per-host)",
    )


def run(corpus: Corpus, args: argparse.Namespace, admin: str, count: int) -> dict[str, Any]:
    from bench.postgres import create_database, drop_database

    name = f"paperboy_stack_{count}"
    if args.scale_stack_reuse:
        return run_reused(args, admin, count, corpus)
    url = create_database(admin, name)
    result: dict[str, Any] = {"papers": count}
    try:
        with _work_folder(args.scale_keep) as work:
            started = time.perf_counter()
            papers, listings, ids = write_catalogue(corpus, count, work)
            print(
                f"scale-stack: {count:,} papers written in {time.perf_counter() - started:.0f} s", flush=True
            )
            env = serve_env(url, work / "data", "auto")
            command = ["import", str(papers), "--listings", str(listings)]
            result["import"] = timed_command(command, env, work / "import", "paperboy import")
            load = load_average()
            result["vectors_s"] = store_vectors(url, ids)
            result["vectors_load"] = f"{load} → {load_average()}"
            print(f"scale-stack: vectors stored in {result['vectors_s']:.0f} s (load {load})", flush=True)
            for search in [s for s in args.scale_searches.split(",") if s]:
                result[search] = _serve_phase(corpus, url, work, search)
    finally:
        if not args.scale_keep:
            drop_database(admin, name)
    print_stack(result)
    return result


@contextmanager
def _work_folder(keep: bool) -> Iterator[Path]:
    """A fresh folder under TMPDIR; with --scale-keep it outlives the run (for --scale-stack-reuse)."""
    if not keep:
        with tempfile.TemporaryDirectory(prefix="paperboy-stack-") as tmp:
            yield Path(tmp)
        return
    work = Path(tempfile.mkdtemp(prefix="paperboy-stack-"))
    print(f"scale-stack: work folder {work} (kept: --scale-keep)", flush=True)
    yield work


def run_reused(args: argparse.Namespace, admin: str, count: int, corpus: Corpus) -> dict[str, Any]:
    """The serve phases only, on the database and work folder a run left (killed, or with
    --scale-keep), its indexes as they are: `paperboy index` is not run again."""
    from sqlalchemy.engine import make_url

    from bench.postgres import drop_database

    name = f"paperboy_stack_{count}"
    url = make_url(admin).set(database=name).render_as_string(hide_password=False)
    work = Path(args.scale_stack_reuse)
    result: dict[str, Any] = {"papers": count, "reused": str(work)}
    try:
        for search in [s for s in args.scale_searches.split(",") if s]:
            result[search] = _serve_phase(corpus, url, work, search, index=False)
    finally:
        if not args.scale_keep:
            drop_database(admin, name)
    return result


def _serve_phase(corpus: Corpus, url: str, work: Path, search: str, index: bool = True) -> dict[str, Any]:
    env = serve_env(url, work / "data", search)
    phase: dict[str, Any] = {}
    if index:
        phase["index"] = timed_command(["index"], env, work / f"index-{search}", f"index ({search})")
    started = time.perf_counter()
    with two_instances(env, work / search) as instances:
        phase["ready_s"] = time.perf_counter() - started
        searches, days = search_paths(), day_paths(corpus)
        measure_load(instances, url, searches, 8, work)  # warm-up, not recorded
        phase["search"] = [measure_load(instances, url, searches, c, work) for c in CONNECTIONS]
        phase["day"] = [measure_load(instances, url, days, c, work) for c in CONNECTIONS]
        phase["rss"] = peak_rss(instances, url)
    print(f"scale-stack: {search} measured", flush=True)
    print_phase(search, phase)
    return phase


def print_stack(result: dict[str, Any]) -> None:
    count = result["papers"]
    imported = result["import"]
    print(f"\n### The whole stack at {count:,} papers: 2 × `serve --workers 1`, PostgreSQL with pgvector\n")
    print(
        f"`paperboy import`: {imported['wall_s']:.0f} s wall, {imported['cpu_s']:.0f} s CPU, "
        f"peak RSS {imported['peak_rss_mib']:.0f} MiB (load {imported['load']}); reference vectors "
        f"stored in {result['vectors_s']:.0f} s (load {result['vectors_load']})"
    )
    for search in [k for k in result if isinstance(result[k], dict) and "search" in result[k]]:
        print_phase(search, result[search])


def print_phase(search: str, phase: dict[str, Any]) -> None:
    rss = phase["rss"]
    if "index" in phase:
        index = phase["index"]
        print(f"\n`paperboy index` ({search}): {index['wall_s']:.0f} s (load {index['load']})")
    print(
        f"\n**vector_search={search}**: both instances ready {phase['ready_s']:.0f} s after start; "
        f"peak RSS of the serve processes {' / '.join(f'{m:.0f}' for m in rss['serve_mib'])} MiB, of "
        f"the {rss['backends']} PostgreSQL backends max {rss['backend_max_mib']:.0f} MiB each "
        f"(sum {rss['backend_sum_mib']:.0f}, shared buffers counted in each)\n"
    )
    print(
        "| page | conns | p50 ms (a / b) | p99 ms (a / b) | req/s | errors "
        "| serve CPU ms/req | db CPU ms/req | load |"
    )
    print("|---|---:|---|---|---:|---:|---:|---:|---|")
    for kind in ("search", "day"):
        for row in phase[kind]:
            print(
                f"| {kind} | {row['connections']} | {_pair(row['p50_ms'])} | {_pair(row['p99_ms'])} "
                f"| {row['requests_per_s']:.1f} | {row['errors']} | {row['serve_cpu_ms']:.1f} "
                f"| {row['db_cpu_ms']:.1f} | {row['load']} |"
            )


def _pair(values: list[float]) -> str:
    return " / ".join(f"{v:.1f}" for v in values)
