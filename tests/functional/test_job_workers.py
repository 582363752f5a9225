"""Jobs in the database with real worker processes on PostgreSQL: four `run_worker` processes
take 10,002 jobs while one of them is killed (SIGKILL) in the middle of a job; every job is done
exactly once (the killed one's job again after its lease ran out), none is lost, and a job
longer than the lease keeps it by its worker's heartbeat. The jobs record each run in a table
in the transaction that completes them (tests/functional/job_worker.py)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest
from conftest import PG_ADMIN_URL, REPO_ROOT
from job_worker import RUNS
from sqlalchemy import func, select

from paperboy.domain.jobs import NewJob
from paperboy.services.jobs import add_jobs
from paperboy.storage.schema import jobs

pytestmark = pytest.mark.skipif(
    not PG_ADMIN_URL, reason="workers on several hosts share PostgreSQL; on SQLite the jobs run in serve"
)
WORKERS = 4
CHEAP_JOBS = 10_000
LEASE_S = 2.0
WORKER = REPO_ROOT / "tests" / "functional" / "job_worker.py"


def _start_workers(url: str) -> list[subprocess.Popen[str]]:
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    argv = [sys.executable, str(WORKER), url, str(LEASE_S)]
    procs = [subprocess.Popen(argv, env=env, stdout=subprocess.PIPE, text=True) for _ in range(WORKERS)]
    for proc in procs:
        assert proc.stdout is not None
        assert proc.stdout.readline().strip() == "ready"
    return procs


def _wait_for(predicate, seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while not predicate():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


def _job(engine, job_id: int):
    with engine.connect() as conn:
        return conn.execute(select(jobs).where(jobs.c.id == job_id)).one()


def _unfinished(engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).where(jobs.c.state != "done")).scalar_one())


def test_four_workers_do_every_job_once_though_one_is_killed_mid_job(engine, database_url):
    RUNS.create(engine)
    procs: list[subprocess.Popen[str]] = []
    try:
        killed_job, long_job = NewJob("record", {"sleep": 60}), NewJob("record", {"sleep": 3 * LEASE_S})
        add_jobs(engine, [killed_job, long_job] + [NewJob("record") for _ in range(CHEAP_JOBS)])
        with engine.connect() as conn:
            first_id = conn.execute(select(func.min(jobs.c.id))).scalar_one()
        started = time.monotonic()
        procs = _start_workers(database_url)
        _wait_for(lambda: _job(engine, first_id).state == "running", 30, "the first job to be taken")
        time.sleep(0.5)  # well inside its 60 s
        victim = _job(engine, first_id).worker
        pid = int(victim.rsplit(":", 1)[1])
        [killed] = [proc for proc in procs if proc.pid == pid]
        os.kill(pid, signal.SIGKILL)
        _wait_for(lambda: _unfinished(engine) == 0, 300, "every job to be done")
        elapsed = time.monotonic() - started
        with engine.connect() as conn:
            runs = conn.execute(select(RUNS.c.job_id, RUNS.c.worker)).all()
            total = conn.execute(select(func.count()).select_from(jobs)).scalar_one()
        assert total == CHEAP_JOBS + 2
        per_job: dict[int, int] = {}
        for job_id, _ in runs:
            per_job[job_id] = per_job.get(job_id, 0) + 1
        assert len(per_job) == total, "a job was lost"
        assert max(per_job.values()) == 1, "a job ran twice"
        redone = _job(engine, first_id)
        assert (redone.attempts, redone.last_error is not None) == (2, True), "run again after its lease"
        assert dict(runs)[first_id] != victim
        assert _job(engine, first_id + 1).attempts == 1, "the heartbeat kept a long job's lease"
        assert killed.wait(timeout=5) == -signal.SIGKILL
        survivors = [proc for proc in procs if proc is not killed]
        for proc in survivors:
            proc.send_signal(signal.SIGTERM)
        assert [proc.wait(timeout=30) for proc in survivors] == [0] * (WORKERS - 1)
        print(f"{total} jobs by {WORKERS} workers (one killed) in {elapsed:.1f} s")
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
            assert proc.stdout is not None
            proc.stdout.close()
        RUNS.drop(engine)
