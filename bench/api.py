"""API and feed throughput on the full corpus: `/api/daily_papers?date=` (Hugging Face's shape) and a
day's RSS feed, each loaded cold (plain GETs of the URL, without If-None-Match), with ETag
revalidation (every request sends If-None-Match with the ETag fetched first, and gets a 304 without
a body), and built (every request for a URL new to the server, so that no answer kept under its
derived ETag is hit: what a client meets after each vote)."""

from __future__ import annotations

import csv
import gzip
import urllib.error
import urllib.request
from collections import Counter
from dataclasses import asdict
from pathlib import Path
from typing import Any

from bench import wrk
from bench.common import BenchError, Corpus, each_database, format_table, section
from bench.import_speed import imported_database
from bench.pages import Load, PageResult, _as_json, _load_url, _progress
from bench.server import serving
from bench.workspace import Workspace

URLS = {"daily_papers": "/api/daily_papers?date={day}", "feed": "/feeds/day/{day}.rss"}
COLD, REVALIDATE, BUILD = "cold", "revalidate", "build"
# Every wrk request comes from 127.0.0.1 without a token: lift /api/'s per-IP budget out of the way.
# And no search in the background: a fresh import would otherwise be embedded while wrk loads.
SERVER_ENV = {
    "PAPERBOY_RATE_LIMIT_API_IP": "1000000000/hour",
    "PAPERBOY_RATE_LIMIT_API": "1000000000/hour",
    "PAPERBOY_EMBED_ON_SYNC": "0",
    "PAPERBOY_SEARCH_WARM_UP": "0",
    "PAPERBOY_EMBEDDER": "hashing",
}


def run(ws: Workspace, corpus: Corpus, load: Load) -> dict[str, Any]:
    section(f"API and feeds, cold and revalidated: {load.describe()}")
    if ws.pg_note:
        print(ws.pg_note)
    if not wrk.available():
        raise BenchError("wrk is not installed (apt-get install wrk)")
    day = busiest_day(corpus.listings)
    paths = {name: template.format(day=day) for name, template in URLS.items()}
    print(f"listing day {day} (the corpus's busiest): {', '.join(paths.values())}", flush=True)
    results, errors = each_database(
        ws.labels(), lambda label: _measure_database(ws, corpus, label, paths, load)
    )
    if results:
        _print(results)
    return {
        "load": asdict(load),
        "day": day,
        "paths": paths,
        "databases": {
            label: {name: _as_json(r) for name, r in found.items()} for label, found in results.items()
        },
        "errors": errors,
    }


def busiest_day(listings: Path) -> str:
    """The listing day with the most rows in the listings TSV."""
    with gzip.open(listings, "rt", encoding="utf-8", newline="") as f:
        days = Counter(row[0] for row in csv.reader(f, delimiter="\t") if len(row) == 2 and row[0] != "date")
    if not days:
        raise BenchError(f"{listings} has no listings")
    return days.most_common(1)[0][0]


def _measure_database(
    ws: Workspace, corpus: Corpus, label: str, paths: dict[str, str], load: Load
) -> dict[str, PageResult]:
    target = imported_database(ws, corpus, label)
    results: dict[str, PageResult] = {}
    with serving(target, ws.log_dir(f"serve-api-{label}"), workers=load.workers, **SERVER_ENV) as base:
        for name, path in paths.items():
            for mode in (COLD, REVALIDATE, BUILD):
                key = f"{name} {mode}"
                results[key] = _measure(base, path, mode, load, ws.root / f"{name}-{mode}.lua")
                _progress(label, key, results[key])
    return results


def _measure(base: str, path: str, mode: str, load: Load, script_path: Path) -> PageResult:
    status, etag = _get(base + path)
    if status != 200 or not etag:
        return PageResult(path, status, notes=[f"GET {path} answered {status} (ETag {etag!r}): not loaded"])
    if mode == COLD:
        return _load_url(PageResult(path, status), base + path, load)
    if mode == BUILD:
        return _load_url(PageResult(path, status), base + path, load, unique_url_script(script_path))
    revalidated, _ = _get(base + path, etag)
    if revalidated != 304:
        return PageResult(path, revalidated, notes=[f"If-None-Match {etag} answered {revalidated}, not 304"])
    script = revalidation_script(etag, script_path)
    return _load_url(PageResult(path, 304), base + path, load, script)


def revalidation_script(etag: str, destination: Path) -> Path:
    """A wrk Lua script whose every request carries If-None-Match: `etag`."""
    quoted = etag.replace("\\", "\\\\").replace("'", "\\'")
    destination.write_text(f"wrk.headers['If-None-Match'] = '{quoted}'\n", encoding="utf-8")
    return destination


def unique_url_script(destination: Path) -> Path:
    """A wrk Lua script whose every request is for a URL the server has not seen: the path with an
    extra parameter (which the endpoints ignore) made of the start time, the thread and a counter,
    so that neither the warm-up's URLs nor another thread's come again."""
    destination.write_text(
        """local threads = 0

function setup(thread)
  threads = threads + 1
  thread:set("tid", threads)
end

function init(args)
  counter = 0
  start = os.time()
end

function request()
  counter = counter + 1
  local sep = string.find(wrk.path, "?", 1, true) and "&" or "?"
  return wrk.format("GET", wrk.path .. sep .. "n=" .. start .. "-" .. tid .. "-" .. counter)
end
""",
        encoding="utf-8",
    )
    return destination


def _get(url: str, etag: str | None = None) -> tuple[int, str | None]:
    """The status and ETag of GET `url` (If-None-Match: `etag` when given); 0 when no answer came."""
    request = urllib.request.Request(url, headers={"If-None-Match": etag} if etag else {})
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            response.read()
            return int(response.status), response.headers.get("ETag")
    except urllib.error.HTTPError as exc:  # 304 and errors
        return int(exc.code), exc.headers.get("ETag")
    except OSError:
        return 0, None


def _print(results: dict[str, dict[str, PageResult]]) -> None:
    headers = ["database / URL", "path", "status", "req/s", "p50 ms", "p90 ms", "p99 ms", "1-conn p50 ms"]
    headers += ["KiB/resp", "non-2xx", "errors"]
    rows = [_row(label, name, r) for label, found in results.items() for name, r in found.items()]
    print(format_table(headers, rows))
    for label, found in results.items():
        parts = []
        for name in URLS:
            cold, again = found.get(f"{name} {COLD}"), found.get(f"{name} {REVALIDATE}")
            if cold and again and cold.result and again.result and cold.result.requests_per_s:
                rps = again.result.requests_per_s / cold.result.requests_per_s
                p99 = again.result.p99_ms / cold.result.p99_ms
                parts.append(f"{name} req/s {rps:.2f}× p99 {p99:.2f}×")
        if parts:
            print(f"{label} revalidate / cold: {'; '.join(parts)}")


def _row(label: str, name: str, page: PageResult) -> list[object]:
    r = page.result
    if r is None:
        return [f"{label} {name}", page.path, page.status, *[None] * 8]
    single = page.single.p50_ms if page.single else None
    figures = [r.requests_per_s, r.p50_ms, r.p90_ms, r.p99_ms, single, r.kib_per_response, r.non_2xx]
    return [f"{label} {name}", page.path, page.status, *figures, r.socket_errors]
