from __future__ import annotations

import threading

from conftest import make_record

from paperboy.services.background import FIRST_SYNC_RETRY_S, start_background_sync
from paperboy.storage.sync_state import SYNC_STATE_KEY, set_state
from paperboy.storage.transactions import write_transaction


def _recording_job(calls, fail=False):
    def job(engine, settings):
        calls.append("sync")
        if fail:
            raise RuntimeError("upstream exploded")

    return job


def test_empty_catalogue_gets_a_first_sync_and_then_one_per_interval(engine, settings):
    calls, waits = [], []

    def wait(seconds):  # the schedule's pause between turns: the third one stops it
        waits.append(seconds)
        return len(waits) == 3

    settings = settings.replace(sync_on_empty=True, sync_interval_hours=2)
    thread = start_background_sync(engine, settings, job=_recording_job(calls, fail=True), wait=wait)
    assert thread is not None
    thread.join(timeout=10)
    assert not thread.is_alive()
    assert calls == ["sync"] * 3, "failures must not stop the schedule"
    assert waits == [7200.0] * 3


def test_nothing_starts_for_a_full_catalogue_without_interval(engine, settings, add_papers):
    add_papers(make_record("2506.00001"))
    calls = []
    settings = settings.replace(sync_on_empty=True, sync_interval_hours=0)
    assert start_background_sync(engine, settings, job=_recording_job(calls)) is None
    assert calls == []


def test_a_running_sync_elsewhere_is_not_doubled(engine, settings):
    with write_transaction(engine) as conn:
        set_state(conn, SYNC_STATE_KEY, "running")
    calls, stop, waiting = [], threading.Event(), threading.Event()

    def wait(seconds):
        waiting.set()  # the first sync reached its pause, without running
        return stop.wait()

    settings = settings.replace(sync_on_empty=True, sync_interval_hours=0)
    thread = start_background_sync(engine, settings, job=_recording_job(calls), wait=wait)
    assert waiting.wait(timeout=10), "the first sync waits for the running one to finish"
    assert calls == []
    stop.set()
    thread.join(timeout=5)
    assert not thread.is_alive()
    assert calls == []


def test_the_first_sync_runs_once_the_other_one_has_finished(engine, settings):
    with write_transaction(engine) as conn:
        set_state(conn, SYNC_STATE_KEY, "running")
    calls, waits = [], []

    def wait(seconds):
        waits.append(seconds)
        assert calls == []  # still waiting for the other sync
        with write_transaction(engine) as conn:
            set_state(conn, SYNC_STATE_KEY, "failed")  # it ended without filling the catalogue
        return False

    settings = settings.replace(sync_on_empty=True, sync_interval_hours=0)
    thread = start_background_sync(engine, settings, job=_recording_job(calls), wait=wait)
    thread.join(timeout=10)
    assert not thread.is_alive()
    assert waits == [FIRST_SYNC_RETRY_S]
    assert calls == ["sync"]
