"""Load and faults: `paperboy serve --workers 2` on the full corpus with 2,000 members, 60 s of mixed
load at 256 connections from 127.0.0.1 (bench/soak_load.py), then the same load while one uvicorn
worker is killed with SIGKILL. After each phase every vote and comment that got a success answer
must be stored exactly once, and nothing unacknowledged more than once.

Members, their sessions and some API tokens are written through storage/ and services/ (verified,
no sign-up flow). The rate limits are raised by settings (SERVER_ENV): every client is 127.0.0.1.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import re
import secrets
import signal
from collections import Counter
from dataclasses import dataclass, field, replace
from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, select

from bench.api import SERVER_ENV as API_SERVER_ENV
from bench.common import BenchError, Corpus, each_database, format_table, section
from bench.community import _check_counts  # every paper's vote counter equals its vote rows
from bench.import_speed import imported_database
from bench.pages import sample_ids
from bench.server import serving
from bench.soak_load import MIX, Member, Outcome, Plan, run_load
from bench.workspace import Workspace
from paperboy.services.accounts import hash_password
from paperboy.services.api_tokens import create_token
from paperboy.services.sessions import token_digest
from paperboy.storage import users as users_store
from paperboy.storage.engine import make_engine, now_utc
from paperboy.storage.schema import comments, papers, votes
from paperboy.storage.transactions import write_transaction

DAY, WEEK = "2025-06-12", "2025-W24"
API_TOKENS = 200  # members that also call the API with a Bearer token
UNLIMITED = "1000000000/minute"
SERVER_ENV = {
    **API_SERVER_ENV,  # /api/ budgets raised, hashing embedder, no background embedding
    "PAPERBOY_RATE_LIMIT_VOTE": UNLIMITED,
    "PAPERBOY_RATE_LIMIT_COMMENT": UNLIMITED,
    "PAPERBOY_RATE_LIMIT_SEARCH": UNLIMITED,
    "PAPERBOY_RATE_LIMIT_IP_FACTOR": "1",
}
_NONCE = re.compile(r"Soak comment ([0-9a-f]{16}):")


@dataclass
class Phase:
    name: str
    outcome: Outcome
    findings: list[str] = field(default_factory=list)
    kill: dict[str, Any] = field(default_factory=dict)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("soak")
    group.add_argument("--seconds", type=int, default=60, help="soak: seconds of steady load (default 60)")
    group.add_argument("--kill-seconds", type=int, default=30, help="soak: seconds of the SIGKILL phase")
    group.add_argument("--members", type=int, default=2000, help="soak: verified members (default 2000)")
    group.add_argument(
        "--soak-connections", type=int, default=256, help="soak: concurrent connections (default 256)"
    )


def run(ws: Workspace, corpus: Corpus, args: argparse.Namespace) -> dict[str, Any]:
    section(
        f"Soak: {args.soak_connections} connections, {args.seconds} s steady, then {args.kill_seconds} s "
        f"with a worker SIGKILLed; {args.members:,} members"
    )
    if ws.pg_note:
        print(ws.pg_note)
    results, errors = each_database(ws.labels(), lambda label: _measure(ws, corpus, label, args))
    for label, phases in results.items():
        _print(label, phases)
    return {
        "settings": {"rate limits raised": SERVER_ENV, **{k: getattr(args, k) for k in _ARGS}},
        "databases": {label: [_as_json(p) for p in phases] for label, phases in results.items()},
        "errors": errors,
    }


_ARGS = ("seconds", "kill_seconds", "members", "soak_connections")


def _measure(ws: Workspace, corpus: Corpus, label: str, args: argparse.Namespace) -> list[Phase]:
    target = imported_database(ws, corpus, label)
    engine = make_engine(target.url)
    try:
        members = make_members(engine, args.members)
        paper_ids = _known(engine, sample_ids(corpus.listings, 1000))
        log_dir = ws.log_dir(f"soak-{label}")
        used: set[tuple[int, str]] = set()
        with serving(target, log_dir, workers=2, **SERVER_ENV) as base:
            plan = Plan(base, members, paper_ids, DAY, WEEK, args.soak_connections, args.seconds)
            print(f"  {label}: steady load …", flush=True)
            steady = Phase("steady", asyncio.run(run_load(plan, used, seed=1)))
            print(f"  {label}: load with a worker killed …", flush=True)
            killed = _kill_phase(plan, used, args.kill_seconds)
        phases = [steady, killed]
        _check(engine, members, phases, log_dir)
    finally:
        engine.dispose()
    return phases


# --- members --------------------------------------------------------------------------------------


def make_members(engine: Engine, count: int) -> list[Member]:
    """`count` verified members with a session each (one password hash for all: argon2 is slow);
    the first API_TOKENS also get an API token (read, vote, comment)."""
    password_hash, now = hash_password("soak member password"), now_utc()
    made = []
    with write_transaction(engine) as conn:
        for i in range(count):
            user = users_store.insert_user(
                conn,
                email=f"soak{i}@bench.invalid",
                name=f"soak{i}",
                password_hash=password_hash,
                role="member",
                now=now,
                verified=True,
            )
            session, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
            users_store.insert_session(
                conn,
                session_id=token_digest(session),
                user_id=user.id,
                csrf_token=csrf,
                now=now,
                expires_at=now + timedelta(days=1),
            )
            made.append((user, session, csrf))
    return [
        Member(user.id, session, csrf, _token(engine, user) if n < API_TOKENS else None)
        for n, (user, session, csrf) in enumerate(made)
    ]


def _token(engine: Engine, user: Any) -> str:
    return create_token(engine, user, "soak", ["read", "vote", "comment"]).plaintext


def _known(engine: Engine, ids: list[str]) -> list[str]:
    with engine.connect() as conn:
        found = list(conn.execute(select(papers.c.arxiv_id).where(papers.c.arxiv_id.in_(ids))).scalars())
    if not found:
        raise BenchError("none of the sampled papers is in the database")
    return found


# --- the SIGKILL phase ----------------------------------------------------------------------------


def _kill_phase(plan: Plan, used: set[tuple[int, str]], seconds: int) -> Phase:
    """The same load for `seconds`; a third of the way in, SIGKILL one worker, then watch for a
    new one (uvicorn's supervisor may start a replacement)."""
    port = int(plan.base.rsplit(":", 1)[1])
    server = _serve_pid(port)
    kill: dict[str, Any] = {"workers before": sorted(worker_pids(server)), "at s": seconds / 3}

    def during(elapsed: float) -> None:
        if "victim" not in kill and elapsed >= kill["at s"]:
            held = {pid: connections_held(pid, port) for pid in kill["workers before"]}
            victim = max(held, key=lambda pid: held[pid])  # the worker serving the most clients
            os.kill(victim, signal.SIGKILL)
            kill.update(victim=victim, **{"at s": round(elapsed, 2), "connections per worker": held})
        elif "victim" in kill and "replacement" not in kill:
            new = worker_pids(server) - set(kill["workers before"])
            if new:
                kill.update(replacement=min(new), **{"replaced after s": round(elapsed - kill["at s"], 2)})

    outcome = asyncio.run(run_load(replace(plan, seconds=seconds), used, seed=2, during=during))
    kill["workers after"] = sorted(worker_pids(server))
    after = [t - kill["at s"] for t, _, _ in outcome.failures if t >= kill.get("at s", 0)]
    kill["failures after kill"] = len(after)
    kill["failure window s"] = [round(min(after), 2), round(max(after), 2)] if after else None
    kill["failure kinds"] = dict(Counter(what for _, _, what in outcome.failures))
    return Phase("worker SIGKILLed", outcome, kill=kill)


def _serve_pid(port: int) -> int:
    """The `paperboy serve` process listening on `port` (found in /proc by its command line)."""
    for pid, cmdline in _processes():
        if (
            "paperboy" in cmdline
            and "serve" in cmdline
            and ["--port", str(port)] == _after(cmdline, "--port")
        ):
            return pid
    raise BenchError(f"no paperboy serve process for port {port} in /proc")


def worker_pids(parent: int) -> set[int]:
    """uvicorn's worker processes: children of `parent` started by multiprocessing's spawn_main
    (its resource tracker is a child too, and is left out)."""
    return {pid for pid, cmdline in _processes(parent) if any("spawn_main" in part for part in cmdline)}


def connections_held(pid: int, port: int) -> int:
    """Established TCP connections to local `port` whose socket is open in process `pid`."""
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with contextlib.suppress(OSError), open(table) as lines:
            for line in list(lines)[1:]:
                fields = line.split()
                if int(fields[1].rsplit(":", 1)[1], 16) == port and fields[3] == "01":
                    inodes.add(fields[9])
    held = 0
    with contextlib.suppress(OSError):
        for fd in Path(f"/proc/{pid}/fd").iterdir():
            with contextlib.suppress(OSError):
                target = os.readlink(fd)
                held += target.startswith("socket:[") and target[8:-1] in inodes
    return held


def _processes(parent: int | None = None) -> list[tuple[int, list[str]]]:
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().decode(errors="replace").split("\0")
            ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            continue  # gone meanwhile
        if parent is None or ppid == parent:
            found.append((int(entry.name), cmdline))
    return found


def _after(cmdline: list[str], flag: str) -> list[str]:
    return cmdline[cmdline.index(flag) : cmdline.index(flag) + 2] if flag in cmdline else []


# --- checking the writes --------------------------------------------------------------------------


def _check(engine: Engine, members: list[Member], phases: list[Phase], log_dir: Path) -> None:
    """Acknowledged votes and comments stored exactly once, unacknowledged at most once, nothing
    unasked; the vote counters equal the vote rows; the server log has no traceback."""
    ids = [m.user_id for m in members]
    with engine.connect() as conn:
        stored_votes = Counter(
            (row.user_id, row.arxiv_id)
            for row in conn.execute(
                select(votes.c.user_id, papers.c.arxiv_id)
                .join(papers, papers.c.id == votes.c.paper_id)
                .where(votes.c.user_id.in_(ids))
            )
        )
        bodies = conn.execute(select(comments.c.body).where(comments.c.user_id.in_(ids))).scalars()
        stored_comments = Counter(m[1] for body in bodies if (m := _NONCE.search(body)))
    acked_votes = set().union(*(p.outcome.votes_acked for p in phases))
    asked_votes = acked_votes.union(*(p.outcome.votes_unacked for p in phases))
    acked_comments = set().union(*(p.outcome.comments_acked for p in phases))
    asked_comments = acked_comments.union(*(p.outcome.comments_unacked for p in phases))
    findings = _compare("votes", stored_votes, acked_votes, asked_votes)
    findings += _compare("comments", stored_comments, acked_comments, asked_comments)
    findings += _check_counts(engine)
    log = "\n".join(p.read_text(errors="replace") for p in log_dir.glob("*.log"))
    findings += [f"{log.count('Traceback')} tracebacks in the server log"] if "Traceback" in log else []
    phases[-1].findings = findings
    for phase in phases:
        phase.kill["writes"] = {
            "votes acked": len(phase.outcome.votes_acked),
            "votes unacked": len(phase.outcome.votes_unacked),
            "comments acked": len(phase.outcome.comments_acked),
            "comments unacked": len(phase.outcome.comments_unacked),
        }
    landed = sum(1 for key in asked_votes - acked_votes if stored_votes[key])
    landed_c = sum(1 for key in asked_comments - acked_comments if stored_comments[key])
    phases[-1].kill["unacked writes stored (once)"] = {"votes": landed, "comments": landed_c}


def _compare(name: str, stored: Counter[Any], acked: set[Any], asked: set[Any]) -> list[str]:
    missing = [key for key in acked if stored[key] == 0]
    twice = [key for key, n in stored.items() if n > 1]
    unasked = [key for key in stored if key not in asked]
    return [
        f"{len(keys)} {name} {what}: {sorted(keys)[:3]}"
        for keys, what in (
            (missing, "acknowledged but not stored"),
            (twice, "stored twice"),
            (unasked, "never asked"),
        )
        if keys
    ]


# --- printing -------------------------------------------------------------------------------------


def _print(label: str, phases: list[Phase]) -> None:
    headers = ["phase / kind", "requests", "req/s", "statuses", "5xx", "socket errors", "p50 ms", "p99 ms"]
    rows = []
    for phase in phases:
        out = phase.outcome
        for kind in MIX:
            s = out.stats[kind]
            statuses = " ".join(f"{code}:{n}" for code, n in sorted(s.statuses.items()))
            errors = sum(s.socket_errors.values())
            rows.append(
                [
                    f"{label} {phase.name}: {kind}",
                    s.requests,
                    s.requests / out.wall_s,
                    statuses,
                    s.five_xx,
                    errors,
                    s.percentile(0.5),
                    s.percentile(0.99),
                ]
            )
        total = sum(out.stats[k].requests for k in MIX)
        rows.append(
            [
                f"{label} {phase.name}: all",
                total,
                total / out.wall_s,
                "",
                sum(out.stats[k].five_xx for k in MIX),
                sum(sum(out.stats[k].socket_errors.values()) for k in MIX),
                None,
                None,
            ]
        )
    print(format_table(headers, rows))
    for phase in phases:
        print(f"  {label} {phase.name}: {phase.kill}")
    findings = phases[-1].findings
    verdict = "; ".join(findings) or "every acknowledged vote and comment stored exactly once, nothing twice"
    print(f"  {label} writes: {verdict}")


def _as_json(phase: Phase) -> dict[str, Any]:
    out = phase.outcome
    kinds = {
        kind: {
            "requests": s.requests,
            "statuses": dict(s.statuses),
            "five_xx": s.five_xx,
            "socket_errors": dict(s.socket_errors),
            "p50_ms": s.percentile(0.5),
            "p99_ms": s.percentile(0.99),
        }
        for kind, s in out.stats.items()
    }
    return {
        "phase": phase.name,
        "wall_s": out.wall_s,
        "kinds": kinds,
        "kill": phase.kill,
        "findings": phase.findings,
    }


def main() -> int:
    from bench import postgres
    from bench.common import find_corpus, run_standalone

    parser = argparse.ArgumentParser(prog="python -m bench.soak", description=__doc__)
    add_arguments(parser)
    args = parser.parse_args()

    def soak() -> dict[str, Any]:
        pg_admin, pg_note = postgres.admin_url()
        with Workspace(pg_admin, pg_note) as ws:
            return run(ws, find_corpus(), args)

    return run_standalone("soak", "soak-", soak)


if __name__ == "__main__":
    raise SystemExit(main())
