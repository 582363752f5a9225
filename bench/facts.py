"""Facts about the machine and the code a benchmark ran on, for the header and the JSON."""

from __future__ import annotations

import os
import platform
import sqlite3
import subprocess
import sys
from datetime import UTC, datetime
from typing import Any

from bench import postgres
from bench.common import REPO_ROOT


def machine_facts(pg_admin: str | None) -> dict[str, Any]:
    return {
        "started": datetime.now(UTC).isoformat(timespec="seconds"),
        "cpu_count": os.cpu_count(),
        "cpus_usable": len(os.sched_getaffinity(0)),
        "cpu_model": _cpu_model(),
        "memory_gib": _memory_gib(),
        "load_average": [round(x, 2) for x in os.getloadavg()],
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "sqlite": sqlite3.sqlite_version,
        "postgresql": postgres.server_version(pg_admin) if pg_admin else None,
        "wrk": _command_output(["wrk", "--version"]).split(" [")[0],
        "git": _git_revision(),
    }


def print_header(facts: dict[str, Any]) -> None:
    print("paperboy benchmarks")
    print(
        f"  machine  {facts['cpus_usable']} of {facts['cpu_count']} cores ({facts['cpu_model']}), "
        f"{facts['memory_gib']:.1f} GiB, load average {' '.join(map(str, facts['load_average']))}"
    )
    print(
        f"  software Python {facts['python']}, SQLite {facts['sqlite']}, "
        f"PostgreSQL {facts['postgresql'] or '-'}, {facts['wrk'] or 'wrk absent'}"
    )
    print(f"  code     {facts['git']} ({facts['platform']})")
    print("  The machine may be shared and noisy: compare figures from the same run, not across runs.")


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def _memory_gib() -> float:
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    except (ValueError, OSError):
        return float("nan")


def _git_revision() -> str:
    revision = _command_output(["git", "-C", str(REPO_ROOT), "rev-parse", "--short", "HEAD"])
    dirty = _command_output(["git", "-C", str(REPO_ROOT), "status", "--porcelain", "--untracked-files=no"])
    return f"{revision or 'unknown revision'}{' + uncommitted changes' if dirty else ''}"


def _command_output(command: list[str]) -> str:
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        return ""
    return (
        (done.stdout or done.stderr).strip().splitlines()[0] if (done.stdout or done.stderr).strip() else ""
    )
