"""A server's memory, summed over its processes."""

from __future__ import annotations

import re
from pathlib import Path


def server_memory(pid: int) -> dict[str, float]:
    """Peak RSS (VmHWM) and current PSS, MiB, summed over `pid` and its descendants. RSS counts
    memory-mapped index pages once per process; PSS shares them out, so its sum is the real use."""
    family = _descendants(pid) | {pid}
    hwm = pss = 0.0
    for member in family:
        try:
            status = Path(f"/proc/{member}/status").read_text()
            rollup = Path(f"/proc/{member}/smaps_rollup").read_text()
        except OSError:
            continue
        hwm += _kib(status, "VmHWM") / 1024
        pss += _kib(rollup, "Pss") / 1024
    return {"processes": len(family), "peak_rss_mib": hwm, "pss_mib": pss}


def _kib(text: str, key: str) -> float:
    match = re.search(rf"^{key}:\s+(\d+) kB", text, re.MULTILINE)
    return float(match.group(1)) if match else 0.0


def _descendants(pid: int) -> set[int]:
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            parents[int(entry.name)] = int(stat.rsplit(")", 1)[1].split()[1])
    found, frontier = set(), {pid}
    while frontier:
        frontier = {child for child, parent in parents.items() if parent in frontier} - found
        found |= frontier
    return found
