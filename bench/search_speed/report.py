"""The table of each corpus's modes, and how far from the targets (issue 4) they are."""

from __future__ import annotations

from bench.common import format_table
from bench.search_speed.server import ModeResult

TARGETS = {"74,728": {"p50": 15.0, "p99": 50.0}, "1,000,000": {"p50": 30.0, "rss_gib": 4.0}}


def print_modes(papers: str, modes: dict[str, ModeResult]) -> None:
    headers = ["mode", "cold p50 ms", "cold p99 ms", "1-conn p50", "1-conn p99", "req/s (8 conn)",
               "p50 (8 conn)", "p99 (8 conn)", "hits", "not 200/partial", "peak RSS MiB",
               "PSS MiB"]  # fmt: skip
    rows = []
    for r in modes.values():
        single, loaded = r.single or {}, r.loaded or {}
        rows.append([
            f"{papers} {r.mode}", r.cold_p50_ms, r.cold_p99_ms, single.get("p50_ms"), single.get("p99_ms"),
            loaded.get("requests_per_s"), loaded.get("p50_ms"), loaded.get("p99_ms"), r.hits_median,
            f"{r.cold_errors}/{r.partial}", r.memory.get("peak_rss_mib"), r.memory.get("pss_mib"),
        ])  # fmt: skip
    print(format_table(headers, rows))
    hybrid = modes.get("hybrid")
    target = TARGETS[papers]
    if hybrid and hybrid.single:
        parts = [f"hybrid cold p50 {hybrid.cold_p50_ms / target['p50']:.2f}× of {target['p50']:.0f} ms"]
        parts.append(f"1-conn p50 {hybrid.single['p50_ms'] / target['p50']:.2f}×")
        if "p99" in target:
            parts.append(f"cold p99 {hybrid.cold_p99_ms / target['p99']:.2f}× of {target['p99']:.0f} ms")
            parts.append(f"1-conn p99 {hybrid.single['p99_ms'] / target['p99']:.2f}×")
        if "rss_gib" in target:
            peak = max(r.memory.get("peak_rss_mib", 0) for r in modes.values()) / 1024
            parts.append(
                f"peak RSS {peak:.2f} GiB = {peak / target['rss_gib']:.2f}× of {target['rss_gib']:.0f} GiB"
            )
        print(f"targets at {papers} papers (issue 4): " + "; ".join(parts))
