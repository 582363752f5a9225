"""Running wrk and reading its `--latency` report."""

from __future__ import annotations

import re
import shutil
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from bench.common import BenchError

_UNITS_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0, "h": 3_600_000.0}
_LATENCY = re.compile(r"^\s*(50|75|90|99)(?:\.0+)?%\s+([\d.]+)(us|ms|s|m|h)\s*$", re.MULTILINE)
_RPS = re.compile(r"^Requests/sec:\s+([\d.]+)", re.MULTILINE)
_TOTAL = re.compile(r"^\s*(\d+) requests in ([\d.]+)(us|ms|s|m|h), ([\d.]+)([KMGT]?B) read", re.MULTILINE)
_NON_2XX = re.compile(r"Non-2xx or 3xx responses: (\d+)")
_SOCKET = re.compile(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)")
_BYTES = {"B": 1, "KB": 2**10, "MB": 2**20, "GB": 2**30, "TB": 2**40}


@dataclass(frozen=True, slots=True)
class WrkResult:
    requests: int
    requests_per_s: float
    p50_ms: float
    p75_ms: float
    p90_ms: float
    p99_ms: float
    kib_per_response: float
    non_2xx: int
    socket_errors: int
    socket_error_line: str


class WrkError(BenchError):
    """wrk failed or printed something this parser does not understand."""


def available() -> bool:
    return shutil.which("wrk") is not None


def run_wrk(
    url: str,
    *,
    threads: int,
    connections: int,
    duration_s: int,
    script: Path | None = None,
    headers: Sequence[str] = (),
) -> tuple[WrkResult, str]:
    """Load `url` for `duration_s`; returns the parsed figures and wrk's own report."""
    command = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{duration_s}s", "--latency", "--timeout", "10s"]
    command += ["-s", str(script)] if script else []
    for header in headers:
        command += ["-H", header]
    try:
        done = subprocess.run([*command, url], capture_output=True, text=True, timeout=duration_s + 60)
    except subprocess.TimeoutExpired as exc:
        raise WrkError(f"wrk did not finish within {exc.timeout:.0f} s") from exc
    if done.returncode != 0:
        raise WrkError(f"wrk exited {done.returncode}: {done.stderr.strip() or done.stdout.strip()}")
    return parse(done.stdout), done.stdout


def parse(report: str) -> WrkResult:
    latencies = {int(p): float(v) * _UNITS_MS[u] for p, v, u in _LATENCY.findall(report)}
    rps, total = _RPS.search(report), _TOTAL.search(report)
    if not rps or not total or 50 not in latencies or 99 not in latencies:
        raise WrkError(f"cannot read wrk's report:\n{report}")
    requests = int(total.group(1))
    read_bytes = float(total.group(4)) * _BYTES[total.group(5)]
    socket = _SOCKET.search(report)
    non_2xx = _NON_2XX.search(report)
    return WrkResult(
        requests=requests,
        requests_per_s=float(rps.group(1)),
        p50_ms=latencies[50],
        p75_ms=latencies.get(75, float("nan")),
        p90_ms=latencies.get(90, float("nan")),
        p99_ms=latencies[99],
        kib_per_response=read_bytes / requests / 1024 if requests else float("nan"),
        non_2xx=int(non_2xx.group(1)) if non_2xx else 0,
        socket_errors=sum(int(g) for g in socket.groups()) if socket else 0,
        socket_error_line=socket.group(0) if socket else "",
    )


def cycling_script(paths: Sequence[str], destination: Path) -> Path:
    """A wrk Lua script that requests `paths` in turn, each thread starting at a different offset."""
    table = ",\n".join(f'  "{p}"' for p in paths)
    destination.write_text(
        f"""local paths = {{
{table}
}}
local threads = 0

function setup(thread)
  thread:set("offset", threads * {max(1, len(paths) // 7)})
  threads = threads + 1
end

function init(args)
  counter = offset or 0
end

function request()
  counter = counter + 1
  return wrk.format("GET", paths[(counter % #paths) + 1])
end
""",
        encoding="utf-8",
    )
    return destination
