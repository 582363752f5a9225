"""`paperboy serve` as a subprocess on a free local port, stopped by its PID."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from bench.common import BenchError, child_env, paperboy_command, tail
from bench.workspace import Target

STARTUP_TIMEOUT_S = 120.0  # each worker loads the model before it answers: longer on a busy host


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# `--gc-ab`: the same server with the collector policy off, then on (the `gc_freeze` setting,
# web/gc_policy.py), back to back; name -> the server's environment.
GC_AB = {
    "gc_freeze off": {"PAPERBOY_GC_FREEZE": "false"},
    "gc_freeze on": {"PAPERBOY_GC_FREEZE": "true"},
}


@contextmanager
def serving(target: Target, log_dir: Path, workers: int = 2, **extra_env: str) -> Iterator[str]:
    """Start the server on `target`'s database, yield its base URL once /healthz answers, stop it."""
    with serving_group(target, log_dir, workers, **extra_env) as (base, _):
        yield base


@contextmanager
def serving_group(
    target: Target, log_dir: Path, workers: int = 2, **extra_env: str
) -> Iterator[tuple[str, int]]:
    """`serving`, yielding the base URL and the server's process group (its PID)."""
    proc, base = start_serve(child_env(**target.env, **extra_env), log_dir, workers)
    try:
        yield base, proc.pid
    finally:
        stop_process_group(proc)


def group_cpu_s(group: int) -> float:
    """CPU seconds (user + system) used so far by the live processes of process group `group`
    (the server and its workers): the difference over a run is what the run cost the server,
    whatever else the machine was doing. Linux /proc."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:  # the process ended meanwhile
            continue
        if int(fields[2]) == group:  # pgrp, after state and ppid
            total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / ticks


def start_serve(env: dict[str, str], log_dir: Path, workers: int) -> tuple[subprocess.Popen[bytes], str]:
    """`paperboy serve` with `env` (no first sync) on a free port, once /healthz answers: the
    process and its base URL. The caller stops it (stop_process_group)."""
    port = free_port()
    command = paperboy_command("serve", "--host", "127.0.0.1", "--port", str(port), "--workers", str(workers))
    log_dir.mkdir(parents=True, exist_ok=True)
    log = log_dir / "serve.log"
    with log.open("wb") as out:
        # A session of its own, so that stopping it reaches the uvicorn workers it spawns too.
        proc = subprocess.Popen(
            command,
            env={**env, "PAPERBOY_SYNC_ON_EMPTY": "0"},
            stdout=out,
            stderr=subprocess.STDOUT,
            cwd=log_dir,
            start_new_session=True,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_healthy(proc, base, log)
    except BaseException:
        stop_process_group(proc)
        raise
    return proc, base


NO_RESPONSE = 0


def get_status(url: str, timeout: float = 30.0) -> int:
    """The HTTP status of GET `url` (error statuses included); NO_RESPONSE when none came."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            response.read()
            return int(response.status)
    except urllib.error.HTTPError as exc:
        return int(exc.code)
    except OSError:  # refused, reset, timed out (URLError is an OSError)
        return NO_RESPONSE


def _wait_healthy(proc: subprocess.Popen[bytes], base: str, log: Path) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise BenchError(
                f"paperboy serve exited {proc.returncode}:\n{tail(log.read_text(errors='replace'))}"
            )
        if get_status(f"{base}/healthz", timeout=2) == 200:
            return
        time.sleep(0.2)
    raise BenchError(f"paperboy serve: no 200 from /healthz within {STARTUP_TIMEOUT_S:.0f} s")


def stop_process_group(proc: subprocess.Popen[bytes]) -> None:
    """SIGTERM the server's process group (its PID is the group id), SIGKILL if it lingers."""
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    with contextlib.suppress(ProcessLookupError):  # workers that outlived their parent
        os.killpg(proc.pid, signal.SIGKILL)
