"""services/loading.py: a loading thread runs at the lowest CPU priority, and only that thread
(Linux gives each thread its own nice value); the GIL's switch interval is short while anything
loads, and the process's own again after."""

from __future__ import annotations

import sys
import threading

import pytest

from paperboy.services.loading import (
    LOADING_NICENESS,
    LOADING_SWITCH_S,
    loading,
    lower_this_thread,
    this_thread_niceness,
)

linux_only = pytest.mark.skipif(sys.platform != "linux", reason="threads have their own priority on Linux")


def _in_a_thread(work) -> list[object]:
    seen: list[object] = []
    thread = threading.Thread(target=lambda: seen.extend(work()))
    thread.start()
    thread.join(timeout=10)
    return seen


@linux_only
def test_a_lowered_thread_runs_at_the_lowest_priority_and_the_others_keep_theirs():
    own = this_thread_niceness()
    if own == LOADING_NICENESS:
        pytest.skip("the tests run at the lowest priority already: nothing to tell apart")

    def work():
        lower_this_thread()
        started = _in_a_thread(lambda: [this_thread_niceness()])  # a thread it starts: torch's pool
        return [this_thread_niceness(), *started]

    assert _in_a_thread(work) == [LOADING_NICENESS, LOADING_NICENESS]
    assert this_thread_niceness() == own != LOADING_NICENESS


def test_the_switch_interval_is_short_while_anything_loads_and_restored_after_the_last():
    before = sys.getswitchinterval()
    first_inside, second_done = threading.Event(), threading.Event()
    seen: list[float] = []

    def other_loader() -> None:
        with loading():
            first_inside.set()
            second_done.wait(10)

    other = threading.Thread(target=other_loader)
    other.start()
    assert first_inside.wait(10)
    with loading():
        seen.append(sys.getswitchinterval())
    seen.append(sys.getswitchinterval())  # the other one still loads
    second_done.set()
    other.join(10)
    assert seen == [LOADING_SWITCH_S, LOADING_SWITCH_S]
    assert sys.getswitchinterval() == before != LOADING_SWITCH_S
