"""Several hosts, one database: processes that start together migrate in turn (PostgreSQL's
advisory lock), and of processes claiming "the" sync at the same moment exactly one wins."""

from __future__ import annotations

import subprocess
import sys
import time

from conftest import REPO_ROOT
from sqlalchemy import inspect

from paperboy.storage.engine import make_engine
from paperboy.storage.migrate import pending_revisions
from paperboy.storage.schema import metadata
from paperboy.storage.sync_state import SYNC_STATE_KEY, get_state

HOSTS = 8

# One "host": wait for the common start moment, claim the sync, say whether it won.
_CLAIM = """
import sys, time
from paperboy.services.sync import SyncBusy, claim_sync
from paperboy.storage.engine import make_engine
engine = make_engine(sys.argv[1])
engine.connect().close()  # connected before the start, so that the claims meet
time.sleep(max(0.0, float(sys.argv[2]) - time.time()))
try:
    claim_sync(engine)
    print("won")
except SyncBusy:
    print("busy")
"""


def _at_once(argv_of: list[list[str]]) -> list[subprocess.CompletedProcess[str]]:
    procs = [
        subprocess.Popen(argv, cwd=REPO_ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for argv in argv_of
    ]
    out = []
    for proc in procs:
        stdout, stderr = proc.communicate(timeout=180)
        out.append(subprocess.CompletedProcess(proc.args, proc.returncode, stdout, stderr))
    return out


def test_of_processes_claiming_the_sync_at_once_exactly_one_wins(database_url, engine):
    start = f"{time.time() + 3:.3f}"  # past every process's imports
    runs = _at_once([[sys.executable, "-c", _CLAIM, database_url, start] for _ in range(HOSTS)])
    assert [run.returncode for run in runs] == [0] * HOSTS, [run.stderr[-2000:] for run in runs]
    assert sorted(run.stdout.strip() for run in runs) == ["busy"] * (HOSTS - 1) + ["won"]
    with engine.connect() as conn:
        assert get_state(conn, SYNC_STATE_KEY) == "running"


def test_hosts_migrating_a_fresh_postgresql_database_at_once_all_succeed(fresh_postgresql, tmp_path):
    env_script = (
        "import os, sys, time; os.environ['PAPERBOY_DATABASE_URL'] = sys.argv[1]; "
        "os.environ['PAPERBOY_DATA_DIR'] = sys.argv[3]; "
        "os.environ['PAPERBOY_CONFIG'] = sys.argv[3] + '/absent.toml'; "
        "from paperboy.cli import main; import sqlalchemy; "
        "time.sleep(max(0.0, float(sys.argv[2]) - time.time())); sys.exit(main(['migrate']))"
    )
    start = f"{time.time() + 3:.3f}"
    runs = _at_once(
        [
            [sys.executable, "-c", env_script, fresh_postgresql, start, str(tmp_path / f"host{n}")]
            for n in range(HOSTS)
        ]
    )
    assert [run.returncode for run in runs] == [0] * HOSTS, [run.stderr[-2000:] for run in runs]
    assert all("schema is up to date" in run.stdout for run in runs)
    engine = make_engine(fresh_postgresql)
    try:
        assert not pending_revisions(engine)
        tables = set(inspect(engine).get_table_names())
        assert {table.name for table in metadata.sorted_tables} <= tables
    finally:
        engine.dispose()
