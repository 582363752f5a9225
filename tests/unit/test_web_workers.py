"""The automatic number of web workers (`workers` = 0): cores, memory, the cap; an explicit
setting always wins."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from paperboy.services import web_workers
from paperboy.services.web_workers import MAX_AUTO, WORKER_BYTES, choose_workers

GIB = WORKER_BYTES


@pytest.mark.parametrize(
    ("cores", "available", "expected"),
    [
        (2, 20 * GIB, 2),  # the reference host: one per core
        (1, 20 * GIB, 1),
        (4, int(2.5 * GIB), 2),  # memory for two only
        (4, GIB // 2, 1),  # a small host: never fewer than one
        (64, 500 * GIB, MAX_AUTO),
        (3, None, 3),  # memory unknown: cores decide
    ],
)
def test_automatic_choice(cores: int, available: int | None, expected: int) -> None:
    choice = choose_workers(0, cores=cores, available=available or 0)
    assert choice.workers == expected
    assert choice.reason.startswith("automatic")


def test_an_explicit_setting_wins() -> None:
    assert choose_workers(3, cores=1, available=GIB // 4).workers == 3
    assert choose_workers(1, cores=16, available=64 * GIB).reason == "the workers setting"


def test_this_host_is_read() -> None:
    choice = choose_workers(0)
    assert 1 <= choice.workers <= MAX_AUTO
    assert choice.workers <= web_workers.usable_cores()


def test_a_cgroup_quota_lowers_the_cores(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(web_workers, "CGROUP", tmp_path)
    (tmp_path / "cpu.max").write_text("150000 100000\n")  # 1.5 cores: two processes may share them
    (tmp_path / "memory.max").write_text(str(3 * GIB))
    (tmp_path / "memory.current").write_text(str(GIB // 2))
    assert web_workers.usable_cores() <= 2
    left = web_workers.available_memory()
    assert left is not None
    assert left <= int(2.5 * GIB)
    (tmp_path / "cpu.max").write_text("max 100000\n")
    (tmp_path / "memory.max").write_text("max\n")
    assert web_workers.usable_cores() == len(os.sched_getaffinity(0))  # no quota: the affinity
