"""The community under load: the trending day page with ~100k votes in the database, and the
vote endpoint with many concurrent voters (`paperboy serve --workers 2`, wrk on 127.0.0.1).

Votes are written straight into the imported corpus (2,000 verified readers, ~50 votes each,
papers drawn from a Zipf distribution so that a few papers collect most votes, as on real sites);
then the server is loaded page by page. The vote load cycles through 1,000 logged-in readers and
the day's papers, upvoting then removing, each request with its own session cookie and CSRF header.
"""

from __future__ import annotations

import itertools
import random
import secrets
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, func, insert, select, text

from bench import wrk
from bench.common import BenchError, Corpus, each_database, format_table, section
from bench.import_speed import imported_database  # the corpus the import benchmark filled
from bench.pages import STEADY_STATE, WARMUP_S, Load
from bench.reference_vectors import embed_beforehand
from bench.server import get_status, serving
from bench.workspace import Target, Workspace
from paperboy.services.accounts import hash_password
from paperboy.services.sessions import token_digest
from paperboy.storage.engine import make_engine
from paperboy.storage.schema import listings, paper_stats, papers, sessions, users, votes

DAY = date(2025, 6, 12)
DAY_PAGE = f"/papers/date/{DAY}"
WEEK_PAGE = "/papers/week/2025-W24"
READERS = 2000
VOTES_PER_READER = 50
VOTERS = 1000  # readers with a session in the vote load
TARGET_P99_MS = 50.0
# The vote load must measure the endpoint, not the limiter refusing it (the limiter still runs).
NO_LIMITS = {"PAPERBOY_RATE_LIMIT_VOTE": "10000000/minute", "PAPERBOY_RATE_LIMIT_IP_FACTOR": "1"}


@dataclass(frozen=True, slots=True)
class Voter:
    token: str
    csrf: str


@dataclass(slots=True)
class Loaded:
    name: str
    result: wrk.WrkResult | None
    notes: list[str]


def run(ws: Workspace, corpus: Corpus, load: Load) -> dict[str, Any]:
    section(f"Community: trending pages with {READERS * VOTES_PER_READER:,} votes, and the vote endpoint")
    if not wrk.available():
        raise BenchError("wrk is not installed (apt-get install wrk)")
    results, errors = each_database(ws.labels(), lambda label: _measure(ws, corpus, label, load))
    if results:
        _print(results)
    return {
        "load": asdict(load),
        "server_state": STEADY_STATE,
        "databases": {label: [_as_json(r) for r in rows] for label, rows in results.items()},
        "errors": errors,
    }


def _measure(ws: Workspace, corpus: Corpus, label: str, load: Load) -> list[Loaded]:
    target = imported_database(ws, corpus, label)
    print(f"  {label}: {embed_beforehand(target, corpus)}", flush=True)
    engine = make_engine(target.url)
    try:
        voters, day_papers = _populate(engine)
        rows = _pages(ws, target, label, load, voters[0])
        rows.append(_votes(ws, target, label, load, voters, day_papers, engine))
    finally:
        engine.dispose()
    return rows


def _pages(ws: Workspace, target: Target, label: str, load: Load, reader: Voter) -> list[Loaded]:
    rows = []
    for cache_mb, suffix in (("64", ""), ("0", " (no cache)")):
        log_dir = ws.log_dir(f"community-{label}")
        with serving(target, log_dir, workers=load.workers, PAPERBOY_PAGE_CACHE_MB=cache_mb) as base:
            for name, path in (("trending day", DAY_PAGE), ("trending week", WEEK_PAGE)):
                rows.append(_load_get(f"{label} {name}{suffix}", base + path, load))
            if cache_mb == "64":
                cookie = f"Cookie: paperboy_session={reader.token}"
                rows.append(_load_get(f"{label} trending day, logged in", base + DAY_PAGE, load, cookie))
    return rows


def _load_get(name: str, url: str, load: Load, *headers: str) -> Loaded:
    status = get_status(url)
    if status != 200 and not headers:
        return Loaded(name, None, [f"GET answered {status}: not loaded"])
    all_headers = (*load.headers, *headers)
    many = {"threads": load.threads, "connections": load.connections, "headers": all_headers}
    wrk.run_wrk(url, **many, duration_s=WARMUP_S)
    result, report = wrk.run_wrk(url, **many, duration_s=load.duration_s)
    return _report(name, result, report)


def _votes(
    ws: Workspace,
    target: Target,
    label: str,
    load: Load,
    voters: list[Voter],
    day_papers: list[str],
    engine: Engine,
) -> Loaded:
    script = _vote_script(voters, day_papers, ws.root / f"votes-{label}.lua")
    log_dir = ws.log_dir(f"votes-{label}")
    with serving(target, log_dir, workers=load.workers, **NO_LIMITS) as base:
        many = {"threads": load.threads, "connections": load.connections}
        result, report = wrk.run_wrk(base + "/", **many, duration_s=load.duration_s, script=script)
    loaded = _report(f"{label} POST vote", result, report)
    log = "\n".join(p.read_text(errors="replace") for p in log_dir.glob("*.log"))
    if "database is locked" in log:
        loaded.notes.append("'database is locked' in the server log")
    loaded.notes += _check_counts(engine)
    return loaded


def _report(name: str, result: wrk.WrkResult, report: str) -> Loaded:
    notes = []
    if result.non_2xx or result.socket_errors:
        notes.append(f"{result.non_2xx} non-2xx, {result.socket_errors} socket errors")
    r = result
    print(f"  {name}: {r.requests_per_s:,.0f} req/s, p50 {r.p50_ms:.1f} ms, p99 {r.p99_ms:.1f} ms")
    for note in notes:
        print(f"  {name}: {note}")
    return Loaded(name, result, notes)


def _check_counts(engine: Engine) -> list[str]:
    """Every paper's counter equals its vote rows after the load."""
    counted = select(votes.c.paper_id, func.count().label("n")).group_by(votes.c.paper_id).subquery()
    query = (
        select(func.count())
        .select_from(paper_stats.outerjoin(counted, counted.c.paper_id == paper_stats.c.paper_id))
        .where(paper_stats.c.upvotes != func.coalesce(counted.c.n, 0))
    )
    with engine.connect() as conn:
        wrong = conn.execute(query).scalar_one()
    return [f"{wrong} papers whose upvote counter differs from their vote rows"] if wrong else []


# --- populating ------------------------------------------------------------------------------------


def _populate(engine: Engine) -> tuple[list[Voter], list[str]]:
    """Readers, their votes and the counters; sessions for the voters. Idempotent per database."""
    with engine.connect() as conn:
        if conn.execute(select(func.count()).select_from(users)).scalar_one():
            raise BenchError("the corpus database already has readers: populate a fresh import")
        ids = [row.id for row in conn.execute(select(papers.c.id).order_by(papers.c.id))]
        day = [
            row.arxiv_id
            for row in conn.execute(
                select(papers.c.arxiv_id)
                .join(listings, listings.c.paper_id == papers.c.id)
                .where(listings.c.day == DAY)
            )
        ]
    now = datetime.now(UTC)
    rng = random.Random(20250612)
    password = hash_password("bench reader password")
    voters = [Voter(secrets.token_urlsafe(32), secrets.token_urlsafe(32)) for _ in range(VOTERS)]
    with engine.begin() as conn:
        conn.execute(insert(users), [_reader(i, password, now) for i in range(READERS)])
        user_ids = [row.id for row in conn.execute(select(users.c.id).order_by(users.c.id))]
        conn.execute(insert(votes), list(_vote_rows(rng, user_ids, ids, now)))
        conn.execute(
            insert(paper_stats).from_select(
                ["paper_id", "upvotes", "comments", "updated_at"],
                select(votes.c.paper_id, func.count(), text("0"), func.max(votes.c.created_at)).group_by(
                    votes.c.paper_id
                ),
            )
        )
        conn.execute(
            insert(sessions), [_session(v, uid, now) for v, uid in zip(voters, user_ids, strict=False)]
        )
    return voters, day


def _reader(i: int, password: str, now: datetime) -> dict[str, Any]:
    return {
        "email": f"reader{i}@bench.invalid",
        "name": f"reader{i}",
        "password_hash": password,
        "role": "member",
        "email_verified_at": now,
        "created_at": now,
        "password_changed_at": now,
    }


def _vote_rows(
    rng: random.Random, user_ids: list[int], paper_ids: list[int], now: datetime
) -> Iterator[dict[str, Any]]:
    shuffled = paper_ids[:]
    rng.shuffle(shuffled)
    weights = [1 / (rank + 1) for rank in range(len(shuffled))]  # Zipf, s = 1
    cumulative = list(itertools.accumulate(weights))
    for user_id in user_ids:
        chosen = set(rng.choices(shuffled, cum_weights=cumulative, k=VOTES_PER_READER * 2))
        for paper_id in list(chosen)[:VOTES_PER_READER]:
            yield {"paper_id": paper_id, "user_id": user_id, "created_at": now}


def _session(voter: Voter, user_id: int, now: datetime) -> dict[str, Any]:
    return {
        "id": token_digest(voter.token),
        "user_id": user_id,
        "csrf_token": voter.csrf,
        "created_at": now,
        "expires_at": now + timedelta(days=1),
        "last_seen_at": now,
    }


def _vote_script(voters: list[Voter], day_papers: list[str], destination: Path) -> Path:
    """wrk Lua: request k is voter k mod V on paper (k div V) mod P, "up" on even rounds, else "remove"."""
    if not day_papers:
        raise BenchError(f"no papers listed on {DAY}")
    tokens = ",\n".join(f'  {{"{v.token}", "{v.csrf}"}}' for v in voters)
    ids = ", ".join(f'"{p}"' for p in day_papers)
    destination.write_text(
        f"""local voters = {{
{tokens}
}}
local papers = {{ {ids} }}
local threads = 0

function setup(thread)
  thread:set("offset", threads * 7919)
  threads = threads + 1
end

function init(args)
  counter = offset or 0
end

function request()
  counter = counter + 1
  local voter = voters[(counter % #voters) + 1]
  local round = math.floor(counter / #voters)
  local paper = papers[(round % #papers) + 1]
  local action = (math.floor(round / #papers) % 2 == 0) and "up" or "remove"
  local headers = {{
    ["Cookie"] = "paperboy_session=" .. voter[1],
    ["X-CSRF-Token"] = voter[2],
    ["Accept"] = "application/json",
    ["Content-Type"] = "application/x-www-form-urlencoded",
  }}
  return wrk.format("POST", "/papers/" .. paper .. "/vote", headers, "action=" .. action)
end
""",
        encoding="utf-8",
    )
    return destination


# --- printing ----------------------------------------------------------------------------------------


def _as_json(row: Loaded) -> dict[str, Any]:
    return {"name": row.name, "notes": row.notes, **(asdict(row.result) if row.result else {})}


def _print(results: dict[str, list[Loaded]]) -> None:
    headers = ["database / load", "req/s", "p50 ms", "p90 ms", "p99 ms", "non-2xx", "errors", "notes"]
    rows = [
        [
            r.name,
            r.result.requests_per_s,
            r.result.p50_ms,
            r.result.p90_ms,
            r.result.p99_ms,
            r.result.non_2xx,
            r.result.socket_errors,
            "; ".join(r.notes),
        ]
        if r.result
        else [r.name, None, None, None, None, None, None, "; ".join(r.notes)]
        for rows_ in results.values()
        for r in rows_
    ]
    print(format_table(headers, rows))
    ratios = [
        f"{r.name} {r.result.p99_ms / TARGET_P99_MS:.2f}×"
        for rows_ in results.values()
        for r in rows_
        if r.result and "trending day" in r.name
    ]
    print(f"target: trending day page p99 < {TARGET_P99_MS:.0f} ms; p99 / target: {', '.join(ratios)}")
