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
"""

from __future__ import annotations

import argparse
import gzip
import json
import math
import random
import re
import shutil
import statistics
import subprocess
import time
import urllib.parse
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from bench import wrk
from bench.common import (
    REPO_ROOT,
    BenchError,
    Corpus,
    child_env,
    find_corpus,
    format_table,
    run_standalone,
    section,
    tail,
)
from bench.server import free_port, get_status, stop_process_group

CACHE = REPO_ROOT / "bench" / ".cache" / "search-speed"
MODEL = "all-MiniLM-L6-v2"
REFERENCE = "minilm-l6-v2.f16.npy"
MODES = ("lexical", "semantic", "hybrid")
QUERY_COUNT = 200
FIXED_QUERIES = (
    "diffusion", "graph neural network", "large language models", "reinforcement learning",
    "protein structure prediction", "vision transformer", "federated learning", "speech recognition",
    "retrieval augmented generation", "mixture of experts", "quantum error correction", "point cloud",
    "knowledge distillation", "contrastive learning", "neural radiance fields", "multi-agent systems",
    "time series forecasting", "object detection", "text-to-image", "code generation",
    "medical image segmentation", "autonomous driving", "in-context learning", "hallucination",
    "robot manipulation", "sparse attention", "low-rank adaptation", "chain of thought",
    "adversarial robustness", "causal inference",
)  # fmt: skip
_STOPWORDS = """a an and are as at be by for from in into is its of on or our the their this to
towards toward via with without using based through under over new vs versus can do does we"""
STOPWORDS = frozenset(_STOPWORDS.split())
SIGMA = 0.04  # noise per dimension of a synthetic paper's vector
MILLION = 1_000_000
TITLE_PREFIXES = (
    "", "Revisiting ", "Towards ", "On ", "Rethinking ", "Beyond ", "Understanding ", "Scaling ",
    "Improving ", "Learning ", "Efficient ", "Robust ", "Simple ", "Analysing ",
)  # fmt: skip
TARGETS = {"74,728": {"p50": 15.0, "p99": 50.0}, "1,000,000": {"p50": 30.0, "rss_gib": 4.0}}
# Not in the query list, so the cold pass still embeds each of its queries for the first time.
WARM_UP_QUERIES = (
    "warm-up query about neural networks",
    "language model evaluation warm-up",
    "image warm-up",
)
SERVER_ENV = {
    "PAPERBOY_EMBEDDER": "minilm",
    "PAPERBOY_PAGE_CACHE_MB": "0",  # measure searches, not the cache of finished responses
    "PAPERBOY_SYNC_ON_EMPTY": "0",
    "PAPERBOY_SYNC_INTERVAL_HOURS": "0",
    "PAPERBOY_EMBED_ON_SYNC": "0",
}


# --- the queries -------------------------------------------------------------------------------


def search_queries(papers: Path, count: int = QUERY_COUNT, seed: int = 20260704) -> list[str]:
    """`count` queries: FIXED_QUERIES, then 2-5 consecutive content words of sampled real titles."""
    titles = [record["title"] for record in _records(papers)]
    rng = random.Random(seed)
    queries = list(dict.fromkeys(FIXED_QUERIES))
    for title in rng.sample(titles, len(titles)):
        if len(queries) >= count:
            break
        words = [w for w in _content_words(title) if w.lower() not in STOPWORDS and len(w) > 2]
        if len(words) < 2:
            continue
        size = rng.randint(2, min(5, len(words)))
        start = rng.randint(0, len(words) - size)
        query = " ".join(words[start : start + size]).lower()
        if query not in queries:
            queries.append(query)
    return queries[:count]


def _content_words(title: str) -> list[str]:
    """The title's plain words: letters, digits and inner hyphens (`3D-aware`), no apostrophes."""
    stripped = (token.strip(".,:;!?()[]{}\"'") for token in title.split())
    return [w for w in stripped if _PLAIN_WORD.fullmatch(w) and re.search("[A-Za-z]", w)]


_PLAIN_WORD = re.compile(r"[A-Za-z0-9]+(?:-[A-Za-z0-9]+)*")


def _records(papers: Path) -> Iterator[dict[str, Any]]:
    with gzip.open(papers, "rt", encoding="utf-8") as lines:
        for line in lines:
            yield json.loads(line)


# --- the embedder --------------------------------------------------------------------------------


def check_embedder(
    corpus: Corpus, sample: int = 50, throughput_texts: int = 500, runs: int = 3
) -> dict[str, Any]:
    """The product's MiniLM embeddings of `sample` papers against the reference rows, and its speed."""
    from paperboy.integrations.embedder import MiniLMEmbedder, paper_text

    reference = np.load(corpus.papers.parent / REFERENCE, mmap_mode="r")
    rows = sorted(random.Random(7).sample(range(len(reference)), sample))
    wanted, texts, first = set(rows), {}, []
    for i, record in enumerate(_records(corpus.papers)):
        text = paper_text(record["title"], record["abstract"])
        if i in wanted:
            texts[i] = text
        if len(first) < throughput_texts:
            first.append(text)
    embedder = MiniLMEmbedder()
    ours = embedder.embed([texts[i] for i in rows])
    ref = np.asarray(reference[rows], dtype=np.float32)
    cosines = np.sum(ours * ref, axis=1) / np.linalg.norm(ref, axis=1)
    print(
        f"  reference check: the product's MiniLM vs {REFERENCE} on {sample} sampled papers: "
        f"cosine min {cosines.min():.4f}, median {np.median(cosines):.4f} (needed ≥ 0.99)",
        flush=True,
    )
    if cosines.min() < 0.99:
        raise BenchError(
            f"the reference embeddings disagree with the product's (min cosine {cosines.min():.3f})"
        )
    speeds: list[float] = []
    for _ in range(runs):
        start = time.perf_counter()
        embedder.embed(first)
        speeds.append(len(first) / (time.perf_counter() - start))
    if speeds:
        print(
            f"  embedding: {statistics.median(speeds):.1f} abstracts/s "
            f"(median of {runs} runs of {len(first)} abstracts)"
        )
    return {
        "agreement_min": float(cosines.min()),
        "agreement_median": float(np.median(cosines)),
        "abstracts_per_s": statistics.median(speeds) if speeds else None,
        "abstracts_per_s_runs": speeds,
    }


# --- the databases -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Prepared:
    label: str
    data_dir: Path
    facts: dict[str, Any]


def prepare_real(corpus: Corpus, threads: int) -> Prepared:
    """The real corpus imported, with the reference vectors stored and the approximate index
    built (cached)."""

    def imported(root: Path, data_dir: Path) -> dict[str, Any]:
        return _import(data_dir, corpus.papers, corpus.listings, root)

    def finished(root: Path, data_dir: Path) -> dict[str, Any]:
        facts = _store_vectors(data_dir, corpus, papers=len(_reference_rows(corpus)))
        return facts | _build_ann(data_dir, threads)

    return _cached("real", imported, finished)


def prepare_million(corpus: Corpus, threads: int) -> Prepared:
    """The real corpus and 925,272 synthetic papers (module docstring), with vectors and the
    approximate index (cached)."""

    def imported(root: Path, data_dir: Path) -> dict[str, Any]:
        papers, listings = root / "papers-1m.jsonl.gz", root / "listings-1m.tsv.gz"
        started = time.perf_counter()
        _generate(corpus, papers, listings)
        generated = time.perf_counter() - started
        print(f"  generated {MILLION:,} papers in {generated:.0f} s", flush=True)
        facts = _import(data_dir, papers, listings, root)
        papers.unlink()
        listings.unlink()
        return {"generate_s": generated, **facts}

    def finished(root: Path, data_dir: Path) -> dict[str, Any]:
        facts = _store_vectors(data_dir, corpus, papers=MILLION)
        return facts | _build_ann(data_dir, threads)

    return _cached("million", imported, finished)


Stage = Callable[[Path, Path], dict[str, Any]]


def _cached(name: str, imported: Stage, finished: Stage) -> Prepared:
    """The database `name`: reused when complete; otherwise made in two stages, the import
    (kept once done, in IMPORTED.json) and the rest (vectors, index: they replace what is there)."""
    root = CACHE / name
    ready, stage = root / "READY.json", root / "IMPORTED.json"
    if ready.is_file():
        print(f"  {name}: reusing {root} (delete it to rebuild)", flush=True)
        return Prepared(name, root / "data", json.loads(ready.read_text()))
    if not stage.is_file():
        shutil.rmtree(root, ignore_errors=True)
        (root / "data").mkdir(parents=True)
        print(f"  {name}: building the database in {root} …", flush=True)
        stage.write_text(json.dumps(imported(root, root / "data")) + "\n")
    facts = json.loads(stage.read_text()) | finished(root, root / "data")
    ready.write_text(json.dumps(facts, indent=2) + "\n")
    return Prepared(name, root / "data", facts)


def _import(data_dir: Path, papers: Path, listings: Path, root: Path) -> dict[str, Any]:
    # The hashing embedder: an import that embeds (embed_on_sync is off anyway) never loads MiniLM.
    env = child_env(PAPERBOY_DATA_DIR=str(data_dir), **{**SERVER_ENV, "PAPERBOY_EMBEDDER": "hashing"})
    started = time.perf_counter()
    command = [
        str(REPO_ROOT / ".venv" / "bin" / "paperboy"),
        "import",
        str(papers),
        "--listings",
        str(listings),
    ]
    done = subprocess.run(command, env=env, capture_output=True, text=True, cwd=root)
    if done.returncode != 0:
        raise BenchError(f"paperboy import exited {done.returncode}: {tail(done.stderr or done.stdout)}")
    seconds = time.perf_counter() - started
    print(f"  imported in {seconds:.0f} s: {tail(done.stdout, 1)}", flush=True)
    return {"import_s": seconds}


def _engine(data_dir: Path) -> Any:
    from paperboy.storage.engine import make_engine

    return make_engine(f"sqlite:///{data_dir / 'paperboy.sqlite3'}")


def _store_vectors(data_dir: Path, corpus: Corpus, papers: int) -> dict[str, Any]:
    """Vectors for the first `papers` papers in generation order: the reference rows for the real
    papers (copy 0), those rows perturbed (SIGMA) for copy c >= 1."""
    from sqlalchemy import func, select

    from paperboy.storage.schema import papers as papers_table
    from paperboy.storage.transactions import write_transaction
    from paperboy.storage.vectors import store_embeddings

    reference = _reference_rows(corpus)
    source_ids = [record["id"] for record in _records(corpus.papers)]
    engine = _engine(data_dir)
    started = time.perf_counter()
    with engine.connect() as conn:
        version = func.coalesce(papers_table.c.latest_version, 0)
        statement = select(papers_table.c.arxiv_id, papers_table.c.id, version)
        known = {row[0]: (row[1], row[2]) for row in conn.execute(statement)}
    stored = 0
    for copy in range(-(-papers // len(source_ids))):
        vectors = _copy_vectors(reference, copy)
        lines = min(len(source_ids), papers - copy * len(source_ids))
        for start in range(0, lines, 5000):
            rows = range(start, min(start + 5000, lines))
            with write_transaction(engine) as conn:
                pairs = [known[_copy_id(source_ids, copy, i)] for i in rows]
                store_embeddings(conn, MODEL, pairs, vectors[list(rows)])
            stored += len(rows)
    seconds = time.perf_counter() - started
    engine.dispose()
    print(f"  stored {stored:,} vectors in {seconds:.0f} s", flush=True)
    return {"vectors": stored, "store_vectors_s": seconds}


def _reference_rows(corpus: Corpus) -> np.ndarray:
    reference = np.load(corpus.papers.parent / REFERENCE).astype(np.float32)
    return reference / np.linalg.norm(reference, axis=1, keepdims=True)


def _copy_vectors(reference: np.ndarray, copy: int) -> np.ndarray:
    if copy == 0:
        return reference
    noisy = (
        reference
        + np.random.default_rng(1000 + copy).standard_normal(reference.shape, dtype=np.float32) * SIGMA
    )
    return noisy / np.linalg.norm(noisy, axis=1, keepdims=True)


def _copy_id(real_ids: list[str], copy: int, line: int) -> str:
    """Copy 0 is the real paper; copy c ≥ 1 of line i gets an id from 1501.00001 on."""
    if copy == 0:
        return real_ids[line]
    month, number = divmod((copy - 1) * len(real_ids) + line, 99_999)
    assert month < 12, "ids for up to 1.2M synthetic papers"
    return f"15{month + 1:02d}.{number + 1:05d}"


def _generate(corpus: Corpus, papers_out: Path, listings_out: Path) -> int:
    """Write the real papers and enough synthetic copies for MILLION; returns the copies (with 0)."""
    records = list(_records(corpus.papers))
    real_ids = [record["id"] for record in records]
    line_of = {record["id"]: i for i, record in enumerate(records)}
    copies = -(-MILLION // len(records))
    with gzip.open(papers_out, "wt", encoding="utf-8", compresslevel=1) as out:
        written = 0
        for copy in range(copies):
            for i, record in enumerate(records):
                if written == MILLION:
                    break
                out.write(json.dumps(_synthetic(record, _copy_id(real_ids, copy, i), copy)) + "\n")
                written += 1
    with gzip.open(corpus.listings, "rt") as source, gzip.open(listings_out, "wt", compresslevel=1) as out:
        for line in source:
            day, arxiv_id = line.rstrip("\n").split("\t")
            if arxiv_id not in line_of:
                out.write(line)
                continue
            for copy in range(copies):
                if copy * len(records) + line_of[arxiv_id] < MILLION:
                    out.write(f"{day}\t{_copy_id(real_ids, copy, line_of[arxiv_id])}\n")
    return copies


def _synthetic(record: dict[str, Any], arxiv_id: str, copy: int) -> dict[str, Any]:
    if copy == 0:
        return record
    sentences = record["abstract"].strip().rstrip(".").split(". ")
    shift = copy % len(sentences)
    return {
        **record,
        "id": arxiv_id,
        "title": TITLE_PREFIXES[copy % len(TITLE_PREFIXES)] + record["title"],
        "abstract": ". ".join(sentences[shift:] + sentences[:shift]) + ".",
    }


def _setting_default(name: str) -> Any:
    from paperboy.config import SETTINGS

    return next(setting.default for setting in SETTINGS if setting.name == name)


def _build_ann(data_dir: Path, threads: int) -> dict[str, Any]:
    from paperboy.services.vector_index import ANN_DIRECTORY, update_ann_index

    engine = _engine(data_dir)
    started = time.perf_counter()
    threshold = _setting_default("vector_ann_threshold")
    summary = update_ann_index(engine, MODEL, data_dir / ANN_DIRECTORY, threshold=threshold, threads=threads)
    seconds = time.perf_counter() - started
    engine.dispose()
    print(f"  {summary} ({seconds:.0f} s with {threads} threads)", flush=True)
    return {"ann_build_s": seconds, "ann_summary": summary, "ann_threads": threads}


# --- the server ------------------------------------------------------------------------------------


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
    command = [str(REPO_ROOT / ".venv" / "bin" / "paperboy"), "serve", "--host", "127.0.0.1"]
    command += ["--port", str(port), "--workers", str(workers)]
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
    """Until both workers have the model and the vectors loaded (they load at start-up, and a
    search arriving meanwhile answers without its semantic part), then until latency is steady."""
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
    """True when the search answered 200 with results from every ranker the mode asks for."""
    status, body = _get_json(url)
    return status == 200 and bool(body.get("results")) and _all_rankers(body, mode)


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
    script = wrk.cycling_script([search_path(q, mode) for q in queries], log_dir / "queries.lua")
    single, _ = wrk.run_wrk(base + "/", threads=1, connections=1, duration_s=args.duration, script=script)
    loaded, _ = wrk.run_wrk(base + "/", threads=2, connections=8, duration_s=args.duration, script=script)
    result.single, result.loaded = asdict(single), asdict(loaded)
    return result


def _get_json(url: str) -> tuple[int, Any]:
    import urllib.error
    import urllib.request

    try:
        with urllib.request.urlopen(url, timeout=60) as response:
            return int(response.status), json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return int(exc.code), exc.read()[:300]


def server_memory(pid: int) -> dict[str, float]:
    """Peak RSS (VmHWM) and current PSS, MiB, summed over `pid` and its descendants. RSS counts
    memory-mapped index pages once per process; PSS shares them out, so its sum is the real use."""
    family = _descendants(pid) | {pid}
    hwm = pss = 0.0
    for member in family:
        try:
            status = Path(f"/proc/{member}/status").read_text()
            rollup = Path(f"/proc/{member}/smaps_rollup").read_text()
        except OSError:
            continue
        hwm += _kib(status, "VmHWM") / 1024
        pss += _kib(rollup, "Pss") / 1024
    return {"processes": len(family), "peak_rss_mib": hwm, "pss_mib": pss}


def _kib(text: str, key: str) -> float:
    match = re.search(rf"^{key}:\s+(\d+) kB", text, re.MULTILINE)
    return float(match.group(1)) if match else 0.0


def _descendants(pid: int) -> set[int]:
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            parents[int(entry.name)] = int(stat.rsplit(")", 1)[1].split()[1])
    found, frontier = set(), {pid}
    while frontier:
        frontier = {child for child, parent in parents.items() if parent in frontier} - found
        found |= frontier
    return found


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


# --- the approximate index in-process -----------------------------------------------------------


def measure_index(prepared: Prepared, queries: list[str], k: int = 10, depth: int = 100) -> dict[str, Any]:
    """`VectorIndex` on the prepared database: exact against approximate, on the query list's
    real MiniLM vectors: recall@k of the approximate top `depth`, and latency."""
    from paperboy.integrations.embedder import MiniLMEmbedder
    from paperboy.services.vector_index import ANN_DIRECTORY, VectorIndex

    vectors = MiniLMEmbedder(threads=1).embed(queries)
    engine = _engine(prepared.data_dir)
    exact = VectorIndex(engine, MODEL, refresh_seconds=3600)
    approximate = VectorIndex(
        engine, MODEL, refresh_seconds=3600, directory=prepared.data_dir / ANN_DIRECTORY
    )
    results: dict[str, Any] = {}
    answers = {}
    for name, index in (("exact", exact), ("approximate", approximate)):
        started = time.perf_counter()
        results["vectors"] = len(index)  # the first load
        results[f"{name}_load_s"] = time.perf_counter() - started
        index.nearest(vectors[0], depth)
        times, found = [], []
        for vector in vectors:
            started = time.perf_counter()
            found.append(index.nearest(vector, depth)[0])
            times.append(1000 * (time.perf_counter() - started))
        answers[name] = found
        results[f"{name}_p50_ms"] = float(np.percentile(times, 50))
        results[f"{name}_p99_ms"] = float(np.percentile(times, 99))
    results["approximate"] = approximate.approximate
    results.update(_filtered_latency(approximate, vectors, depth))
    pairs = list(zip(answers["exact"], answers["approximate"], strict=True))
    results[f"recall@{k}"] = float(np.mean([len(set(e[:k]) & set(a[:k])) / k for e, a in pairs]))
    results[f"recall@{depth}"] = float(np.mean([len(set(e) & set(a)) / depth for e, a in pairs]))
    engine.dispose()
    print(
        f"  VectorIndex on {results['vectors']:,} vectors, k={depth}: "
        f"exact p50 {results['exact_p50_ms']:.1f} ms, "
        f"approximate p50 {results['approximate_p50_ms']:.2f} ms p99 {results['approximate_p99_ms']:.2f} ms, "
        f"first load exact {results['exact_load_s']:.1f} s, "
        f"approximate {results['approximate_load_s']:.1f} s, "
        f"recall@{k} {results[f'recall@{k}']:.3f}, recall@{depth} {results[f'recall@{depth}']:.3f}",
        flush=True,
    )
    return results


def _filtered_latency(index: Any, vectors: np.ndarray, depth: int) -> dict[str, float]:
    """p50 of `nearest(within=…)` for allowed sets of 1,000 / 20,000 / 100,000 / 300,000 random
    papers (a filter such as an author, a month, a category), as the search service asks."""
    rng = np.random.default_rng(5)
    universe = np.arange(1, len(index) + 1)
    out = {}
    for size in (1_000, 20_000, 100_000, 300_000):
        allowed = set(rng.choice(universe, size=min(size, len(universe)), replace=False).tolist())
        times = []
        for vector in vectors[:40]:
            started = time.perf_counter()
            index.nearest(vector, depth, within=allowed)
            times.append(1000 * (time.perf_counter() - started))
        out[f"within_{size}_p50_ms"] = float(np.percentile(times, 50))
    print("  approximate nearest with within=: " + ", ".join(f"{k} {v:.1f}" for k, v in out.items()))
    return out


# --- the report ------------------------------------------------------------------------------------


def _print(papers: str, modes: dict[str, ModeResult]) -> None:
    headers = ["mode", "cold p50 ms", "cold p99 ms", "1-conn p50", "1-conn p99", "req/s (8 conn)",
               "p50 (8 conn)", "p99 (8 conn)", "hits", "not 200/partial", "peak RSS MiB",
               "PSS MiB"]  # fmt: skip
    rows = []
    for r in modes.values():
        single, loaded = r.single or {}, r.loaded or {}
        rows.append([
            f"{papers} {r.mode}", r.cold_p50_ms, r.cold_p99_ms, single.get("p50_ms"), single.get("p99_ms"),
            loaded.get("requests_per_s"), loaded.get("p50_ms"), loaded.get("p99_ms"), r.hits_median,
            f"{r.cold_errors}/{r.partial}", r.memory.get("peak_rss_mib"), r.memory.get("pss_mib"),
        ])  # fmt: skip
    print(format_table(headers, rows))
    hybrid = modes.get("hybrid")
    target = TARGETS[papers]
    if hybrid and hybrid.single:
        parts = [f"hybrid cold p50 {hybrid.cold_p50_ms / target['p50']:.2f}× of {target['p50']:.0f} ms"]
        parts.append(f"1-conn p50 {hybrid.single['p50_ms'] / target['p50']:.2f}×")
        if "p99" in target:
            parts.append(f"cold p99 {hybrid.cold_p99_ms / target['p99']:.2f}× of {target['p99']:.0f} ms")
            parts.append(f"1-conn p99 {hybrid.single['p99_ms'] / target['p99']:.2f}×")
        if "rss_gib" in target:
            peak = max(r.memory.get("peak_rss_mib", 0) for r in modes.values()) / 1024
            parts.append(
                f"peak RSS {peak:.2f} GiB = {peak / target['rss_gib']:.2f}× of {target['rss_gib']:.0f} GiB"
            )
        print(f"targets at {papers} papers (issue 4): " + "; ".join(parts))


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
        _print("74,728", _modes(out["74,728"]["modes"]))
    if args.million or args.ann_only:
        million = prepare_million(corpus, args.build_threads)
        out["1,000,000"] = {"facts": million.facts, "index": measure_index(million, queries)}
        if not args.ann_only:
            out["1,000,000"]["modes"] = _as_json(measure_server(million, queries, args))
            _print("1,000,000", _modes(out["1,000,000"]["modes"]))
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


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.search_speed", description=__doc__.split("\n")[0])
    add_arguments(parser)
    parser.add_argument("--duration", type=int, default=10, help="seconds of each wrk run")
    parser.add_argument("--workers", type=int, default=2, help="paperboy serve worker processes")
    args = parser.parse_args()
    return run_standalone("search", "search-speed-", lambda: run(find_corpus(), args))


if __name__ == "__main__":
    raise SystemExit(main())
