"""bench/scale_stack.py's measurements of two running `serve` instances: wrk on both at once, CPU
per request of the servers and of their PostgreSQL backends (/proc), peak RSS (VmHWM)."""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from bench import wrk
from bench.server import group_cpu_s

DURATION_S = 20


def load_average() -> str:
    return "/".join(f"{x:.1f}" for x in os.getloadavg())


def measure_load(
    instances: list[tuple[str, int]], url: str, paths: list[str], connections: int, work: Path
) -> dict[str, Any]:
    """wrk on both instances at once, `connections` split between them."""
    script = wrk.cycling_script(paths, work / f"paths-{len(paths)}.lua")
    groups = [group for _, group in instances]
    cpu_before = sum(group_cpu_s(g) for g in groups), _pids_cpu_s(_backend_pids(url))
    load = load_average()
    half = max(1, connections // 2)
    with ThreadPoolExecutor(max_workers=len(instances)) as pool:
        futures = [
            pool.submit(
                wrk.run_wrk,
                base + "/",
                threads=min(2, half),
                connections=half,
                duration_s=DURATION_S,
                script=script,
            )
            for base, _ in instances
        ]
        results = [f.result()[0] for f in futures]
    serve_cpu = sum(group_cpu_s(g) for g in groups) - cpu_before[0]
    db_cpu = _cpu_delta(cpu_before[1], _pids_cpu_s(_backend_pids(url)))
    requests = sum(r.requests for r in results)
    return {
        "connections": connections,
        "load": f"{load} → {load_average()}",
        "p50_ms": [r.p50_ms for r in results],
        "p99_ms": [r.p99_ms for r in results],
        "requests_per_s": sum(r.requests_per_s for r in results),
        "requests": requests,
        "errors": sum(r.non_2xx + r.socket_errors for r in results),
        "serve_cpu_ms": serve_cpu / requests * 1000 if requests else float("nan"),
        "db_cpu_ms": db_cpu / requests * 1000 if requests else float("nan"),
    }


def peak_rss(instances: list[tuple[str, int]], url: str) -> dict[str, Any]:
    serve = {base: sum(_hwm_mib(pid) for pid in _group_pids(group)) for base, group in instances}
    backends = [_hwm_mib(pid) for pid in _backend_pids(url)]
    return {
        "serve_mib": list(serve.values()),
        "backends": len(backends),
        "backend_max_mib": max(backends, default=0.0),
        "backend_sum_mib": sum(backends),
    }


def _group_pids(group: int) -> list[int]:
    pids = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == group:
            pids.append(int(stat.parent.name))
    return pids


def _hwm_mib(pid: int) -> float:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return 0.0
    fields = {line.split(":")[0]: line.split()[1] for line in status.splitlines() if line.startswith("Vm")}
    return int(fields.get("VmHWM", 0)) / 1024


def _backend_pids(url: str) -> list[int]:
    """The PostgreSQL backends connected to the bench database (but this query's)."""
    from sqlalchemy import text

    from paperboy.storage.engine import make_engine

    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            sql = (
                "SELECT pid FROM pg_stat_activity"
                " WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
            return [int(row[0]) for row in conn.execute(text(sql))]
    finally:
        engine.dispose()


def _pids_cpu_s(pids: list[int]) -> dict[int, float]:
    ticks = os.sysconf("SC_CLK_TCK")
    found = {}
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        found[pid] = (int(fields[11]) + int(fields[12])) / ticks
    return found


def _cpu_delta(before: dict[int, float], after: dict[int, float]) -> float:
    return sum(cpu - before.get(pid, 0.0) for pid, cpu in after.items())
