"""Issue 17: the job queue's throughput on PostgreSQL: N cheap jobs (`noop`, transactional: a
claim, a completion and the next claim per job) taken by 1 and by 4 `paperboy worker`
processes (`--no-schedule`), jobs per second from the moment they are queued until the last
is done. Workers are started, and print that they take jobs, before anything is queued.

python -m bench jobs                      # with PAPERBOY_BENCH_POSTGRES_URL set (an admin URL)
python -m bench.jobs --jobs 5000          # the same, alone
"""

from __future__ import annotations

import argparse
import subprocess
import time
from typing import Any

from sqlalchemy import func, select

from bench import postgres
from bench.common import BenchError, child_env, format_table, paperboy_command, run_standalone, section
from paperboy.domain.jobs import NewJob
from paperboy.services.jobs import add_jobs
from paperboy.storage.engine import make_engine
from paperboy.storage.migrate import upgrade
from paperboy.storage.schema import jobs

JOBS = 5_000
WORKERS = (1, 4)


def run(admin: str | None, count: int = JOBS) -> dict[str, Any]:
    if admin is None:
        raise BenchError(f"needs PostgreSQL: set {postgres.ENV_VAR} to an admin URL")
    version = postgres.server_version(admin)
    section(f"jobs: {count:,} noop jobs through `paperboy worker` on PostgreSQL {version}")
    results: dict[str, Any] = {"jobs": count}
    for workers in WORKERS:
        results[f"workers_{workers}"] = _measure(admin, workers, count)
    rows = [(w, results[f"workers_{w}"]["seconds"], results[f"workers_{w}"]["jobs_per_s"]) for w in WORKERS]
    print(format_table(("workers", "seconds", "jobs/s"), rows))
    return results


def _measure(admin: str, workers: int, count: int) -> dict[str, float]:
    name = f"paperboy_bench_jobs_{workers}"
    url = postgres.create_database(admin, name)
    engine = make_engine(url)
    procs: list[subprocess.Popen[str]] = []
    try:
        upgrade(engine)
        env = child_env(PAPERBOY_DATABASE_URL=url)
        for _ in range(workers):
            procs.append(
                subprocess.Popen(
                    paperboy_command("worker", "--no-schedule"), env=env, stderr=subprocess.PIPE, text=True
                )
            )
        for proc in procs:
            assert proc.stderr is not None
            while "taking jobs" not in proc.stderr.readline():
                if proc.poll() is not None:
                    raise BenchError("a worker did not start")
        add_jobs(engine, [NewJob("noop") for _ in range(count)])
        started = time.perf_counter()
        while _done(engine) < count:
            time.sleep(0.05)
        seconds = time.perf_counter() - started
        return {"seconds": round(seconds, 2), "jobs_per_s": round(count / seconds, 1)}
    finally:
        for proc in procs:
            proc.terminate()
            proc.wait(timeout=30)
            if proc.stderr is not None:
                proc.stderr.close()
        engine.dispose()
        postgres.drop_database(admin, name)


def _done(engine: Any) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).where(jobs.c.state == "done")).scalar_one())


if __name__ == "__main__":
    parser = argparse.ArgumentParser(prog="python -m bench.jobs")
    parser.add_argument("--jobs", type=int, default=JOBS)
    count = parser.parse_args().jobs
    raise SystemExit(run_standalone("jobs", "jobs-", lambda: run(postgres.admin_url()[0], count)))
