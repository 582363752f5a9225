"""The `gc_freeze` setting, honoured by a serving app's lifespan: on (the default), what survives
each full collection is frozen soon after it (web/gc_policy.py); off, nothing after start-up is."""

from __future__ import annotations

import gc
import time
from collections.abc import Callable, Iterator

import pytest
from fastapi.testclient import TestClient

from paperboy.app import create_app
from paperboy.web.gc_policy import CHECK_S, GcPolicy


class _Node:
    def __init__(self) -> None:
        self.me = self  # tracked by the collector


@pytest.fixture
def unfrozen() -> Iterator[None]:
    gc.unfreeze()
    yield
    gc.unfreeze()  # the lifespan froze this test process's objects too


def _policies() -> list[object]:
    """The collector policies listening to this process's collections."""
    return [cb for cb in gc.callbacks if isinstance(getattr(cb, "__self__", None), GcPolicy)]


def _until(condition: Callable[[], bool], seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.02)
    return condition()


@pytest.mark.parametrize("on", [True, False], ids=["on", "off"])
def test_survivors_of_a_full_collection_are_frozen_only_with_gc_freeze(settings, unfrozen, on):
    # No search warm-up: its loader freezes what it loaded too, whatever the setting.
    settings = settings.replace(gc_freeze=on, search_warm_up=False, embedder="hashing")
    with TestClient(create_app(settings, serving=True)) as client:
        assert client.get("/").status_code == 200
        assert len(_policies()) == (1 if on else 0)
        frozen = gc.get_freeze_count()  # what start-up froze, with or without the setting
        assert frozen > 0
        kept = [_Node() for _ in range(1000)]
        gc.collect()
        frozen_after = _until(lambda: gc.get_freeze_count() >= frozen + len(kept), 3 * CHECK_S)
        assert frozen_after is on
    assert _policies() == []  # the lifespan's end stops the policy
