"""`paperboy serve` stopping on SIGTERM: seconds from the signal to the end of the command, sent to
its process group as systemd sends it, for the default serve and `--workers 2`, each

- loading: at once when /healthz first answers (the keyword index builds, the vectors and the
  model load: seconds of work in each worker), and
- idle: once search by meaning is live and the keyword index current;

median of REPEATS, on the imported corpus with every paper embedded beforehand (nothing for the
background embedding to do), each run with a data directory of its own (the keyword index is
built anew). Before (the code at BEFORE_REF, the start of issue 15, taken from git) and after
(this checkout) side by side in one run, with the ratio of after to the TARGET_S target. A stop
that takes longer than PATIENCE_S is killed and counted as that.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import signal
import subprocess
import tarfile
import time
import urllib.request
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from bench.common import (
    REPO_ROOT,
    BenchError,
    Corpus,
    child_env,
    each_database,
    format_table,
    median,
    section,
)
from bench.import_speed import imported_database
from bench.reference_vectors import embed_beforehand
from bench.server import start_serve, stop_process_group
from bench.workspace import Target, Workspace

TARGET_S = 2.0
BEFORE_REF = "0320118"  # main when issue 15 began
REPEATS = 3
PATIENCE_S = 30.0
LOADED_WITHIN_S = 120.0
PHASES = ("loading", "idle")
WORKERS = (1, 2)


@dataclass(frozen=True, slots=True)
class Stop:
    seconds: float
    exit_status: int | None  # None: killed after PATIENCE_S


def run(ws: Workspace, corpus: Corpus) -> dict[str, Any]:
    section(f"serve stopping on SIGTERM: median of {REPEATS}, target <= {TARGET_S:g} s")
    trees = {"before": _before_tree(ws), "after": REPO_ROOT}
    trees = {side: tree for side, tree in trees.items() if tree is not None}
    results, errors = each_database(ws.labels(), lambda label: _measure(ws, corpus, label, trees))
    rows = [_row(label, key, by_side) for label, by_key in results.items() for key, by_side in by_key.items()]
    print(
        format_table(["database", "workers", "phase", "before s", "after s", "after / target", "exits"], rows)
    )
    return {
        "target_s": TARGET_S,
        "before_ref": BEFORE_REF,
        "databases": {
            label: {
                key: {side: [asdict(s) for s in stops] for side, stops in by_side.items()}
                for key, by_side in by_key.items()
            }
            for label, by_key in results.items()
        },
        "errors": errors,
    }


def _before_tree(ws: Workspace) -> Path | None:
    """The paperboy package as it was at BEFORE_REF, extracted from git into the workspace."""
    root = ws.root / "before"
    root.mkdir()
    try:
        archive = subprocess.run(
            ["git", "-C", str(REPO_ROOT), "archive", "--format=tar", BEFORE_REF, "paperboy"],
            capture_output=True,
            check=True,
        ).stdout
    except (OSError, subprocess.CalledProcessError) as exc:
        print(f"  no 'before' side: git archive {BEFORE_REF} failed ({exc})")
        return None
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        tar.extractall(root, filter="data")
    return root


def _measure(
    ws: Workspace, corpus: Corpus, label: str, trees: dict[str, Path]
) -> dict[str, dict[str, list[Stop]]]:
    target = imported_database(ws, corpus, label)
    print(f"  {label}: {embed_beforehand(target, corpus)}", flush=True)
    by_key: dict[str, dict[str, list[Stop]]] = {}
    for workers in WORKERS:
        for phase in PHASES:
            key = f"{workers}/{phase}"
            by_key[key] = {side: [] for side in trees}
            for n in range(REPEATS):
                for side, tree in trees.items():  # alternating: a drift of the machine hits both
                    stop = _stop_once(ws, target, tree, workers, phase, f"{label}-{side}-{key}-{n}")
                    by_key[key][side].append(stop)
            _print_progress(label, key, by_key[key])
    return by_key


def _stop_once(ws: Workspace, target: Target, tree: Path, workers: int, phase: str, name: str) -> Stop:
    data_dir = ws.log_dir(f"data-{name.replace('/', '-')}")
    own = {"PAPERBOY_DATA_DIR": str(data_dir), "PAPERBOY_DATABASE_URL": target.url, "PYTHONPATH": str(tree)}
    env = child_env(**{**target.env, **own})
    proc, base = start_serve(env, data_dir / "log", workers)
    try:
        if phase == "idle":
            _wait_loaded(base)
        return _signal_and_wait(proc)
    finally:
        stop_process_group(proc)


def _wait_loaded(base: str) -> None:
    """Until /healthz says, three times in a row (either worker may answer), that search by meaning
    is live and the keyword index current."""
    deadline, in_a_row = time.monotonic() + LOADED_WITHIN_S, 0
    while in_a_row < 3:
        if time.monotonic() > deadline:
            raise BenchError(f"serve did not finish loading within {LOADED_WITHIN_S:.0f} s")
        with urllib.request.urlopen(f"{base}/healthz", timeout=10) as response:
            health = json.load(response)
        loaded = health.get("search_by_meaning") == "live" and health.get("keyword_index") in (
            "current",
            None,
        )
        in_a_row = in_a_row + 1 if loaded else 0
        time.sleep(0.2)


def _signal_and_wait(proc: subprocess.Popen[bytes]) -> Stop:
    started = time.perf_counter()
    os.killpg(proc.pid, signal.SIGTERM)
    try:
        status: int | None = proc.wait(timeout=PATIENCE_S)
    except subprocess.TimeoutExpired:
        status = None
    seconds = time.perf_counter() - started
    with contextlib.suppress(ProcessLookupError):  # workers that outlived the supervisor
        os.killpg(proc.pid, signal.SIGKILL)
    return Stop(seconds, status)


def _print_progress(label: str, key: str, by_side: dict[str, list[Stop]]) -> None:
    runs = "; ".join(
        f"{side} {', '.join(f'{s.seconds:.2f}' for s in stops)}" for side, stops in by_side.items()
    )
    print(f"  {label} workers/phase {key}: {runs} s", flush=True)


def _row(label: str, key: str, by_side: dict[str, list[Stop]]) -> list[object]:
    workers, phase = key.split("/")
    before = median([s.seconds for s in by_side.get("before", [])])
    after = median([s.seconds for s in by_side["after"]])
    exits = " ".join(
        f"{side}:{','.join(sorted({_status(s) for s in stops}))}" for side, stops in by_side.items()
    )
    return [label, workers, phase, before, after, f"{after / TARGET_S:.2f}x", exits]


def _status(stop: Stop) -> str:
    return "killed" if stop.exit_status is None else str(stop.exit_status)
