"""`paperboy serve` in a subprocess on a free 127.0.0.1 port, over a test's database, stopped by
its PID (its process group: the uvicorn workers too). Not a conftest.py (see app_client.py)."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
from conftest import shared_key_env

from bench.server import free_port, stop_process_group  # the benchmarks start servers the same way


@contextmanager
def live_server(env: Mapping[str, str], log: Path, *, workers: int = 1) -> Iterator[str]:
    """Serve with `env` (PAPERBOY_* settings) until the block ends; yields the base URL. The
    product's defaults otherwise (the real model when the search extra is installed, warm-up
    and background embedding on): a test that changes one says why in `env`."""
    with serve_process(env, log, workers=workers) as (_process, base):
        yield base


@contextmanager
def serve_process(
    env: Mapping[str, str], log: Path, *, workers: int = 1
) -> Iterator[tuple[subprocess.Popen[bytes], str]]:
    """`live_server`, yielding the process too (for a test that stops it itself)."""
    port = free_port()
    command = [sys.executable, "-m", "paperboy", "serve", "--port", str(port), "--workers", str(workers)]
    base_env = {k: v for k, v in os.environ.items() if not k.startswith("PAPERBOY_")}
    child_env = {
        **base_env,
        "PAPERBOY_HOST": "127.0.0.1",
        "PAPERBOY_SYNC_ON_EMPTY": "0",  # a sync reaches arXiv: tests never use the network
        "PAPERBOY_SYNC_INTERVAL_HOURS": "0",
        "PAPERBOY_BASE_URL": f"http://127.0.0.1:{port}",  # links in mails lead back here
        **_shared_signing_key(env),
        **env,
    }
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("wb") as out:
        proc = subprocess.Popen(
            command, env=child_env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_healthy(proc, base, log)
        yield proc, base
    finally:
        stop_process_group(proc)
    # SQLite's busy wait must absorb every write contention: no user ever sees this error.
    assert "database is locked" not in log.read_text(errors="replace")


def site_env(database_url: str, tmp_path: Path) -> dict[str, str]:
    """The settings of a site of its own for a test: its database, a data dir in `tmp_path`, and
    no paperboy.toml from the working directory."""
    return {
        "PAPERBOY_DATABASE_URL": database_url,
        "PAPERBOY_DATA_DIR": str(tmp_path / "data"),
        "PAPERBOY_CONFIG": str(tmp_path / "absent.toml"),
    }


def _shared_signing_key(env: Mapping[str, str]) -> dict[str, str]:
    """On PostgreSQL, serve wants the key its hosts share (docs/operations.md), as CI gives it."""
    return shared_key_env(env.get("PAPERBOY_DATABASE_URL", ""))


STARTUP_TIMEOUT_S = 120  # each process loads the model before it answers: seconds, more on a busy host


def _wait_healthy(proc: subprocess.Popen[bytes], base: str, log: Path) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(
                f"paperboy serve exited {proc.returncode}:\n{log.read_text(errors='replace')[-3000:]}"
            )
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(f"{base}/healthz", timeout=2).status_code == 200:
                return
        time.sleep(0.2)
    pytest.fail(f"paperboy serve did not answer /healthz within {STARTUP_TIMEOUT_S} s")
