"""Loading work that must not take the cores, nor the interpreter, from requests: the search
warm-up of each web process and the background embedding of `serve`.

- Priority. A loading thread runs at the lowest CPU priority: Linux gives each thread its own
  nice value (`setpriority` on the thread's id), and the threads it starts (torch's intra-op
  pool) inherit it. Elsewhere the priority stays as it is.
- The interpreter's lock. Importing torch and transformers is seconds of Python holding the GIL;
  a request thread that let it go for a system call (a socket, SQLite) waits for the loader's
  switch interval (5 ms) to get it back, at every call. While something loads, the interval is
  `LOADING_SWITCH_S`, then the process's own again.
"""

from __future__ import annotations

import os
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager

LOADING_NICENESS = 19  # the lowest priority: a loading thread runs on what requests leave
LOADING_SWITCH_S = 0.0005  # the GIL's switch interval while loading (CPython's default: 0.005)

_switch_lock = threading.Lock()
_loaders = 0  # loading blocks running now in this process
_switch_before = 0.0  # the interval the first of them found


def lower_this_thread() -> None:
    """Give the calling thread (and the threads it starts from now on) the lowest priority.
    Raising niceness needs no privilege; where threads have no priority of their own, nothing."""
    if not hasattr(os, "setpriority"):  # Windows
        return
    try:
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), LOADING_NICENESS)
    except OSError:  # a sandbox refusing it: the thread keeps its priority
        return


def this_thread_niceness() -> int | None:
    """The calling thread's nice value (None where threads have none of their own)."""
    if not hasattr(os, "getpriority"):
        return None
    return os.getpriority(os.PRIO_PROCESS, threading.get_native_id())


@contextmanager
def loading() -> Iterator[None]:
    """Run the block as loading: the calling thread at the lowest priority (for good), and the
    switch interval short until the last loading block of the process ends."""
    global _loaders, _switch_before
    lower_this_thread()
    with _switch_lock:
        if _loaders == 0:
            _switch_before = sys.getswitchinterval()
            sys.setswitchinterval(min(_switch_before, LOADING_SWITCH_S))
        _loaders += 1
    try:
        yield
    finally:
        with _switch_lock:
            _loaders -= 1
            if _loaders == 0:
                sys.setswitchinterval(_switch_before)
