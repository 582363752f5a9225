"""Short garbage-collector pauses in a serving process: what survives a full collection is frozen
(moved out of the collector's generations, `gc.freeze`), so the next full collection walks only
what came to live since, not every cached paper and page region again; once an hour everything
is unfrozen, and the next full collection walks it all once and frees the cycles that were
frozen meanwhile.

Why: a full collection holds the interpreter's lock while it walks every tracked object. A worker
whose caches hold 20,000 papers and a few thousand readers' page regions tracks several hundred
thousand objects, and each full collection took 50-240 ms (measured with `gc.callbacks`,
bench/README.md, personal): every request in flight waited that long, which is most of a page's
p99 at 8 connections. Objects that become garbage while frozen are still freed at once by
reference counting (a cached paper pushed out of its cache, a finished request's state); only
garbage in reference cycles waits for the hourly sweep.
"""

from __future__ import annotations

import gc
import threading
import time
from typing import Any

SWEEP_S = 3600.0  # how often everything is unfrozen so that frozen cycles are freed
CHECK_S = 1.0  # how soon after a full collection its survivors are frozen


class GcPolicy:
    """Freeze after each full collection (from a thread: not inside the collector's callback);
    unfreeze every `sweep_s`."""

    def __init__(self, sweep_s: float = SWEEP_S) -> None:
        self.sweep_s = sweep_s
        self.full_collections = 0
        self.freezes = 0
        self.sweeps = 0
        self._collected = threading.Event()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="gc-policy", daemon=True)

    def start(self) -> None:
        gc.callbacks.append(self._on_collection)
        self._thread.start()

    def stop(self) -> None:
        """Stop freezing (nothing to undo; a policy never started stops too)."""
        self._stop.set()
        if self._on_collection in gc.callbacks:
            gc.callbacks.remove(self._on_collection)

    def _on_collection(self, phase: str, info: dict[str, Any]) -> None:
        if phase == "stop" and info.get("generation") == 2:
            self.full_collections += 1
            self._collected.set()

    def _run(self) -> None:
        next_sweep = time.monotonic() + self.sweep_s
        while not self._stop.is_set():
            if self._collected.wait(CHECK_S):
                self._collected.clear()
                gc.freeze()
                self.freezes += 1
            if time.monotonic() >= next_sweep:
                self.sweep()
                next_sweep = time.monotonic() + self.sweep_s

    def sweep(self) -> None:
        """Unfreeze everything: the next full collection walks it all once (and frees the
        cycles frozen meanwhile), then its survivors are frozen again."""
        gc.unfreeze()
        self.sweeps += 1
