"""An import killed with SIGKILL half-way completes on a re-run, with every paper present once."""

from __future__ import annotations

import gzip
import os
import signal
import subprocess
import sys
import time

from conftest import shared_path
from sqlalchemy import func, select

from paperboy.storage.schema import listings, papers

N_PAPERS = 12_000


def _count(engine, table):
    with engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(table)).scalar_one()


def _import(database_url, tmp_path, *paths):
    env = {
        **os.environ,
        "PAPERBOY_DATABASE_URL": database_url,
        "PAPERBOY_IMPORT_BATCH_SIZE": "500",
        "PAPERBOY_DATA_DIR": str(tmp_path / "data"),
        "PAPERBOY_CONFIG": str(tmp_path / "absent.toml"),
    }
    return subprocess.Popen(
        [sys.executable, "-m", "paperboy", "import", *map(str, paths)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )


def test_sigkilled_import_completes_on_rerun(database_url, engine, tmp_path):
    source = shared_path("data", "arxiv", "papers.jsonl.gz")
    path = tmp_path / "part.jsonl.gz"
    with gzip.open(source, "rt", encoding="utf-8") as src, gzip.open(path, "wt", encoding="utf-8") as out:
        for _, line in zip(range(N_PAPERS), src, strict=False):
            out.write(line)

    process = _import(database_url, tmp_path, path)
    deadline = time.monotonic() + 120
    while _count(engine, papers) < 1500 and time.monotonic() < deadline and process.poll() is None:
        time.sleep(0.05)
    process.send_signal(signal.SIGKILL)
    _, err = process.communicate()
    interrupted_at = _count(engine, papers)
    assert 0 < interrupted_at < N_PAPERS, f"the kill must land half-way: {err.decode()[-500:]}"

    rerun = _import(database_url, tmp_path, path)
    out, err = rerun.communicate(timeout=300)
    assert rerun.returncode == 0, err.decode()
    assert f"{N_PAPERS - interrupted_at} new" in out.decode()
    with engine.connect() as conn:
        distinct = conn.execute(select(func.count(func.distinct(papers.c.arxiv_id)))).scalar_one()
    assert _count(engine, papers) == distinct == N_PAPERS
    assert _count(engine, listings) == 0
