"""Page latency: `paperboy serve --workers 2` on an imported corpus, loaded with wrk."""

from __future__ import annotations

import csv
import gzip
import random
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from bench import wrk
from bench.common import BenchError, Corpus, each_database, format_table, section
from bench.import_speed import imported_database
from bench.reference_vectors import embed_beforehand
from bench.server import get_status, serving
from bench.workspace import SQLITE, Workspace

FEED_PAGES = {
    "week": "/papers/week/2025-W24",
    "month": "/papers/month/2025-06",
    "day": "/papers/date/2025-06-12",
}
PAPER_PAGE = "paper"
TARGET_FEED_P99_MS = 50.0
SAMPLE_IDS = 1000
WARMUP_S = 2
BROWSER_ENCODING = "Accept-Encoding: gzip, deflate"
# The page cache serves repeated anonymous requests; "no cache" measures every page rendered anew.
CACHE_MODES: dict[str, str | None] = {"": None, " (no cache)": "0"}
SINGLE_S = 3  # seconds of one-connection load: latency without queueing, i.e. the service time
STEADY_STATE = "every paper embedded before the server started (bench/reference_vectors.py)"


@dataclass(frozen=True, slots=True)
class Load:
    threads: int = 2
    connections: int = 8
    duration_s: int = 10
    workers: int = 2
    gzip: bool = True  # ask for compressed responses, as browsers do

    @property
    def headers(self) -> tuple[str, ...]:
        return (BROWSER_ENCODING,) if self.gzip else ()

    def describe(self) -> str:
        encoding = f' -H "{BROWSER_ENCODING}"' if self.gzip else ""
        return (
            f"wrk -t{self.threads} -c{self.connections} -d{self.duration_s}s --latency{encoding}"
            f" against paperboy serve --workers {self.workers}"
            f" (after {WARMUP_S} s of warm-up; then {SINGLE_S} s with one connection);"
            f" {STEADY_STATE}"
        )


@dataclass(slots=True)
class PageResult:
    path: str
    status: int
    result: wrk.WrkResult | None = None
    single: wrk.WrkResult | None = None  # the same URL(s) with one connection
    notes: list[str] = field(default_factory=list)


def run(ws: Workspace, corpus: Corpus, load: Load) -> dict[str, Any]:
    section(f"Pages: {load.describe()}")
    if ws.pg_note:
        print(ws.pg_note)
    if not wrk.available():
        raise BenchError("wrk is not installed (apt-get install wrk)")
    ids = sample_ids(corpus.listings, SAMPLE_IDS)
    results, errors = each_database(
        ws.labels(), lambda label: _measure_database(ws, corpus, label, ids, load)
    )
    if results:
        _print(results)
    return {
        "load": asdict(load),
        "target_feed_p99_ms": TARGET_FEED_P99_MS,
        "server_state": STEADY_STATE,
        "databases": {
            label: {name: _as_json(r) for name, r in pages.items()} for label, pages in results.items()
        },
        "errors": errors,
    }


def sample_ids(listings: Path, count: int, seed: int = 20250612) -> list[str]:
    """`count` distinct arXiv ids from the listings TSV, the same ones on every run."""
    with gzip.open(listings, "rt", encoding="utf-8", newline="") as f:
        rows = csv.reader(f, delimiter="\t")
        ids = sorted({row[1] for row in rows if len(row) == 2 and row[0] != "date"})
    return random.Random(seed).sample(ids, min(count, len(ids)))


def _measure_database(
    ws: Workspace, corpus: Corpus, label: str, ids: list[str], load: Load
) -> dict[str, PageResult]:
    target = imported_database(ws, corpus, label)
    print(f"  {label}: {embed_beforehand(target, corpus)}", flush=True)
    results: dict[str, PageResult] = {}
    for suffix, cache_mb in CACHE_MODES.items():
        log_dir = ws.log_dir(f"serve-{label}{suffix.replace(' ', '-')}")
        with serving(target, log_dir, workers=load.workers, **_cache_env(cache_mb)) as base:
            for name, path in FEED_PAGES.items():
                results[name + suffix] = _measure_page(base, path, load)
                _progress(label, name + suffix, results[name + suffix])
            results[PAPER_PAGE + suffix] = _measure_papers(base, ids, load, ws.root)
            _progress(label, PAPER_PAGE + suffix, results[PAPER_PAGE + suffix])
    return results


def _cache_env(cache_mb: str | None) -> dict[str, str]:
    return {} if cache_mb is None else {"PAPERBOY_PAGE_CACHE_MB": cache_mb}


def _is_feed(name: str) -> bool:
    return name.split(" ")[0] in FEED_PAGES


def _measure_page(base: str, path: str, load: Load) -> PageResult:
    status = get_status(base + path)
    if status != 200:
        return PageResult(path, status, notes=[f"GET {path} answered {status}: not loaded"])
    return _load_url(PageResult(path, status), base + path, load)


def _measure_papers(base: str, ids: list[str], load: Load, scratch: Path) -> PageResult:
    """Paper pages, cycling through sampled ids; ids that do not answer 200 are left out."""
    paths = [f"/papers/{arxiv_id}" for arxiv_id in ids]
    statuses = {path: get_status(base + path) for path in paths}  # also warms the server up
    good = [path for path in paths if statuses[path] == 200]
    bad = sorted({s for s in statuses.values() if s != 200})
    notes = [f"{len(paths) - len(good)} of {len(paths)} sampled ids answered {bad}: left out"] if bad else []
    label = f"/papers/{{id}} ({len(good)} ids)"
    if not good:
        return PageResult(label, bad[0], notes=notes)
    script = wrk.cycling_script(good, scratch / "paper_pages.lua")
    return _load_url(PageResult(label, 200, notes=notes), base + "/", load, script)


def _load_url(page: PageResult, url: str, load: Load, script: Path | None = None) -> PageResult:
    """Warm up, load with `load`, then measure the service time with a single connection."""
    many = {"threads": load.threads, "connections": load.connections}
    wrk.run_wrk(url, **many, duration_s=WARMUP_S, script=script, headers=load.headers)
    page.result, report = wrk.run_wrk(
        url, **many, duration_s=load.duration_s, script=script, headers=load.headers
    )
    page.notes += _problems(page.result, report)
    page.single, report = wrk.run_wrk(
        url, threads=1, connections=1, duration_s=SINGLE_S, script=script, headers=load.headers
    )
    page.notes += _problems(page.single, report)
    return page


def _problems(result: wrk.WrkResult, report: str) -> list[str]:
    notes = []
    if result.non_2xx:
        notes.append(f"{result.non_2xx} non-2xx responses of {result.requests}")
    if result.socket_errors:
        notes.append(result.socket_error_line)
    if notes:
        notes.append("wrk report:\n" + report.rstrip())
    return notes


def _progress(label: str, name: str, page: PageResult) -> None:
    if page.result:
        r = page.result
        print(
            f"  {label} {name}: {r.requests_per_s:,.0f} req/s, p50 {r.p50_ms:.1f} ms, p99 {r.p99_ms:.1f} ms"
        )
    for note in page.notes:
        print(f"  {label} {name}: {note}")


def _as_json(page: PageResult) -> dict[str, Any]:
    return {
        "path": page.path,
        "status": page.status,
        "notes": page.notes,
        **(asdict(page.result) if page.result else {}),
        "single_connection": asdict(page.single) if page.single else None,
    }


def _print(results: dict[str, dict[str, PageResult]]) -> None:
    headers = [
        "database / page",
        "path",
        "req/s",
        "p50 ms",
        "p90 ms",
        "p99 ms",
        "1-conn p50 ms",
        "KiB/resp",
        "non-2xx",
        "errors",
    ]
    rows = [_row(label, name, page) for label, pages in results.items() for name, page in pages.items()]
    print(format_table(headers, rows))
    _print_target(results)
    _print_ratios(results)


def _row(label: str, name: str, page: PageResult) -> list[object]:
    r = page.result
    if r is None:
        return [f"{label} {name}", page.path, f"HTTP {page.status}", *[None] * 7]
    return [
        f"{label} {name}",
        page.path,
        r.requests_per_s,
        r.p50_ms,
        r.p90_ms,
        r.p99_ms,
        page.single.p50_ms if page.single else None,
        r.kib_per_response,
        r.non_2xx,
        r.socket_errors,
    ]


def _print_target(results: dict[str, dict[str, PageResult]]) -> None:
    parts = [
        f"{label} {name} {page.result.p99_ms / TARGET_FEED_P99_MS:.2f}×"
        for label, pages in results.items()
        for name, page in pages.items()
        if _is_feed(name) and page.result
    ]
    print(f"target: feed pages p99 < {TARGET_FEED_P99_MS:.0f} ms; p99 / target: {', '.join(parts)}")


def _print_ratios(results: dict[str, dict[str, PageResult]]) -> None:
    base = results.get(SQLITE, {})
    for label, pages in results.items():
        if label == SQLITE:
            continue
        parts = []
        for name, page in pages.items():
            ref = base.get(name)
            if page.result and ref and ref.result:
                rps = page.result.requests_per_s / ref.result.requests_per_s
                p99 = page.result.p99_ms / ref.result.p99_ms
                parts.append(f"{name} req/s {rps:.2f}× p99 {p99:.2f}×")
        if parts:
            print(f"{label} / {SQLITE}: {'; '.join(parts)}")
