"""Killing a `paperboy` command with SIGKILL at a random point, then running it to completion.

Not a conftest.py (see app_client.py): import what you need. The delays come from a seeded
random.Random; the seed is printed (and named in every failure) so that a run can be replayed with
PAPERBOY_KILL_SEED=<seed>.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from conftest import shared_key_env

KILLS = 3
PROGRESS_TIMEOUT_S = 120.0


def kill_seed() -> int:
    """PAPERBOY_KILL_SEED, or a fresh seed; printed either way so that a failure can be replayed."""
    seed = int(os.environ.get("PAPERBOY_KILL_SEED") or random.randrange(2**32))
    print(f"kill seed: {seed} (replay with PAPERBOY_KILL_SEED={seed})")
    return seed


def paperboy_env(database_url: str, data_dir: Path, **extra: str) -> dict[str, str]:
    """The environment of a `paperboy` subprocess on this database: none of the caller's settings."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PAPERBOY_")}
    env.update(
        PAPERBOY_DATABASE_URL=database_url,
        PAPERBOY_DATA_DIR=str(data_dir),
        PAPERBOY_CONFIG=str(data_dir / "absent.toml"),
        PAPERBOY_EMBEDDER="hashing",  # kills land on writes; MiniLM would make each round minutes
        PYTHONPATH=str(Path(__file__).resolve().parents[2]),
        **shared_key_env(database_url),
        **extra,
    )
    return env


@dataclass
class KillReport:
    """What the rounds did: the progress seen at each kill, and whether the process was still running."""

    seed: int
    killed_mid_run: int = 0
    at_progress: list[int] = field(default_factory=list)
    rerun_stdout: str = ""

    def __str__(self) -> str:
        mid = f"{self.killed_mid_run} of {KILLS} kills mid-run"
        return f"seed {self.seed}: {mid}, at progress {self.at_progress}"


def kill_then_finish(
    command: Sequence[str],
    env: Mapping[str, str],
    progress: Callable[[], int],
    *,
    seed: int,
    max_delay_s: float,
    before_rerun: Callable[[], None] = lambda: None,
    cwd: Path | None = None,
) -> KillReport:
    """Start `command` KILLS times; each time, once `progress()` has grown, wait a random
    0..max_delay_s and SIGKILL it. Then run it to completion (exit status 0 is asserted)."""
    rng = random.Random(seed)
    report = KillReport(seed)
    full = [sys.executable, "-m", "paperboy", *command]
    for _ in range(KILLS):
        before_rerun()
        baseline = progress()
        process = subprocess.Popen(
            full, env=dict(env), cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
        )
        _wait_for_progress(process, progress, baseline)
        time.sleep(rng.uniform(0, max_delay_s))
        if process.poll() is None:
            process.send_signal(signal.SIGKILL)
        _, err = process.communicate(timeout=60)
        assert process.returncode in (0, -signal.SIGKILL), f"{report}: {err.decode()[-800:]}"
        report.killed_mid_run += process.returncode == -signal.SIGKILL
        report.at_progress.append(progress())
    before_rerun()
    done = subprocess.run(full, env=dict(env), cwd=cwd, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, f"{report}: the re-run failed: {done.stderr[-800:]}"
    report.rerun_stdout = done.stdout
    print(report)
    return report


def _wait_for_progress(process: subprocess.Popen[bytes], progress: Callable[[], int], baseline: int) -> None:
    deadline = time.monotonic() + PROGRESS_TIMEOUT_S
    while progress() <= baseline and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.02)
