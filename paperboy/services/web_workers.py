"""How many web worker processes `paperboy serve` starts when the `workers` setting is 0 (the
default): one per CPU core this process may use, as many as the memory available allows, at
most MAX_AUTO.

One Python process serves on one core at a time: on the reference 2-core host a single worker
queued 16 connections' logged-in day pages to a p99 of 74-106 ms where two workers gave 46-49 ms
(bench/README.md, render_path). Each worker holds its own MiniLM, vectors and caches: 0.74-0.82
GB of RSS each with the full corpus's search by meaning loaded (and the supervisor ~0.18 GB,
which runs the background jobs), so a worker is counted against WORKER_BYTES of available memory.
Cores are what the scheduler and the container allow: the process's CPU affinity and a cgroup v2
`cpu.max` quota; memory is `MemAvailable` and a cgroup v2 `memory.max`, whichever is less.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from pathlib import Path

WORKER_BYTES = 1 << 30  # measured 0.74-0.82 GB per worker with the corpus's model and vectors
MAX_AUTO = 8  # past this, SQLite's one writer and the model copies argue for an explicit choice
CGROUP = Path("/sys/fs/cgroup")


@dataclass(frozen=True, slots=True)
class WorkerChoice:
    workers: int
    reason: str


def choose_workers(configured: int, cores: int | None = None, available: int | None = None) -> WorkerChoice:
    """`configured` when it is set (at least 1), else the automatic choice from `cores` and
    `available` bytes of memory (this host's, when not given)."""
    if configured >= 1:
        return WorkerChoice(configured, "the workers setting")
    cores = usable_cores() if cores is None else cores
    available = available_memory() if available is None else available
    by_memory = max(1, available // WORKER_BYTES) if available else MAX_AUTO
    workers = max(1, min(cores, by_memory, MAX_AUTO))
    gib = f"{available / WORKER_BYTES:.1f} GiB available" if available else "memory unknown"
    return WorkerChoice(workers, f"automatic: {cores} usable cores, {gib}, at most {MAX_AUTO}")


def usable_cores() -> int:
    """The cores this process may run on: its affinity, lowered by a cgroup CPU quota."""
    try:
        cores = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        cores = os.cpu_count() or 1
    quota = _cgroup_cpu_quota()
    return max(1, min(cores, quota) if quota else cores)


def available_memory() -> int | None:
    """Bytes of memory available to new processes: MemAvailable, or the cgroup's limit less its
    use when that is lower; None when neither can be read."""
    found = [value for value in (_meminfo_available(), _cgroup_memory_left()) if value is not None]
    return min(found) if found else None


def _cgroup_cpu_quota() -> int | None:
    """`cpu.max` as whole cores ("200000 100000" is 2; "max 100000" is no quota)."""
    text = _read(CGROUP / "cpu.max")
    parts = text.split() if text else []
    if len(parts) != 2 or parts[0] == "max":
        return None
    try:
        return max(1, math.ceil(int(parts[0]) / int(parts[1])))
    except (ValueError, ZeroDivisionError):
        return None


def _cgroup_memory_left() -> int | None:
    limit, used = _read(CGROUP / "memory.max"), _read(CGROUP / "memory.current")
    if not limit or not used or limit == "max":
        return None
    try:
        return max(0, int(limit) - int(used))
    except ValueError:
        return None


def _meminfo_available() -> int | None:
    text = _read(Path("/proc/meminfo")) or ""
    for line in text.splitlines():
        if line.startswith("MemAvailable:"):
            try:
                return int(line.split()[1]) * 1024
            except (IndexError, ValueError):
                return None
    return None


def _read(path: Path) -> str | None:
    try:
        return path.read_text().strip()
    except OSError:
        return None
