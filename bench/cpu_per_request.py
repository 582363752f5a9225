"""Server CPU per request of a paper page (a first visit, then the same page again) and of the
logged-in day page, for the code PYTHONPATH names, on an imported data directory (every paper
embedded, `paperboy index` run):

    PYTHONPATH=<checkout> .venv/bin/python -m bench.cpu_per_request <data dir> [--workers 1]

`paperboy serve` (page cache off) started by bench/server.start_serve; its process group's CPU
(`group_cpu_s`) before and after each part, divided by the requests: PAPERS distinct random
papers asked once each, one at a time, then the same again; the day page with a member's session
cookie under `wrk -t1 -c1` (after a warm-up), then under `--connections` for its latencies. CPU
per request varies much less than latency on a shared machine: compare two checkouts by running
this for each, alternately, in the same period.
"""

from __future__ import annotations

import argparse
import random
import subprocess
import time
import urllib.request
from pathlib import Path

from bench import wrk
from bench.common import child_env, paperboy_command
from bench.server import get_status, group_cpu_s, start_serve, stop_process_group

DAY = "/papers/date/2025-06-12"
PAPERS = 300
READER = ("cpu-per-request@example.org", "cpuperrequest", "a long benchmark passphrase 15")
SERVER_ENV = {"PAPERBOY_SYNC_INTERVAL_HOURS": "0", "PAPERBOY_PAGE_CACHE_MB": "0"}
GZIP = "Accept-Encoding: gzip, deflate"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("data_dir", type=Path)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--seconds", type=int, default=8)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--seed", type=int, default=15)
    args = parser.parse_args()
    env = child_env(PAPERBOY_DATA_DIR=str(args.data_dir), **SERVER_ENV)
    cookie = _reader_cookie(env)
    proc, base = start_serve(env, args.data_dir / "cpu-bench-log", args.workers)
    try:
        _wait_search(base)
        ids = random.Random(args.seed).sample(_arxiv_ids(env), PAPERS)
        first = _paper_cpu(base, proc.pid, ids)
        again = _paper_cpu(base, proc.pid, ids)
        print(f"paper page, first visit: {first:.2f} ms CPU per page ({PAPERS} pages)")
        print(f"paper page, again:       {again:.2f} ms CPU per page")
        _day(base, proc.pid, cookie, args)
    finally:
        stop_process_group(proc)


def _reader_cookie(env: dict[str, str]) -> str:
    from paperboy.config import load_settings
    from paperboy.services.accounts import log_in
    from paperboy.storage.engine import make_engine

    email, name, password = READER
    command = paperboy_command("admin", "create-user", email, name, "--password-stdin")
    subprocess.run(command, env=env, input=password + "\n", capture_output=True, text=True, check=False)
    settings = load_settings(env)
    engine = make_engine(settings.effective_database_url)
    try:
        session = log_in(engine, settings, email=email, password=password, ip="127.0.0.1")
    finally:
        engine.dispose()
    return f"Cookie: paperboy_session={session.token}"


def _arxiv_ids(env: dict[str, str]) -> list[str]:
    from sqlalchemy import select

    from paperboy.config import load_settings
    from paperboy.storage.engine import make_engine
    from paperboy.storage.schema import papers

    engine = make_engine(load_settings(env).effective_database_url)
    try:
        with engine.connect() as conn:
            return sorted(conn.execute(select(papers.c.arxiv_id)).scalars())
    finally:
        engine.dispose()


def _wait_search(base: str) -> None:
    deadline = time.monotonic() + 120
    while get_status(base + "/healthz/search") != 200 and time.monotonic() < deadline:
        time.sleep(0.5)


def _paper_cpu(base: str, group: int, ids: list[str]) -> float:
    before = group_cpu_s(group)
    for arxiv_id in ids:
        request = urllib.request.Request(f"{base}/papers/{arxiv_id}", headers={"Accept-Encoding": "gzip"})
        with urllib.request.urlopen(request, timeout=60) as response:
            response.read()
    return (group_cpu_s(group) - before) * 1000 / len(ids)


def _day(base: str, group: int, cookie: str, args: argparse.Namespace) -> None:
    headers = (cookie, GZIP)
    wrk.run_wrk(base + DAY, threads=1, connections=1, duration_s=2, headers=headers)
    before = group_cpu_s(group)
    one, _ = wrk.run_wrk(base + DAY, threads=1, connections=1, duration_s=args.seconds, headers=headers)
    cpu = (group_cpu_s(group) - before) * 1000 / max(one.requests, 1)
    print(f"day page logged in, 1 conn: {cpu:.2f} ms CPU per request, p50 {one.p50_ms:.2f} ms")
    many, _ = wrk.run_wrk(
        base + DAY, threads=2, connections=args.connections, duration_s=args.seconds, headers=headers
    )
    print(
        f"day page logged in, {args.connections} conns, --workers {args.workers}: "
        f"p50 {many.p50_ms:.1f} ms, p99 {many.p99_ms:.1f} ms, {many.requests_per_s:.0f} req/s"
    )


if __name__ == "__main__":
    main()
