"""services/read_ahead.py: items in order from a thread; failures and early stops handled."""

from __future__ import annotations

import threading

import pytest

from paperboy.services.read_ahead import read_ahead


def test_items_arrive_in_order_made_by_another_thread():
    makers = []

    def numbers():
        for n in range(100):
            makers.append(threading.current_thread().name)
            yield n

    assert list(read_ahead(numbers(), depth=3, name="reader")) == list(range(100))
    assert set(makers) == {"reader"}


def test_a_failure_of_the_producer_is_raised_in_the_consumer_after_the_items_before_it():
    def failing():
        yield 1
        yield 2
        raise ValueError("line 3 is bad")

    items = read_ahead(failing())
    assert [next(items), next(items)] == [1, 2]
    with pytest.raises(ValueError, match="line 3 is bad"):
        next(items)


def test_a_consumer_that_stops_early_stops_the_producer_and_closes_its_generator():
    closed = threading.Event()

    def endless():
        try:
            n = 0
            while True:
                yield n
                n += 1
        finally:
            closed.set()

    items = read_ahead(endless(), depth=2)
    assert [next(items) for _ in range(5)] == [0, 1, 2, 3, 4]
    items.close()  # what a `for` loop left by an exception or a break does
    assert closed.is_set()
    assert not [t for t in threading.enumerate() if t.name == "paperboy-read-ahead"]


def test_depth_must_be_positive():
    with pytest.raises(ValueError, match="depth"):
        list(read_ahead(iter([1]), depth=0))
