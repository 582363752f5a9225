"""Issue 15's table, before and after: the code at the start of the issue (BEFORE_COMMIT, checked
out by the benchmark into a temporary git worktree) and this checkout, each served with
`paperboy serve` on the same imported corpus, side by side in one run, as medians of the repeats.

Rows: feed pages logged in and with the page cache off (1-conn p50, p99 at 8 and 16 connections,
`--workers 1` and `2`); the day page in the first 30 s after `serve` answers; cached anonymous pages
at 16 connections; paper pages with the cache off; /api/daily_papers cold and revalidated; a day's RSS.

`--gc-ab`: the same table with this checkout alone, served with the collector policy off, then on
(the `gc_freeze` setting, web/gc_policy.py), in place of before and after; with
`--render-only paper`, the paper page's A/B.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import re
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench import api, wrk
from bench.common import (
    REPO_ROOT,
    BenchError,
    Corpus,
    child_env,
    each_database,
    format_table,
    median,
    paperboy_command,
    section,
)
from bench.import_speed import imported_database
from bench.pages import FEED_PAGES, SINGLE_S, WARMUP_S, Load, _measure_papers, sample_ids
from bench.reference_vectors import embed_beforehand
from bench.server import GC_AB, group_cpu_s, serving_group
from bench.workspace import Target, Workspace

BEFORE_COMMIT = "0320118"  # the code at the start of issue 15's work
VERSIONS = ("before", "after")
WORKERS = (1, 2)
STARTUP_S = 30  # "any page in the first 30 s after `serve` answers"
STEADY_ANSWERS = 8  # each worker answers one of 8 fresh connections but with p = 2^-7
STEADY_TIMEOUT_S = 120
PAPER_ONLY = "paper"  # --render-only's row: the paper page with the cache off
PAPER_SCRIPT = "paper_pages.lua"  # the wrk script bench/pages.py writes to cycle through them
PAPER_IDS = 200  # paper pages cycled through (pages.py's sample; fewer, to keep the run short)
# Default settings but for what measuring needs: no sync (it would reach arXiv) and /api/'s per-IP
# budgets out of the way, since every wrk request comes from 127.0.0.1 (as in bench/api.py).
SERVER_ENV = {
    "PAPERBOY_SYNC_INTERVAL_HOURS": "0",
    "PAPERBOY_RATE_LIMIT_API_IP": "1000000000/hour",
    "PAPERBOY_RATE_LIMIT_API": "1000000000/hour",
}
CACHE_OFF = {"PAPERBOY_PAGE_CACHE_MB": "0"}
READER = ("render-path@example.org", "renderpath", "a long benchmark passphrase 15")
ELSEWHERE = {
    "PostgreSQL import of the corpus (target <= 1.5x SQLite)": "see bench/import_speed.py",
    "`serve` stopping on SIGTERM (target <= 2 s)": "see bench/shutdown.py",
}

Cells = dict[str, tuple[float, float | None]]  # row -> (milliseconds, target in ms or None)


@dataclass(frozen=True, slots=True)
class Checkout:
    version: str
    root: Path
    revision: str
    env: dict[str, str] = field(default_factory=dict)  # what its servers get besides SERVER_ENV


@dataclass(frozen=True, slots=True)
class Plan:
    """What every database is measured with."""

    versions: list[Checkout]
    repeats: int
    seconds: int  # of wrk load per cell
    paper_ids: list[str]
    api_paths: dict[str, str]
    only: str | None = None  # --render-only


@dataclass(slots=True)
class Context:
    """One database under measurement: where it is, the reader's cookie, what went wrong."""

    ws: Workspace
    plan: Plan
    target: Target
    cookie: str
    notes: list[str] = field(default_factory=list)
    groups: dict[str, int] = field(default_factory=dict)  # base URL -> the server's process group
    targets: dict[str, Target] = field(default_factory=dict)  # version -> the database it serves


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--render-repeats", type=int, default=3, help="render_path: runs per cell (the table shows medians)"
    )
    parser.add_argument(
        "--render-seconds", type=int, default=5, help="render_path: seconds of wrk load per cell"
    )
    parser.add_argument(
        "--render-before",
        default=BEFORE_COMMIT,
        metavar="REVISION",
        help=f"render_path: the git revision measured as before (default {BEFORE_COMMIT}: issue 15's start)",
    )
    parser.add_argument(
        "--render-only",
        choices=[PAPER_ONLY],
        help="render_path: measure only this row (paper: the paper page with the cache off, "
        "--workers 2, 8 conns)",
    )


def run(ws: Workspace, corpus: Corpus, args: argparse.Namespace) -> dict[str, Any]:
    repeats, seconds = args.render_repeats, args.render_seconds
    before = args.render_before
    against = f"{before} against this checkout"
    if args.gc_ab:
        against = "this checkout, the collector policy off against on"
    section(f"Render path (issue 15): {against}, median of {repeats}")
    if not wrk.available():
        raise BenchError("wrk is not installed (apt-get install wrk)")
    paper_ids = sample_ids(corpus.listings, PAPER_IDS)
    day = api.busiest_day(corpus.listings)
    api_paths = {name: template.format(day=day) for name, template in api.URLS.items()}
    with gc_versions() if args.gc_ab else checkouts(before) as versions:
        for v in versions:
            print(f"  {v.version}: {v.revision} at {v.root} (each server checked to import paperboy from it)")
        plan = Plan(versions, repeats, seconds, paper_ids, api_paths, args.render_only)
        results, errors = each_database(ws.labels(), lambda label: _measure_database(ws, corpus, label, plan))
    return {
        "before": None if args.gc_ab else before,
        "versions": [v.version for v in versions],  # the table's before and after columns
        "repeats": repeats,
        "seconds": seconds,
        "only": args.render_only,
        "databases": results,
        "errors": errors,
    }


@contextmanager
def checkouts(revision: str = BEFORE_COMMIT) -> Iterator[list[Checkout]]:
    """`revision` in a temporary git worktree, and this checkout; the worktree removed after."""
    scratch = Path(tempfile.mkdtemp(prefix="paperboy-before-"))
    before = scratch / "before"
    _git("worktree", "add", "--detach", str(before), revision)
    try:
        yield [
            Checkout("before", before, _git("-C", str(before), "rev-parse", "--short", "HEAD")),
            Checkout("after", REPO_ROOT, _git("describe", "--always", "--dirty")),
        ]
    finally:
        _git("worktree", "remove", "--force", str(before))
        scratch.rmdir()


@contextmanager
def gc_versions() -> Iterator[list[Checkout]]:
    """This checkout twice: served with the collector policy off, then on (`--gc-ab`)."""
    revision = _git("describe", "--always", "--dirty")
    yield [Checkout(name.replace(" ", "="), REPO_ROOT, revision, env) for name, env in GC_AB.items()]


def _git(*args: str) -> str:
    done = subprocess.run(["git", *args], cwd=REPO_ROOT, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise BenchError(f"git {' '.join(args)}: {done.stderr.strip()}")
    return done.stdout.strip()


def _measure_database(ws: Workspace, corpus: Corpus, label: str, plan: Plan) -> dict[str, Any]:
    target = imported_database(ws, corpus, label)
    print(f"  {label}: {embed_beforehand(target, corpus)}", flush=True)
    if any(_stores_lists(checkout.root) for checkout in plan.versions):
        print(f"  {label}: {_neighbour_lists(target)}", flush=True)
    ctx = Context(ws, plan, target, _reader_cookie(target))
    for checkout in plan.versions:
        ctx.targets[checkout.version] = _database_for(ws, target, checkout)
    runs: dict[str, list[Cells]] = {v.version: [] for v in plan.versions}
    for n in range(plan.repeats):
        for workers in WORKERS if plan.only is None else (2,):
            for checkout in plan.versions:  # before and after in turn, so that drift hits both alike
                print(
                    f"  {label} run {n + 1}/{plan.repeats}, --workers {workers}, {checkout.version}",
                    flush=True,
                )
                runs[checkout.version].append(_measure_version(ctx, checkout, workers))
    table = _table(runs)
    print(f"\n{label}:")
    _print(table, ctx.notes, [v.version for v in plan.versions])
    return {
        "revisions": {v.version: v.revision for v in plan.versions},
        "table": table,
        "runs": runs,
        "notes": ctx.notes,
    }


def _stores_lists(root: Path) -> bool:
    """Whether the checkout at `root` stores each paper's nearest ahead (services/paper_neighbours.py)."""
    return (root / "paperboy" / "services" / "paper_neighbours.py").exists()


def _neighbour_lists(target: Target) -> str:
    """Every paper's nearest stored as `paperboy index` stores them after the vector index (with
    this checkout's code, before the copies for older code are made: a copy migrated below the
    lists' migration drops them), where the product stores lists at all; the line to print."""
    from paperboy.config import load_settings
    from paperboy.integrations.embedder import model_id_for
    from paperboy.services.paper_neighbours import stores_neighbours, update_paper_neighbours
    from paperboy.services.vector_index import ANN_DIRECTORY
    from paperboy.storage.engine import make_engine

    settings = load_settings(child_env(**target.env))
    engine = make_engine(target.url)
    try:
        if not stores_neighbours(engine, settings.vector_search):
            return "neighbour lists: not stored on this database (searched in the database)"
        model = model_id_for(settings.embedder)
        report = update_paper_neighbours(engine, model, settings.data_dir / ANN_DIRECTORY)
    finally:
        engine.dispose()
    return report.summary()


def _reader_cookie(target: Target) -> str:
    """A member made by `paperboy admin create-user`, logged in through the product's log-in service."""
    from paperboy.config import load_settings
    from paperboy.services.accounts import log_in
    from paperboy.storage.engine import make_engine

    email, name, password = READER
    command = paperboy_command("admin", "create-user", email, name, "--password-stdin")
    done = subprocess.run(
        command,
        env=child_env(**target.env),
        input=password + "\n",
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0 and "exists" not in done.stderr:
        raise BenchError(f"paperboy admin create-user: {done.stderr.strip()}")
    engine = make_engine(target.url)
    try:
        session = log_in(
            engine, load_settings(child_env(**target.env)), email=email, password=password, ip="127.0.0.1"
        )
    finally:
        engine.dispose()
    return f"Cookie: paperboy_session={session.token}"


@contextmanager
def _serve(ctx: Context, checkout: Checkout, workers: int, **extra: str) -> Iterator[str]:
    """`paperboy serve` running `checkout`'s code (checked: the package it imports is that one)."""
    log_dir = ctx.ws.log_dir(f"render-{checkout.version}-w{workers}")
    env = {**SERVER_ENV, **checkout.env, **extra, "PYTHONPATH": str(checkout.root)}
    target = ctx.targets[checkout.version]
    _check_code(target, checkout, log_dir, env)
    with serving_group(target, log_dir, workers=workers, **env) as (base, group):
        ctx.groups[base] = group
        yield base


def _database_for(ws: Workspace, target: Target, checkout: Checkout) -> Target:
    """The database `checkout`'s servers use: `target` itself, or, for a checkout whose
    migrations stop at an earlier revision (it would refuse a database it does not know), a copy
    of it migrated down to that revision by this checkout's Alembic: the same papers, vectors,
    reader and session, without the tables the older code does not have. The copy is of the data
    directory and, on PostgreSQL, of the database (`CREATE DATABASE … TEMPLATE`: made while no
    server runs, dropped when the benchmark ends)."""
    last = _last_revision(checkout.root)
    if last == _last_revision(REPO_ROOT):
        return target
    copy = ws.copy(target, checkout.version)
    from alembic import command

    from paperboy.storage.engine import make_engine
    from paperboy.storage.migrate import alembic_config

    engine = make_engine(copy.url)
    try:
        command.downgrade(alembic_config(engine), last)
    finally:
        engine.dispose()
    print(f"  {checkout.version}: a copy of the database migrated down to {last}", flush=True)
    return copy


def _last_revision(root: Path) -> str:
    """The newest migration of the checkout at `root` (revisions are numbered 0001, 0002, …)."""
    versions = root / "paperboy" / "storage" / "migrations" / "versions"
    found = [
        match.group(1)
        for script in versions.glob("*.py")
        if (match := re.search(r'^revision = "([^"]+)"', script.read_text(), re.MULTILINE))
    ]
    return max(found)


def _check_code(target: Target, checkout: Checkout, cwd: Path, env: dict[str, str]) -> None:
    """The server's interpreter, environment and directory import paperboy from `checkout`."""
    probe = [sys.executable, "-c", "import paperboy; print(paperboy.__file__)"]
    done = subprocess.run(
        probe, env=child_env(**target.env, **env), cwd=cwd, capture_output=True, text=True, check=False
    )
    found = Path(done.stdout.strip())
    if not found.is_relative_to(checkout.root / "paperboy"):
        raise BenchError(f"{checkout.version}: paperboy imported from {found}, not {checkout.root}")


def _check_logged_in(base: str, cookie: str) -> None:
    name, value = cookie.split(": ", 1)
    request = urllib.request.Request(base + FEED_PAGES["day"], headers={name: value})
    with urllib.request.urlopen(request, timeout=60) as response:
        if f'class="me">{READER[1]}<' not in response.read().decode():
            raise BenchError("the reader's session cookie does not log in: the day page shows no reader")


def _measure_version(ctx: Context, checkout: Checkout, workers: int) -> Cells:
    w = f"--workers {workers}"
    if ctx.plan.only == PAPER_ONLY:
        with _serve(ctx, checkout, workers, **CACHE_OFF) as base:
            ctx.notes += _wait_steady(base, f"{checkout.version} {w} cache off")
            return _paper_cells(ctx, base, w)
    with _serve(ctx, checkout, workers) as base:  # the product's defaults: the page cache on
        cells = _default_server_cells(ctx, base, checkout.version, w)
    with _serve(ctx, checkout, workers, **CACHE_OFF) as base:
        ctx.notes += _wait_steady(base, f"{checkout.version} {w} cache off")
        for page, path in FEED_PAGES.items():
            cells |= _feed_cells(ctx, f"{page} page cache off, {w}", base + path, version=checkout.version)
        if workers == 2:
            cells |= _paper_and_api_cells(ctx, base, w)
    return cells


def _default_server_cells(ctx: Context, base: str, version: str, w: str) -> Cells:
    """From the moment /healthz answers: the day page for STARTUP_S; then, once steady, the cached
    pages and the pages logged in."""
    what = f"{version} {w}"
    result = _wrk(ctx, base + FEED_PAGES["day"], 16, STARTUP_S, what=f"{what} first {STARTUP_S} s")
    cells: Cells = {
        f"day page, first {STARTUP_S} s after serve answers, 16 conns, {w}: p99": (result.p99_ms, 50.0)
    }
    ctx.notes += _wait_steady(base, what)
    for page, path in FEED_PAGES.items():
        _wrk(ctx, base + path, 16, WARMUP_S, what=f"{what} warm-up")
        result = _wrk(ctx, base + path, 16, ctx.plan.seconds, what=f"{what} {page} cached")
        cells[f"{page} page cached anonymous, 16 conns, {w}: p99"] = (result.p99_ms, 20.0)
    _check_logged_in(base, ctx.cookie)
    for page, path in FEED_PAGES.items():
        cells |= _feed_cells(ctx, f"{page} page logged in, {w}", base + path, ctx.cookie, version=version)
    return cells


def _feed_cells(ctx: Context, name: str, url: str, *headers: str, version: str) -> Cells:
    _wrk(ctx, url, 8, WARMUP_S, *headers, what=f"{version} {name} warm-up")
    loaded = {
        conns: _wrk(ctx, url, conns, ctx.plan.seconds, *headers, what=f"{version} {name}")
        for conns in (8, 16)
    }
    group = ctx.groups[url[: url.index("/", len("http://"))]]
    cpu_before = group_cpu_s(group)
    single = _wrk(ctx, url, 1, SINGLE_S, *headers, what=f"{version} {name}")
    cpu_ms = (group_cpu_s(group) - cpu_before) * 1000 / single.requests if single.requests else float("nan")
    return {
        f"{name}: 1-conn p50": (single.p50_ms, 10.0),
        f"{name}: server CPU ms per request (1 conn)": (cpu_ms, None),
        f"{name}: p99 8 conns": (loaded[8].p99_ms, 50.0),
        f"{name}: p99 16 conns": (loaded[16].p99_ms, 50.0),
    }


def _paper_cells(ctx: Context, base: str, w: str) -> Cells:
    load = Load(connections=8, duration_s=ctx.plan.seconds, workers=2)
    papers = _measure_papers(base, ctx.plan.paper_ids, load, ctx.ws.root)
    cells = _cells(ctx, {(f"paper page cache off, 8 conns, {w}: p99", 25.0): papers})
    if papers.result is None:
        return cells
    # What a page costs the server, whatever else the machine does: its CPU over one more
    # 1-connection run through the same papers, divided by the requests.
    group = ctx.groups[base]
    cpu_before = group_cpu_s(group)
    single, _ = wrk.run_wrk(
        base + "/",
        threads=1,
        connections=1,
        duration_s=SINGLE_S,
        script=ctx.ws.root / PAPER_SCRIPT,
        headers=Load().headers,
    )
    cpu_ms = (group_cpu_s(group) - cpu_before) * 1000 / single.requests if single.requests else float("nan")
    return cells | {
        f"paper page cache off, 1 conn, {w}: p50": (single.p50_ms, None),
        f"paper page cache off, {w}: server CPU ms per request (1 conn)": (cpu_ms, None),
    }


def _paper_and_api_cells(ctx: Context, base: str, w: str) -> Cells:
    cells = _paper_cells(ctx, base, w)  # first, as before
    load = Load(connections=8, duration_s=ctx.plan.seconds, workers=2)
    daily, feed = ctx.plan.api_paths["daily_papers"], ctx.plan.api_paths["feed"]
    script = ctx.ws.root / "render-revalidate.lua"
    measured = {
        (f"/api/daily_papers cold, 8 conns, {w}: p99", 40.0): api._measure(
            base, daily, api.COLD, load, script
        ),
        (f"/api/daily_papers 304, 8 conns, {w}: p99", None): api._measure(
            base, daily, api.REVALIDATE, load, script
        ),
        (f"RSS of a day cold, 8 conns, {w}: p99", 50.0): api._measure(base, feed, api.COLD, load, script),
        # Each request a URL new to the server: what a client meets after each vote (bench/api.py).
        (f"/api/daily_papers built, 8 conns, {w}: p99", 40.0): api._measure(
            base, daily, api.BUILD, load, ctx.ws.root / "render-build.lua"
        ),
        (f"RSS of a day built, 8 conns, {w}: p99", 50.0): api._measure(
            base, feed, api.BUILD, load, ctx.ws.root / "render-build.lua"
        ),
    }
    return cells | _cells(ctx, measured)


def _cells(ctx: Context, measured: dict[tuple[str, float | None], Any]) -> Cells:
    """Each page's p99 under its row's name; its notes kept."""
    cells: Cells = {}
    for (name, target), page in measured.items():
        ctx.notes += [f"{name}: {note}" for note in page.notes]
        cells[name] = (page.result.p99_ms if page.result else float("nan"), target)
    return cells


def _wrk(ctx: Context, url: str, connections: int, seconds: int, *headers: str, what: str) -> wrk.WrkResult:
    result, _ = wrk.run_wrk(
        url,
        threads=min(2, connections),
        connections=connections,
        duration_s=seconds,
        headers=(*Load().headers, *headers),
    )
    if result.non_2xx or result.socket_errors:
        ctx.notes.append(f"{what}: {result.non_2xx} non-2xx of {result.requests}; {result.socket_error_line}")
    if not result.requests:  # wrk then prints zeros for every percentile
        ctx.notes.append(f"{what}: no answer within {seconds} s")
        return dataclasses.replace(result, p50_ms=float("nan"), p99_ms=float("nan"))
    return result


def _wait_steady(base: str, what: str) -> list[str]:
    """Wait until search is live and the keyword index current in every worker (STEADY_ANSWERS
    answers in a row on fresh connections say so): the later rows measure the steady state."""
    deadline, in_a_row = time.monotonic() + STEADY_TIMEOUT_S, 0
    while in_a_row < STEADY_ANSWERS:
        if time.monotonic() > deadline:
            return [f"{what}: search not live in every worker {STEADY_TIMEOUT_S} s after start"]
        in_a_row = in_a_row + 1 if _search_ready(base) else 0
        time.sleep(0 if in_a_row else 0.5)
    return []


def _search_ready(base: str) -> bool:
    try:
        with urllib.request.urlopen(base + "/healthz/search", timeout=30) as response:
            body = json.load(response)
    except OSError:  # 503 (HTTPError) while loading, or no answer
        return False
    keywords = body.get("keyword_index") or {}
    return str(keywords.get("state", "current")) == "current"


def _table(runs: dict[str, list[Cells]]) -> list[dict[str, Any]]:
    """One row per cell: the median over the repeats of each version (before, after: the first and
    the second), the target, after ÷ target."""
    first, second = runs
    names = list(dict.fromkeys(name for cells in runs[second] for name in cells))
    rows = []
    for name in names:
        before = median([c[name][0] for c in runs[first] if name in c])
        after = median([c[name][0] for c in runs[second] if name in c])
        target = next(c[name][1] for c in runs[second] if name in c)
        ratio = after / target if target else None
        rows.append(
            {"row": name, "before_ms": before, "after_ms": after, "target_ms": target, "ratio": ratio}
        )
    return rows


def _print(table: list[dict[str, Any]], notes: list[str], versions: list[str]) -> None:
    headers = ["row (ms)", *versions, "target", f"{versions[1]}/target"]
    rows: list[list[object]] = [
        [r["row"], r["before_ms"], r["after_ms"], r["target_ms"], _ratio(r["ratio"])] for r in table
    ]
    rows += [[name, where, None, None, None] for name, where in ELSEWHERE.items()]
    print(format_table(headers, rows))
    for note in notes:
        print(f"  note: {note}")


def _ratio(ratio: float | None) -> str | None:
    return None if ratio is None else f"{ratio:.2f}×"
