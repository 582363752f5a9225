"""Producing an iterator's items in a thread of its own, a few items ahead of the consumer.

`paperboy import` reads (gzip, JSON, records) in such a thread while the main thread writes the
previous batch: the database drivers release the GIL while they wait for the server (PostgreSQL)
or run a statement (SQLite), so reading goes on during writes instead of between them.
An exception in the producer is raised in the consumer, at the place of the item it would have
been; a consumer that stops early (an error, a break) stops the producer before returning.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Generic, TypeVar

T = TypeVar("T")

_POLL_S = 0.1  # how often a producer blocked on a full queue checks whether the consumer is gone


@dataclass(frozen=True, slots=True)
class _Item(Generic[T]):
    value: T


@dataclass(frozen=True, slots=True)
class _Failed:
    error: BaseException


class _End:
    pass


def read_ahead(items: Iterator[T], depth: int = 2, name: str = "paperboy-read-ahead") -> Iterator[T]:
    """The items of `items`, in order, made by a thread up to `depth` items ahead of the caller."""
    if depth < 1:
        raise ValueError("depth must be at least 1")
    slots: queue.Queue[_Item[T] | _Failed | _End] = queue.Queue(maxsize=depth)
    stopped = threading.Event()
    thread = threading.Thread(target=_produce, args=(items, slots, stopped), name=name, daemon=True)
    thread.start()
    try:
        while True:
            got = slots.get()
            if isinstance(got, _End):
                return
            if isinstance(got, _Failed):
                raise got.error
            yield got.value
    finally:
        stopped.set()
        thread.join()


def _produce(
    items: Iterator[T], slots: queue.Queue[_Item[T] | _Failed | _End], stopped: threading.Event
) -> None:
    end: _Failed | _End = _End()
    try:
        for value in items:
            if not _put(slots, _Item(value), stopped):
                return
    except BaseException as exc:  # handed to the consumer, which raises it
        end = _Failed(exc)
    finally:
        close = getattr(items, "close", None)
        if close is not None:
            close()  # a generator's `with` blocks (open files) end in this thread
    _put(slots, end, stopped)


def _put(
    slots: queue.Queue[_Item[T] | _Failed | _End], item: _Item[T] | _Failed | _End, stopped: threading.Event
) -> bool:
    """Put `item` once there is room; False when the consumer stopped first."""
    while not stopped.is_set():
        try:
            slots.put(item, timeout=_POLL_S)
            return True
        except queue.Full:
            continue
    return False
