"""`paperboy jobs` (status, add, retry), `paperboy worker` as a process (stopped by SIGTERM
idle, and in the middle of a sync, which it finishes first), and `serve` with `jobs_in_workers`
queuing the periodic jobs instead of running them; on both databases."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time

import pytest
from conftest import REPO_ROOT, shared_path
from fixture_server import fixture_server
from sqlalchemy import func, select

from paperboy.cli import main
from paperboy.cli_serve import _start_background
from paperboy.storage.schema import jobs, papers


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


RSS = ("fixtures", "arxiv_rss", "laya-reader", "arxiv_rss.xml")
OAI = ("fixtures", "arxiv_oai", "paperhive_nock", "bodies")
OAI_PAGE = "oaipmh-listrecords---should-list-identifiers-from-arxiv.1.status200.xml"
SLOW_S = 2.0  # the RSS answer's delay: the worker is mid-sync while it waits


def _slow_arxiv(path: str, query: dict[str, list[str]]) -> tuple[int, dict[str, str], bytes]:
    """arXiv's RSS (slowly) and OAI-PMH as recorded."""
    if path.startswith("/rss/"):
        time.sleep(SLOW_S)
        return 200, {}, shared_path(*RSS).read_bytes()
    return 200, {}, shared_path(*OAI, OAI_PAGE).read_bytes()


def test_sigterm_in_the_middle_of_a_sync_lets_the_worker_finish_it_then_exit_0(cli_env, engine, monkeypatch):
    monkeypatch.setenv("PAPERBOY_EMBED_ON_SYNC", "0")  # stopping is the point here, not the model
    monkeypatch.setenv("PAPERBOY_SYNC_HF", "0")
    assert main(["jobs", "add", "sync"]) == 0
    with fixture_server(_slow_arxiv) as (upstream, requests):
        monkeypatch.setenv("PAPERBOY_ARXIV_RSS_URL", f"{upstream}/rss")
        monkeypatch.setenv("PAPERBOY_ARXIV_OAI_URL", f"{upstream}/oai")
        env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
        worker = subprocess.Popen(
            [sys.executable, "-m", "paperboy", "worker", "--no-schedule"],
            env=env,
            stderr=subprocess.PIPE,
            text=True,
        )
        try:
            deadline = time.monotonic() + 60
            while not requests:  # the sync job has asked arXiv: it is running
                assert time.monotonic() < deadline, _states(engine)
                assert worker.poll() is None
                time.sleep(0.05)
            worker.send_signal(signal.SIGTERM)
            _, err = worker.communicate(timeout=60)
        finally:
            if worker.poll() is None:
                worker.kill()
                worker.communicate()
    assert worker.returncode == 0, err
    assert "worker stopped: 1 done, 0 failed tries" in err
    assert _states(engine) == [("sync", "done")]
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(papers)).scalar_one() == 6  # RSS 4, OAI 2


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
