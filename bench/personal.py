"""The reader's own pages under load (issue 16): 10,000 members, 200,000 saves, 50,000 "not
interested" and 20,000 follows on the full corpus; `paperboy serve --workers 2`, wrk on 127.0.0.1.

    python -m bench personal                      # SQLite, and PostgreSQL with PAPERBOY_BENCH_POSTGRES_URL
    python -m bench personal --gc-ab              # each page with the collector policy off, then on

Members are written straight into the imported corpus. Each has a taste: one of the corpus's 40
largest categories (drawn by size) whose papers make 70% of their ~20 saves, the rest drawn
across the corpus; "not interested" marks are drawn from the same category's papers (members
hide what they are shown), "seen" marks for a quarter of the papers they saved; follows are
their category and an author of one of their saved papers. Members 1..1000
get a session, and every load cycles through them, so that each request is another reader's
page (their own library, their own marks): no reader's page is warm for the next request.

Rows: the library page; the day page logged in with "hide seen" on; the "For you" day page. Each
twice: every member's first visit (two requests at a time; what is made per reader is made then:
their For you model, their library's papers), then wrk's load over the same members coming back.
And "an action reflected": a member marks the first paper of their "For you" page not
interested, and the page is read again until its first card is another, reporting the seconds
it took.
"""

from __future__ import annotations

import random
import re
import secrets
import time
import urllib.request
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, func, insert, select, update

from bench import wrk
from bench.common import BenchError, Corpus, each_database, format_table, section
from bench.import_speed import imported_database
from bench.member_saves import draw_saves, save_rows
from bench.pages import WARMUP_S, Load
from bench.reference_vectors import embed_beforehand
from bench.server import GC_AB, serving
from bench.workspace import Target, Workspace
from paperboy.domain.follows import author_key
from paperboy.services.accounts import hash_password
from paperboy.services.sessions import token_digest
from paperboy.storage.engine import make_engine
from paperboy.storage.schema import (
    follows,
    library_items,
    paper_authors,
    paper_categories,
    paper_feedback,
    seen_papers,
    sessions,
    users,
)

DAY = date(2025, 6, 12)
DAY_PAGE = f"/papers/date/{DAY}"
FOR_YOU_PAGE = f"/for-you/date/{DAY}"
MEMBERS = 10_000
SAVES = 200_000
NOT_INTERESTED = 50_000
FOLLOWS = 20_000
WITH_SESSIONS = 1_000
TOP_CATEGORIES = 40
TARGET_P99_MS = 50.0
TARGET_REFLECTED_S = 1.0
SEED = 20261207


@dataclass(frozen=True, slots=True)
class Member:
    user_id: int
    token: str
    csrf: str


@dataclass(slots=True)
class Row:
    name: str
    result: wrk.WrkResult | None = None
    seconds: float | None = None  # for "an action reflected"
    notes: list[str] = field(default_factory=list)


def run(ws: Workspace, corpus: Corpus, load: Load, gc_ab: bool = False) -> dict[str, Any]:
    """`gc_ab`: every row twice, served with the collector policy off, then on (bench/server.py)."""
    section(
        f"Personal pages: {MEMBERS:,} members, {SAVES:,} saves, {NOT_INTERESTED:,} not interested,"
        f" {FOLLOWS:,} follows"
    )
    if not wrk.available():
        raise BenchError("wrk is not installed (apt-get install wrk)")
    modes = GC_AB if gc_ab else {"": {}}
    results, errors = each_database(ws.labels(), lambda label: _measure(ws, corpus, label, load, modes))
    if results:
        _print(results)
    return {
        "load": asdict(load),
        "gc_ab": gc_ab,
        "databases": {label: [_as_json(row) for row in rows] for label, rows in results.items()},
        "errors": errors,
    }


def _measure(
    ws: Workspace, corpus: Corpus, label: str, load: Load, modes: dict[str, dict[str, str]]
) -> list[Row]:
    target = imported_database(ws, corpus, label)
    print(f"  {label}: {embed_beforehand(target, corpus)}", flush=True)
    engine = make_engine(target.url)
    try:
        started = time.perf_counter()
        members = populate(engine)
        print(f"  {label}: members written in {time.perf_counter() - started:.0f} s", flush=True)
        rows = []
        for mode, env in modes.items():  # one server each, back to back
            rows += _load_pages(ws, target, f"{label} {mode}".rstrip(), load, members, env)
        return rows
    finally:
        engine.dispose()


def _load_pages(
    ws: Workspace, target: Target, label: str, load: Load, members: list[Member], env: dict[str, str]
) -> list[Row]:
    rows = []
    pages = [
        ("library page", "/library"),
        ("day page, hide seen", DAY_PAGE),
        ("For you day page", FOR_YOU_PAGE),
    ]
    log_dir = ws.log_dir(f"personal-{label.replace(' ', '-')}")
    with serving(target, log_dir, workers=load.workers, **env) as base:
        for name, path in pages:
            first = _first_visits(f"{label} {name}, each member's first visit", base, path, members)
            rows.append(first)
            if first.result is None or first.result.non_2xx:
                _print_errors(log_dir)
            if first.result is not None:
                rows.append(_load_as_members(ws, f"{label} {name}", base, path, members, load))
        rows.append(_reflected(f"{label} not interested reflected in For you", base, members[-1]))
    return rows


def _print_errors(log_dir: Path) -> None:
    """The server's last traceback, so that a failing page says why."""
    for log in sorted(log_dir.glob("*.log")):
        text = log.read_text(errors="replace")
        if "Traceback" in text:
            print(text[text.rindex("Traceback") :][:3000], flush=True)


def _first_visits(name: str, base: str, path: str, members: list[Member]) -> Row:
    """Every member's page once, two at a time (as the server's two workers take them): the first
    visit pays what is made per reader (their model, their papers); the load after it measures
    members coming back. Latencies of single requests, so the wrk columns are filled by hand."""
    from concurrent.futures import ThreadPoolExecutor

    def visit(member: Member) -> tuple[int, float]:
        started = time.perf_counter()
        status = _status_as(base + path, member)
        return status, (time.perf_counter() - started) * 1000

    started = time.perf_counter()
    with ThreadPoolExecutor(2) as pool:
        answers = list(pool.map(visit, members))
    wall = time.perf_counter() - started
    failed = sum(1 for status, _ in answers if status != 200)
    if failed == len(answers):
        return Row(name, notes=[f"GET {path} answered {answers[0][0]}: not loaded"])
    times = sorted(ms for _, ms in answers)
    result = wrk.WrkResult(
        requests=len(times),
        requests_per_s=len(times) / wall,
        p50_ms=times[len(times) // 2],
        p75_ms=times[len(times) * 3 // 4],
        p90_ms=times[len(times) * 9 // 10],
        p99_ms=times[min(len(times) - 1, len(times) * 99 // 100)],
        kib_per_response=float("nan"),
        non_2xx=failed,
        socket_errors=0,
        socket_error_line="",
    )
    row = Row(name, result, notes=[f"{failed} not 200"] if failed else [])
    print(f"  {name}: p50 {result.p50_ms:.1f} ms, p99 {result.p99_ms:.1f} ms (2 at a time)", flush=True)
    return row


def _load_as_members(
    ws: Workspace, name: str, base: str, path: str, members: list[Member], load: Load
) -> Row:
    script = _member_script(members, path, ws.root / f"{name.replace(' ', '-').replace(',', '')}.lua")
    status = _status_as(base + path, members[0])
    if status != 200:
        return Row(name, notes=[f"GET {path} answered {status} for a logged-in member: not loaded"])
    for seconds in (WARMUP_S, load.duration_s):
        result, _ = wrk.run_wrk(
            base + path,
            threads=load.threads,
            connections=load.connections,
            headers=load.headers,
            script=script,
            duration_s=seconds,
        )
    row = Row(name, result)
    if result.non_2xx or result.socket_errors:
        row.notes.append(f"{result.non_2xx} non-2xx, {result.socket_errors} socket errors")
    r = result
    print(f"  {name}: {r.requests_per_s:,.0f} req/s, p50 {r.p50_ms:.1f} ms, p99 {r.p99_ms:.1f} ms")
    return row


def _reflected(name: str, base: str, member: Member) -> Row:
    """Mark the first paper of the member's For you page not interested, then read the page until
    its first card is another."""
    before = _first_cards(_get_as(base + FOR_YOU_PAGE, member))
    if not before:
        return Row(name, notes=["the For you page showed no cards"])
    _post_as(base + f"/papers/{before[0]}/not-interested", member, "action=hide")
    started = time.perf_counter()
    while time.perf_counter() - started < 10:
        if _first_cards(_get_as(base + FOR_YOU_PAGE, member))[:1] != before[:1]:
            seconds = time.perf_counter() - started
            print(f"  {name}: {seconds:.3f} s")
            return Row(name, seconds=seconds)
        time.sleep(0.01)
    return Row(name, notes=["the page did not change within 10 s"])


def _first_cards(html: str) -> list[str]:
    return re.findall(r'<h2 class="card-title"><a href="/papers/([^"]+)"', html)


def _status_as(url: str, member: Member) -> int:
    try:
        with urllib.request.urlopen(_request(url, member), timeout=30) as answer:
            return int(answer.status)
    except urllib.error.HTTPError as exc:
        return exc.code


def _get_as(url: str, member: Member) -> str:
    with urllib.request.urlopen(_request(url, member), timeout=30) as answer:
        return str(answer.read().decode("utf-8"))


def _post_as(url: str, member: Member, body: str) -> None:
    request = _request(url, member, body.encode())
    request.add_header("X-CSRF-Token", member.csrf)
    request.add_header("Accept", "application/json")
    with urllib.request.urlopen(request, timeout=30):
        pass


def _request(url: str, member: Member, data: bytes | None = None) -> urllib.request.Request:
    return urllib.request.Request(url, data=data, headers={"Cookie": f"paperboy_session={member.token}"})


def _member_script(members: Sequence[Member], path: str, destination: Path) -> Path:
    """wrk Lua: request k is member k mod M's `path`, each thread starting elsewhere."""
    tokens = ",\n".join(f'  "{m.token}"' for m in members)
    destination.write_text(
        f"""local tokens = {{
{tokens}
}}
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
  local headers = {{ ["Cookie"] = "paperboy_session=" .. tokens[(counter % #tokens) + 1] }}
  return wrk.format("GET", "{path}", headers)
end
""",
        encoding="utf-8",
    )
    return destination


# --- populating ------------------------------------------------------------------------------------


def populate(engine: Engine) -> list[Member]:
    """The members, their saves, marks and follows; sessions for the first WITH_SESSIONS.
    Refuses a database that has members already (populate a fresh import)."""
    rng = random.Random(SEED)
    with engine.connect() as conn:
        if conn.execute(select(func.count()).select_from(users)).scalar_one():
            raise BenchError("the corpus database already has members: populate a fresh import")
        by_category = _papers_by_category(conn)
    categories = sorted(by_category, key=lambda c: -len(by_category[c]))[:TOP_CATEGORIES]
    weights = [len(by_category[c]) for c in categories]
    now = datetime.now(UTC)
    password = hash_password("bench member password")
    with engine.begin() as conn:
        conn.execute(insert(users), [_member_row(i, password, now) for i in range(MEMBERS)])
        user_ids = list(conn.execute(select(users.c.id).order_by(users.c.id)).scalars())
        tastes = {uid: rng.choices(categories, weights)[0] for uid in user_ids}
        saves = _saves(rng, tastes, by_category, now)
        conn.execute(insert(library_items), saves)
        conn.execute(insert(seen_papers), list(_seen_rows(saves)))
        conn.execute(
            insert(paper_feedback),
            _hidden(rng, tastes, by_category, saves, now),
        )
        conn.execute(update(users).values(hide_seen=True))
        members = [
            Member(uid, secrets.token_urlsafe(32), secrets.token_urlsafe(32))
            for uid in user_ids[:WITH_SESSIONS]
        ]
        conn.execute(insert(sessions), [_session(m, now) for m in members])
        _follows(conn, rng, tastes, saves, now)
    return members


def _papers_by_category(conn: Any) -> dict[str, list[int]]:
    rows = conn.execute(
        select(paper_categories.c.category, paper_categories.c.paper_id).where(
            paper_categories.c.position == 0
        )
    )
    found: dict[str, list[int]] = {}
    for category, paper_id in rows:
        found.setdefault(category, []).append(int(paper_id))
    return found


def _saves(
    rng: random.Random, tastes: dict[int, str], by_category: dict[str, list[int]], now: datetime
) -> list[dict[str, Any]]:
    drawn = draw_saves(rng, tastes, by_category, SAVES // len(tastes))
    # Each member's papers in a set's order, as this benchmark has always stored them (which one
    # is saved last, and so whose author is followed, depends on it): the same data as before.
    return save_rows({uid: list(set(papers)) for uid, papers in drawn.items()}, now)


def _seen_rows(saves: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    for save in saves[::4]:  # a quarter of the saved papers were opened too
        yield {
            "user_id": save["user_id"],
            "paper_id": save["paper_id"],
            "seen_at": save["saved_at"],
            "how": "opened",
        }


def _hidden(
    rng: random.Random,
    tastes: dict[int, str],
    by_category: dict[str, list[int]],
    saves: list[dict[str, Any]],
    now: datetime,
) -> list[dict[str, Any]]:
    per_member = NOT_INTERESTED // len(tastes)
    saved: dict[int, set[int]] = {}
    for save in saves:
        saved.setdefault(save["user_id"], set()).add(save["paper_id"])
    rows = []
    for uid, taste in tastes.items():
        chosen = {rng.choice(by_category[taste]) for _ in range(per_member)} - saved.get(uid, set())
        rows += [
            {"user_id": uid, "paper_id": pid, "signal": "not_interested", "created_at": now} for pid in chosen
        ]
    return rows


def _follows(
    conn: Any, rng: random.Random, tastes: dict[int, str], saves: list[dict[str, Any]], now: datetime
) -> None:
    """FOLLOWS follows: each member follows their category, and the others an author of one of
    their saved papers (drawn), until FOLLOWS are made."""
    first_saved: dict[int, int] = {}
    for save in saves:
        first_saved.setdefault(save["user_id"], save["paper_id"])
    names: dict[int, list[str]] = {}
    wanted = list(first_saved.values())
    for start in range(0, len(wanted), 5000):
        rows = conn.execute(
            select(paper_authors.c.paper_id, paper_authors.c.name).where(
                paper_authors.c.paper_id.in_(wanted[start : start + 5000])
            )
        )
        for paper_id, name in rows:
            names.setdefault(int(paper_id), []).append(name)
    rows_out = [
        {"user_id": uid, "kind": "category", "value": taste, "label": taste, "created_at": now}
        for uid, taste in tastes.items()
    ]
    for uid, paper_id in first_saved.items():
        if len(rows_out) >= FOLLOWS:
            break
        name = rng.choice(names.get(paper_id) or [""])
        if author_key(name):
            rows_out.append(
                {
                    "user_id": uid,
                    "kind": "author",
                    "value": author_key(name),
                    "label": name,
                    "created_at": now,
                }
            )
    conn.execute(insert(follows), rows_out[:FOLLOWS])


def _member_row(i: int, password: str, now: datetime) -> dict[str, Any]:
    return {
        "email": f"member{i}@bench.invalid",
        "name": f"member{i}",
        "password_hash": password,
        "role": "member",
        "email_verified_at": now,
        "created_at": now,
        "password_changed_at": now,
    }


def _session(member: Member, now: datetime) -> dict[str, Any]:
    return {
        "id": token_digest(member.token),
        "user_id": member.user_id,
        "csrf_token": member.csrf,
        "created_at": now,
        "expires_at": now + timedelta(days=1),
        "last_seen_at": now,
    }


# --- printing ----------------------------------------------------------------------------------------


def _as_json(row: Row) -> dict[str, Any]:
    return {
        "name": row.name,
        "seconds": row.seconds,
        "notes": row.notes,
        **(asdict(row.result) if row.result else {}),
    }


def _print(results: dict[str, list[Row]]) -> None:
    headers = ["database / load", "req/s", "p50 ms", "p90 ms", "p99 ms", "p99 ÷ target", "notes"]
    table = []
    for rows in results.values():
        for row in rows:
            r = row.result
            if r is not None:
                table.append(
                    [
                        row.name,
                        r.requests_per_s,
                        r.p50_ms,
                        r.p90_ms,
                        r.p99_ms,
                        f"{r.p99_ms / TARGET_P99_MS:.2f}",
                        "; ".join(row.notes),
                    ]
                )
            elif row.seconds is not None:
                ratio = f"{row.seconds / TARGET_REFLECTED_S:.2f} (of {TARGET_REFLECTED_S:.0f} s)"
                table.append([row.name, None, None, None, None, ratio, f"{row.seconds:.3f} s"])
            else:
                table.append([row.name, None, None, None, None, None, "; ".join(row.notes)])
    print(format_table(headers, table))
    print(f"Targets: p99 ≤ {TARGET_P99_MS:.0f} ms; an action reflected within {TARGET_REFLECTED_S:.0f} s.")
