"""`paperboy jobs` (status, add, retry), `paperboy worker` as a process, and `serve` with
`jobs_in_workers` queuing the periodic jobs instead of running them; on both databases."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time

import pytest
from conftest import REPO_ROOT
from sqlalchemy import select

from paperboy.cli import main
from paperboy.cli_serve import _start_background
from paperboy.storage.schema import jobs


def _states(engine) -> list[tuple[str, str]]:
    with engine.connect() as conn:
        return [tuple(row) for row in conn.execute(select(jobs.c.kind, jobs.c.state).order_by(jobs.c.id))]


def test_jobs_lists_each_kind_and_refuses_what_it_cannot_do(cli_env, engine, capsys):
    assert main(["jobs", "add", "noop"]) == 0
    assert main(["jobs"]) == 0
    out = capsys.readouterr().out
    header, line = out.splitlines()[1:3]
    assert header.split()[:6] == ["kind", "due", "waiting", "running", "failed", "done"]
    assert line.split()[:6] == ["noop", "1", "0", "0", "0", "0"]
    assert line.rstrip().endswith(" s"), "the oldest due job's age"
    assert main(["jobs", "add", "bogus"]) == 1
    assert main(["jobs", "retry", "1"]) == 1, "job 1 is queued, not failed"
    err = capsys.readouterr().err
    assert "no job kind 'bogus'" in err
    assert "job 1 has not failed" in err
    assert "Traceback" not in err


def test_a_worker_process_runs_queued_jobs_and_stops_on_sigterm(cli_env, engine):
    assert main(["jobs", "add", "noop"]) == 0
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    worker = subprocess.Popen(
        [sys.executable, "-m", "paperboy", "worker", "--no-schedule"],
        env=env,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        while _states(engine) != [("noop", "done")]:
            assert time.monotonic() < deadline, _states(engine)
            time.sleep(0.1)
        worker.send_signal(signal.SIGTERM)
        _, err = worker.communicate(timeout=30)
    finally:
        if worker.poll() is None:
            worker.kill()
            worker.communicate()
    assert worker.returncode == 0, err
    assert "worker stopped: 1 done, 0 failed tries" in err


@pytest.mark.parametrize("in_workers", [True, False])
def test_serve_queues_the_periodic_jobs_only_with_jobs_in_workers(engine, settings, in_workers):
    settings = settings.replace(jobs_in_workers=in_workers, embed_on_sync=True)
    stop = threading.Event()
    threads = _start_background(engine, settings, stop)
    try:
        names = sorted(thread.name for thread in threads)
        if in_workers:
            assert names == ["paperboy-job-schedule"]
            deadline = time.monotonic() + 30
            while {kind for kind, _ in _states(engine)} != {"prune", "embed"}:
                assert time.monotonic() < deadline, _states(engine)
                time.sleep(0.05)
        else:  # the embedded default, as before: serve's own threads, nothing queued
            assert names == ["paperboy-embed", "paperboy-library-imports"]
            time.sleep(0.5)
            assert _states(engine) == []
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=30)
