"""Server CPU per request of the reader's own pages (issue 16), on a corpus that `python -m bench
personal` (or `bench.personal.populate`) has filled with members: steadier than latency on a
shared machine, and the figure the p99 target hangs on (at 8 connections on 2 cores a page of
c ms of CPU queues to about 4c at the median).

    python -m bench.personal_cpu --data-dir DIR [--database-url URL] [--members 40]

`paperboy serve --workers 1` on the database; members past the first 1,000 (never visited by the
load of `bench personal`) get a session each. For the "For you" day page and the library page:

- **first visit**: each member's page once, one after another (what is made per reader is made
  then: their For you model fitted and stored, their library's papers loaded);
- **first visit to a worker**: the server restarted (a fresh process: nothing kept in memory),
  each member's page once again: what another worker or host made before and stored is read;
- **coming back**: `wrk -t1 -c1` cycling through the same members, each request another's.

Each cell: the server's process group's CPU (utime + stime from /proc) over the requests ÷ their
number. The first two rows change the database (the models stored): run it on a copy, or accept
that a second run's "first visit" finds them stored.
"""

from __future__ import annotations

import argparse
import secrets
import time
import urllib.request
from datetime import UTC, datetime
from pathlib import Path
from tempfile import mkdtemp

from sqlalchemy import insert, select

from bench import wrk
from bench.common import child_env
from bench.personal import DAY, FOR_YOU_PAGE, Member, _member_script, _session
from bench.server import group_cpu_s, start_serve, stop_process_group
from bench.workspace import PG_KEY
from paperboy.storage.engine import make_engine
from paperboy.storage.schema import sessions, users

PAGES = (("For you day page", FOR_YOU_PAGE), ("library page", "/library"))
FIRST_MEMBER = 1_001  # the load of `bench personal` visits members 1-1,000
LOAD_SECONDS = 6
GZIP = ("Accept-Encoding: gzip, deflate",)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data-dir", required=True, type=Path)
    parser.add_argument("--database-url", default="")
    parser.add_argument("--members", type=int, default=40)
    parser.add_argument("--skip", type=int, default=0, help="members to pass over (a fresh set per run)")
    parser.add_argument(
        "--pages", choices=("all", "library", "for-you"), default="all", help="which pages to measure"
    )
    args = parser.parse_args()
    url = args.database_url or f"sqlite:///{args.data_dir / 'paperboy.sqlite3'}"
    env = child_env(PAPERBOY_DATA_DIR=str(args.data_dir), PAPERBOY_DATABASE_URL=url)
    if url.startswith("postgresql"):
        env["PAPERBOY_SECRET_KEY"] = PG_KEY  # every process of a PostgreSQL site needs it
    log_dir = Path(mkdtemp(prefix="paperboy-personal-cpu-"))
    print(f"CPU per request, ms (`serve --workers 1`, {args.members} members, day {DAY})")
    for name, path in PAGES:
        if args.pages != "all" and (args.pages == "library") != (path == "/library"):
            continue
        members = _sessions(url, args.members, FIRST_MEMBER + args.skip)
        cells = _measure(env, log_dir, path, members)
        print(f"  {name}: " + ", ".join(f"{k} {v:.2f}" for k, v in cells.items()), flush=True)
        args.skip += args.members


def _measure(env: dict[str, str], log_dir: Path, path: str, members: list[Member]) -> dict[str, float]:
    cells = {}
    for label in ("first visit", "first visit to a worker"):
        proc, base = start_serve(env, log_dir, workers=1)
        try:
            _visit(base + "/healthz", None)
            started = group_cpu_s(proc.pid)
            for member in members:
                _visit(base + path, member)
            cells[label] = (group_cpu_s(proc.pid) - started) * 1000 / len(members)
            if label == "first visit to a worker":
                cells["coming back"] = _coming_back(proc.pid, base, path, members, log_dir)
        finally:
            stop_process_group(proc)
    return cells


def _coming_back(group: int, base: str, path: str, members: list[Member], log_dir: Path) -> float:
    script = _member_script(members, path, log_dir / "members.lua")
    wrk.run_wrk(base + path, threads=1, connections=1, headers=GZIP, script=script, duration_s=2)
    started = group_cpu_s(group)
    result, _ = wrk.run_wrk(
        base + path, threads=1, connections=1, headers=GZIP, script=script, duration_s=LOAD_SECONDS
    )
    return (group_cpu_s(group) - started) * 1000 / max(1, result.requests)


def _visit(url: str, member: Member | None) -> None:
    headers = {"Accept-Encoding": "gzip, deflate"}
    if member is not None:
        headers["Cookie"] = f"paperboy_session={member.token}"
    with urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=60) as answer:
        answer.read()
        if answer.status != 200:
            raise RuntimeError(f"{url} answered {answer.status}")


def _sessions(url: str, count: int, first: int) -> list[Member]:
    """A new session for each of `count` members from the `first`th (by id order)."""
    engine = make_engine(url)
    try:
        with engine.begin() as conn:
            ids = list(
                conn.execute(select(users.c.id).order_by(users.c.id).offset(first - 1).limit(count)).scalars()
            )
            members = [Member(uid, secrets.token_urlsafe(32), secrets.token_urlsafe(32)) for uid in ids]
            now = datetime.now(UTC)
            conn.execute(insert(sessions), [_session(m, now) for m in members])
        return members
    finally:
        engine.dispose()


if __name__ == "__main__":
    started = time.perf_counter()
    main()
    print(f"  ({time.perf_counter() - started:.0f} s)")
