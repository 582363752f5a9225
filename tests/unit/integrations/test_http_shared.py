"""One HttpClient shared by many threads (the web app's arXiv look-ups): the politeness interval
and a Retry-After hold every caller, and a caller with a deadline is answered at once rather than
kept waiting past it. The clock is frozen: a sleep is recorded, not taken, so each thread's wait
is exactly the turn it was given, whatever order the threads run in."""

from __future__ import annotations

import threading

import httpx
import pytest
from upstream_fakes import FakeClock, fake_client

from paperboy.integrations.http import UpstreamBusy, UpstreamError

ARXIV_URL = "https://export.arxiv.org/api/query"
THREADS = 8


class FrozenClock:
    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []  # list.append is atomic: threads may record at once

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)


def _together(call, count: int = THREADS) -> list[object]:
    """Run `call` in `count` threads released at once; what each returned or raised."""
    barrier = threading.Barrier(count)
    results: list[object] = []

    def run() -> None:
        barrier.wait()
        try:
            results.append(call())
        except Exception as exc:  # collected for the test's assertions
            results.append(exc)

    threads = [threading.Thread(target=run) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return results


def _counting(responses: list[httpx.Response]):
    seen: list[str] = []
    lock = threading.Lock()

    def handle(request: httpx.Request) -> httpx.Response:
        with lock:
            seen.append(str(request.url))
            return responses[min(len(seen), len(responses)) - 1]

    return handle, seen


def test_concurrent_callers_take_turns_a_politeness_interval_apart():
    clock = FrozenClock()
    handle, seen = _counting([httpx.Response(200)])
    client = fake_client(handle, clock=clock, host_delays={"arxiv.org": 3.0})

    results = _together(lambda: client.get(ARXIV_URL).status)

    assert results == [200] * THREADS
    assert len(seen) == THREADS
    # one went at once; every other waited for its own turn, 3 s after the one before
    assert sorted(clock.sleeps) == [3.0 * turn for turn in range(1, THREADS)]


def test_callers_with_a_deadline_are_told_to_come_back_instead_of_queueing():
    clock = FrozenClock()
    handle, seen = _counting([httpx.Response(200)])
    client = fake_client(handle, clock=clock, host_delays={"arxiv.org": 3.0})

    results = _together(lambda: client.get(ARXIV_URL, deadline=clock.now + 5.0).status)

    busy = [result for result in results if isinstance(result, UpstreamBusy)]
    assert sorted(result for result in results if result == 200) == [200, 200]  # now, and in 3 s
    assert len(busy) == THREADS - 2
    assert all(0 < error.retry_after <= 9.0 for error in busy)
    assert len(seen) == 2


def test_a_retry_after_holds_off_every_caller_until_the_moment_it_names():
    clock = FrozenClock()
    handle, seen = _counting([httpx.Response(503, headers={"Retry-After": "600"}), httpx.Response(200)])
    client = fake_client(handle, clock=clock, retries=0)

    with pytest.raises(UpstreamBusy) as first:
        client.get(ARXIV_URL, deadline=clock.now + 5.0)
    results = _together(lambda: client.get(ARXIV_URL, deadline=clock.now + 5.0))

    assert first.value.retry_after == 600.0
    assert all(isinstance(result, UpstreamBusy) for result in results)
    assert len(seen) == 1  # nobody asked again meanwhile
    clock.now += 300
    with pytest.raises(UpstreamBusy) as later:
        client.get(ARXIV_URL, deadline=clock.now + 5.0)
    assert later.value.retry_after == 300.0  # remembered: the moment, not the length
    clock.now += 300
    assert client.get(ARXIV_URL, deadline=clock.now + 5.0).status == 200


def test_a_patient_caller_waits_out_a_hold_off_another_caller_got():
    clock = FakeClock()  # this one moves when slept on
    handle, seen = _counting([httpx.Response(503, headers={"Retry-After": "600"}), httpx.Response(200)])
    client = fake_client(handle, clock=clock, retries=0)

    with pytest.raises(UpstreamError):
        client.get(ARXIV_URL, deadline=clock.now + 5.0)
    assert client.get(ARXIV_URL).status == 200  # the sync's way: no deadline

    assert clock.sleeps == [600.0]
    assert len(seen) == 2
