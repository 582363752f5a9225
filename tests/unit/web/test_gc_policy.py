"""The serving process's collector policy: survivors of a full collection frozen soon after it,
everything unfrozen at the sweep, garbage in cycles freed again once unfrozen."""

from __future__ import annotations

import gc
import time
import weakref
from collections.abc import Iterator

import pytest

from paperboy.web.gc_policy import GcPolicy


class _Node:
    def __init__(self) -> None:
        self.me = self  # a reference cycle: only the collector frees it


@pytest.fixture
def unfrozen() -> Iterator[None]:
    gc.unfreeze()
    yield
    gc.unfreeze()


def _until(condition: object, seconds: float = 5.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():  # type: ignore[operator]
            return True
        time.sleep(0.02)
    return False


def test_survivors_of_a_full_collection_are_frozen(unfrozen: None) -> None:
    policy = GcPolicy(sweep_s=3600)
    policy.start()
    try:
        kept = [_Node() for _ in range(1000)]
        assert gc.get_freeze_count() == 0
        gc.collect()
        assert _until(lambda: policy.freezes >= 1)
        assert gc.get_freeze_count() >= len(kept)
        assert policy.full_collections >= 1
    finally:
        policy.stop()


def test_frozen_cycles_wait_for_the_sweep(unfrozen: None) -> None:
    policy = GcPolicy(sweep_s=3600)
    policy.start()
    try:
        node = _Node()
        ref = weakref.ref(node)
        gc.collect()
        assert _until(lambda: policy.freezes >= 1)
        del node
        gc.collect()
        assert ref() is not None  # frozen: its cycle is not walked, so not freed
        policy.sweep()
        gc.collect()
        assert ref() is None
    finally:
        policy.stop()


def test_the_sweep_comes_by_itself(unfrozen: None) -> None:
    policy = GcPolicy(sweep_s=0.2)
    policy.start()
    try:
        assert _until(lambda: policy.sweeps >= 2)
    finally:
        policy.stop()


def test_stop_removes_the_callback(unfrozen: None) -> None:
    policy = GcPolicy()
    policy.start()
    policy.stop()
    assert policy._on_collection not in gc.callbacks
