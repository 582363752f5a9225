from __future__ import annotations

import threading
import time

from conftest import make_record

from paperboy.services.background import start_background_sync
from paperboy.storage.sync_state import SYNC_STATE_KEY, set_state
from paperboy.storage.transactions import write_transaction


def _recording_job(calls, fail=False):
    def job(engine, settings):
        calls.append(time.monotonic())
        if fail:
            raise RuntimeError("upstream exploded")

    return job


def _wait_for(condition, seconds=10):
    deadline = time.monotonic() + seconds
    while not condition() and time.monotonic() < deadline:
        time.sleep(0.02)
    return condition()


def test_empty_catalogue_gets_a_first_sync_and_then_one_per_interval(engine, settings):
    calls, stop = [], threading.Event()
    settings = settings.replace(sync_on_empty=True, sync_interval_hours=0.2 / 3600)  # 0.2 s
    thread = start_background_sync(engine, settings, stop=stop, job=_recording_job(calls, fail=True))
    assert thread is not None
    assert _wait_for(lambda: len(calls) >= 3), "failures must not stop the schedule"
    stop.set()
    thread.join(timeout=5)
    assert not thread.is_alive()


def test_nothing_starts_for_a_full_catalogue_without_interval(engine, settings, add_papers):
    add_papers(make_record("2506.00001"))
    calls = []
    settings = settings.replace(sync_on_empty=True, sync_interval_hours=0)
    assert start_background_sync(engine, settings, job=_recording_job(calls)) is None
    assert calls == []


def test_a_running_sync_elsewhere_is_not_doubled(engine, settings):
    with write_transaction(engine) as conn:
        set_state(conn, SYNC_STATE_KEY, "running")
    calls, stop = [], threading.Event()
    settings = settings.replace(sync_on_empty=True, sync_interval_hours=0)
    thread = start_background_sync(engine, settings, stop=stop, job=_recording_job(calls))
    thread.join(timeout=1)
    assert thread.is_alive(), "the first sync waits for the running one to finish"
    assert calls == []
    stop.set()
    thread.join(timeout=5)
    assert not thread.is_alive()


def test_the_first_sync_runs_once_the_other_one_has_finished(engine, settings, monkeypatch):
    monkeypatch.setattr("paperboy.services.background.FIRST_SYNC_RETRY_S", 0.05)
    with write_transaction(engine) as conn:
        set_state(conn, SYNC_STATE_KEY, "running")
    calls, stop = [], threading.Event()
    settings = settings.replace(sync_on_empty=True, sync_interval_hours=0)
    thread = start_background_sync(engine, settings, stop=stop, job=_recording_job(calls))
    time.sleep(0.2)
    assert calls == []
    with write_transaction(engine) as conn:
        set_state(conn, SYNC_STATE_KEY, "failed")  # the other sync ended without filling the catalogue
    thread.join(timeout=5)
    assert len(calls) == 1
    assert not thread.is_alive()
