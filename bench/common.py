"""What every benchmark needs: where the corpus is, measured subprocesses, tables, medians."""

from __future__ import annotations

import json
import os
import signal
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

REPO_ROOT = Path(__file__).resolve().parents[1]
SHARED = REPO_ROOT.parent / "shared"
ARXIV_DIR = SHARED / "data" / "arxiv"
RESULTS_DIR = REPO_ROOT / "bench" / "results"
T = TypeVar("T")


class BenchError(Exception):
    """A benchmark cannot run; the message is one line for the user."""


@dataclass(frozen=True, slots=True)
class Corpus:
    papers: Path
    listings: Path


def find_corpus() -> Corpus:
    """The shared arXiv corpus, or a BenchError naming what is missing."""
    corpus = Corpus(ARXIV_DIR / "papers.jsonl.gz", ARXIV_DIR / "listings.tsv.gz")
    missing = [str(p) for p in (corpus.papers, corpus.listings) if not p.is_file()]
    if missing:
        raise BenchError(f"corpus not found: {', '.join(missing)} (see ../shared/data/README.md)")
    return corpus


@dataclass(frozen=True, slots=True)
class Measured:
    """One finished subprocess: exit status, wall and CPU seconds, peak RSS, its output."""

    returncode: int
    wall_s: float
    cpu_s: float
    peak_rss_mib: float
    stdout: str
    stderr: str


def paperboy_command(*args: str) -> list[str]:
    """`paperboy ARGS` run by this interpreter (the project's venv)."""
    return [sys.executable, "-m", "paperboy", *args]


def child_env(**overrides: str) -> dict[str, str]:
    """The environment minus any PAPERBOY_* setting of the caller's, plus `overrides`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PAPERBOY_")}
    env.update(overrides)
    return env


def run_measured(command: Sequence[str], env: Mapping[str, str], log_dir: Path) -> Measured:
    """Run `command` to completion; wait4() gives this child's own peak RSS and CPU time."""
    log_dir.mkdir(parents=True, exist_ok=True)
    out_path, err_path = log_dir / "stdout.txt", log_dir / "stderr.txt"
    with out_path.open("wb") as out, err_path.open("wb") as err:
        start = time.perf_counter()
        proc = subprocess.Popen(command, env=dict(env), stdout=out, stderr=err, cwd=log_dir)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    return Measured(
        returncode=proc.returncode,
        wall_s=wall,
        cpu_s=usage.ru_utime + usage.ru_stime,
        peak_rss_mib=usage.ru_maxrss / 1024,  # kilobytes on Linux
        stdout=out_path.read_text(errors="replace"),
        stderr=err_path.read_text(errors="replace"),
    )


def each_database(labels: Sequence[str], measure: Callable[[str], T]) -> tuple[dict[str, T], dict[str, str]]:
    """`measure(label)` for every database; one that fails is reported and the others still run."""
    results: dict[str, T] = {}
    errors: dict[str, str] = {}
    for label in labels:
        try:
            results[label] = measure(label)
        except BenchError as exc:
            errors[label] = str(exc)
            print(f"  {label}: could not run: {exc}", flush=True)
    return results, errors


def tail(text: str, lines: int = 15) -> str:
    return "\n".join(text.strip().splitlines()[-lines:])


def median(values: Sequence[float]) -> float:
    return statistics.median(values) if values else float("nan")


def format_table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """A plain-text table; the first column left-aligned, the others right-aligned."""
    cells = [[str(h) for h in headers], *[[_cell(v) for v in row] for row in rows]]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    lines = []
    for n, row in enumerate(cells):
        parts = [row[0].ljust(widths[0]), *(c.rjust(w) for c, w in zip(row[1:], widths[1:], strict=True))]
        lines.append("  ".join(parts).rstrip())
        if n == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)


def _cell(value: object) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        if value != value:  # NaN
            return "-"
        return (
            f"{value:,.0f}" if abs(value) >= 100 else f"{value:.1f}" if abs(value) >= 10 else f"{value:.2f}"
        )
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def section(title: str) -> None:
    print(f"\n== {title}", flush=True)


def save_results(results: dict[str, Any], prefix: str = "") -> Path:
    """Write a benchmark's figures as bench/results/PREFIXyyyymmdd-HHMMSS.json (UTC); the path."""
    RESULTS_DIR.mkdir(exist_ok=True)
    path = RESULTS_DIR / f"{prefix}{time.strftime('%Y%m%d-%H%M%S', time.gmtime())}.json"
    path.write_text(json.dumps(results, indent=2, default=str) + "\n", encoding="utf-8")
    return path


def run_standalone(name: str, prefix: str, run: Callable[[], dict[str, Any]]) -> int:
    """`python -m bench.NAME`: run one benchmark and save its results. SIGTERM unwinds (exit 143),
    so that the servers and sinks it started are stopped and its copies removed."""
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    try:
        results = run()
    except BenchError as exc:
        print(f"bench {name}: {exc}")
        return 1
    print(f"results saved to {save_results(results, prefix)}")
    return 0
