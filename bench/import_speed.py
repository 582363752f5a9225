"""Full-corpus import throughput: `paperboy import` of the shared arXiv corpus into a fresh
database (SQLite, and PostgreSQL when configured), then the same import again (the no-op path)."""

from __future__ import annotations

import re
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from bench import postgres
from bench.common import (
    REPO_ROOT,
    BenchError,
    Corpus,
    Measured,
    child_env,
    format_table,
    median,
    paperboy_command,
    run_measured,
    section,
    tail,
)
from bench.workspace import SQLITE, Target, Workspace

TARGET_SQLITE_S = 30.0
TARGET_PG_RATIO = 1.5  # issue 15: the PostgreSQL import at most 1.5 times the SQLite one
AFTER = "after"  # this checkout, when a `before` revision is measured beside it
_SUMMARY = re.compile(r"(\d+) papers read: (\d+) new, (\d+) updated, (\d+) unchanged")


@dataclass(frozen=True, slots=True)
class ImportRun:
    wall_s: float
    cpu_s: float
    peak_rss_mib: float
    papers_read: int
    summary: str
    rerun_wall_s: float
    rerun_peak_rss_mib: float
    rerun_summary: str
    rerun_writes: int  # new + updated papers on the re-run: 0 when it is a true no-op
    db_size_mib: float

    @property
    def papers_per_s(self) -> float:
        return self.papers_read / self.wall_s if self.wall_s and self.papers_read > 0 else float("nan")


def import_corpus(target: Target, corpus: Corpus, ws: Workspace, code: Path | None = None) -> Measured:
    """Run `paperboy import` of the whole corpus into `target` (with the paperboy package found in
    `code`, when given); BenchError when it fails."""
    command = paperboy_command("import", str(corpus.papers), "--listings", str(corpus.listings))
    env = child_env(**target.env, **({"PYTHONPATH": str(code)} if code else {}))
    measured = run_measured(command, env, ws.log_dir(f"import-{target.label}"))
    if measured.returncode != 0:
        reason = f"paperboy import into {target.label} exited {measured.returncode}:\n{tail(measured.stderr)}"
        ws.import_failures[target.label] = reason
        raise BenchError(reason)
    return measured


def run(ws: Workspace, corpus: Corpus, repeats: int = 1, before: str | None = None) -> dict[str, Any]:
    """Import `repeats` times per database; with `before` (a git revision), that revision's code
    too. Runs are interleaved (each repeat imports into every database with every version) so that
    a machine whose load changes during the run weighs on all rows alike."""
    section(f"Import: {corpus.papers.name} + {corpus.listings.name}, {repeats} run(s) per database")
    if ws.pg_note:
        print(ws.pg_note)
    with _checkouts(before) as codes:
        for version, root in codes.items():
            print(f"  {version}: code at {root}")
        rows, errors = _measure_interleaved(ws, corpus, codes, repeats)
    _print(rows, repeats)
    return {
        "repeats": repeats,
        "before": before,
        "target_sqlite_s": TARGET_SQLITE_S,
        "databases": {label: _as_json(runs) for label, runs in rows.items()},
        "errors": errors,
    }


def _measure_interleaved(
    ws: Workspace, corpus: Corpus, codes: dict[str, Path], repeats: int
) -> tuple[dict[str, list[ImportRun]], dict[str, str]]:
    rows: dict[str, list[ImportRun]] = {}
    errors: dict[str, str] = {}
    for n in range(repeats):
        for label in ws.labels():
            for version, root in codes.items():
                if label in errors:
                    break
                keep = n == repeats - 1 and version == AFTER
                try:
                    run = _measure(ws, corpus, label, (version, root), keep=keep)
                except BenchError as exc:
                    errors[label] = str(exc)
                    print(f"  {label}: could not run: {exc}", flush=True)
                    break
                rows.setdefault(_row_label(label, version), []).append(run)
    return {label: runs for label, runs in rows.items() if label.partition(" (")[0] not in errors}, errors


def _row_label(label: str, version: str) -> str:
    return label if version == AFTER else f"{label} ({version})"


@contextmanager
def _checkouts(before: str | None) -> Iterator[dict[str, Path]]:
    """{"after": this checkout} and, with `before`, that revision in a temporary git worktree."""
    if before is None:
        yield {AFTER: REPO_ROOT}
        return
    scratch = Path(tempfile.mkdtemp(prefix="paperboy-import-before-"))
    _git("worktree", "add", "--detach", str(scratch / "code"), before)
    try:
        yield {before: scratch / "code", AFTER: REPO_ROOT}
    finally:
        _git("worktree", "remove", "--force", str(scratch / "code"))
        scratch.rmdir()


def _git(*args: str) -> None:
    done = subprocess.run(["git", *args], cwd=REPO_ROOT, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise BenchError(f"git {' '.join(args)}: {done.stderr.strip()}")


def _measure(ws: Workspace, corpus: Corpus, label: str, code: tuple[str, Path], *, keep: bool) -> ImportRun:
    target = ws.fresh(label)
    name = f"{label} ({code[0]})"
    first = import_corpus(target, corpus, ws, code[1])
    print(f"  {name}: import {first.wall_s:.1f} s; re-running the same import …", flush=True)
    again = import_corpus(target, corpus, ws, code[1])
    print(f"  {name}: re-run {again.wall_s:.1f} s", flush=True)
    result = ImportRun(
        wall_s=first.wall_s,
        cpu_s=first.cpu_s,
        peak_rss_mib=first.peak_rss_mib,
        papers_read=_counts(first.stdout)[0],
        summary=_last_line(first.stdout),
        rerun_wall_s=again.wall_s,
        rerun_peak_rss_mib=again.peak_rss_mib,
        rerun_summary=_last_line(again.stdout),
        rerun_writes=sum(_counts(again.stdout)[1:3]),
        db_size_mib=_size_mib(target),
    )
    if keep:
        ws.imported[label] = target
    else:
        ws.discard(target)
    return result


def _counts(stdout: str) -> tuple[int, int, int, int]:
    """(read, new, updated, unchanged) from the import's summary line; -1s when absent."""
    match = _SUMMARY.search(stdout)
    if not match:
        return (-1, -1, -1, -1)
    read, new, updated, unchanged = (int(g) for g in match.groups())
    return read, new, updated, unchanged


def _last_line(text: str) -> str:
    """The summary line ("N papers read: …"), else the last line."""
    lines = text.strip().splitlines()
    summaries = [line for line in lines if _SUMMARY.search(line)]
    return (summaries or lines or [""])[-1]


def _size_mib(target: Target) -> float:
    if target.pg_url:
        return postgres.database_size_mib(target.pg_url)
    files = target.sqlite_dir.glob("paperboy.sqlite3*") if target.sqlite_dir else []
    return sum(p.stat().st_size for p in files) / 2**20


def _as_json(runs: list[ImportRun]) -> dict[str, Any]:
    return {
        "median_wall_s": median([r.wall_s for r in runs]),
        "median_papers_per_s": median([r.papers_per_s for r in runs]),
        "median_rerun_wall_s": median([r.rerun_wall_s for r in runs]),
        "max_peak_rss_mib": max(r.peak_rss_mib for r in runs),
        "runs": [{**asdict(r), "papers_per_s": r.papers_per_s} for r in runs],
    }


def _print(results: dict[str, list[ImportRun]], repeats: int) -> None:
    if not results:
        return
    stat = "median " if repeats > 1 else ""
    headers = ["database", f"{stat}wall s", "papers/s", "CPU s", "peak RSS MiB"]
    headers += [f"{stat}re-run s", "re-run RSS MiB", "re-run writes", "DB MiB"]
    rows = [_row(label, runs) for label, runs in results.items()]
    print(format_table(headers, rows))
    for label, runs in results.items():
        print(f"  {label}: {runs[-1].summary}  |  re-run: {runs[-1].rerun_summary}")
    _print_ratios(results)


def _row(label: str, runs: list[ImportRun]) -> list[object]:
    return [
        label,
        median([r.wall_s for r in runs]),
        median([r.papers_per_s for r in runs]),
        median([r.cpu_s for r in runs]),
        max(r.peak_rss_mib for r in runs),
        median([r.rerun_wall_s for r in runs]),
        max(r.rerun_peak_rss_mib for r in runs),
        max(r.rerun_writes for r in runs),
        runs[-1].db_size_mib,
    ]


def _print_ratios(results: dict[str, list[ImportRun]]) -> None:
    walls = {label: median([r.wall_s for r in runs]) for label, runs in results.items()}
    sqlite = walls.get(SQLITE)
    if sqlite:
        print(
            f"target: SQLite full import < {TARGET_SQLITE_S:.0f} s; "
            f"measured {sqlite / TARGET_SQLITE_S:.2f}× the target"
        )
    for label, wall in walls.items():
        if label.startswith(SQLITE):
            continue
        version = label.partition(" (")[2]
        base = walls.get(f"{SQLITE} ({version}" if version else SQLITE)
        if base:
            print(
                f"{label} / {SQLITE}{f' ({version}' if version else ''} wall time: {wall / base:.2f}× "
                f"(target ≤ {TARGET_PG_RATIO}×)"
            )


def imported_database(ws: Workspace, corpus: Corpus, label: str) -> Target:
    """The database the import benchmark filled in this run, or a fresh import."""
    if label in ws.import_failures:
        raise BenchError(f"no database to serve: {ws.import_failures[label]}")
    if label not in ws.imported:
        print(f"  {label}: importing the corpus first …", flush=True)
        target = ws.fresh(label)
        import_corpus(target, corpus, ws)
        ws.imported[label] = target
    return ws.imported[label]
