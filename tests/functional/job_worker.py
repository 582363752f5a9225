"""A `paperboy worker` for tests/functional/test_job_workers.py and bench/jobs.py: the real
worker loop (services/jobs.run_worker) with the product's kinds plus `record`, which writes one
row a run into `test_job_runs` in the transaction that marks its job done (after sleeping
`sleep` seconds on its first try, when asked: a job to be killed in the middle of).

python tests/functional/job_worker.py DATABASE_URL LEASE_SECONDS
"""

from __future__ import annotations

import json
import signal
import sys
import threading
import time
from pathlib import Path

from sqlalchemy import BigInteger, Column, MetaData, String, Table

from paperboy.config import load_settings
from paperboy.services.job_kinds import KINDS
from paperboy.services.jobs import JobContext, JobKind, run_worker
from paperboy.storage.engine import make_engine

RUNS = Table("test_job_runs", MetaData(), Column("job_id", BigInteger), Column("worker", String(200)))


def record(ctx: JobContext) -> None:
    if ctx.job.attempts == 1:
        time.sleep(float(str(ctx.job.args.get("sleep", 0))))
    assert ctx.conn is not None
    ctx.conn.execute(RUNS.insert().values(job_id=ctx.job.id, worker=ctx.job.worker))


def main(url: str, lease: float) -> None:
    settings = load_settings(
        environ={}, toml_path=Path("/nonexistent/paperboy.toml"), database_url=url, jobs_lease_seconds=lease
    )
    engine = make_engine(url, pool_pre_ping=False)  # as `paperboy worker`'s
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    kinds = KINDS | {"record": JobKind("record", record, transactional=True)}
    print("ready", flush=True)
    report = run_worker(engine, settings, kinds, stop=stop, poll=0.05)
    print(json.dumps({"done": report.done, "failed": report.failed, "lost": report.lost}), flush=True)


if __name__ == "__main__":
    main(sys.argv[1], float(sys.argv[2]))
