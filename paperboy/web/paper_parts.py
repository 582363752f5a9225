"""Serialised pieces of the JSON API's answers and of feeds, kept per process: one paper's item as
bytes (a daily papers entry's JSON, an RSS `<item>`), made once per version of the paper and
what else the piece shows, reused by every later answer that lists it.

As with card fragments (web/fragments.py), a piece is reused only for the very same `Paper`
object it was made from: services/hydrate.py hands out one object per paper and catalogue
version, so a new version of a paper, an edited title or new Hugging Face signals (a new
catalogue version) always make it anew; `key` carries everything else the piece shows (the
format, the counts, the listing day, the site's address). Nothing a reader alone sees goes in a
piece. Bounded by bytes, least recently used first out. Thread-safe.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable

from paperboy.domain.models import Paper

# A daily papers entry is about 3.5 KB of JSON and an RSS item about 2.5 KB: about 5,000 pieces
# (a week of listings in both), each holding its paper object (about 6 KB) alive.
PAPER_PARTS_BYTES = 16 * 2**20


class PaperParts:
    """Bytes by (paper id, key), each tied to the paper object it was made from."""

    def __init__(self, max_bytes: int = PAPER_PARTS_BYTES) -> None:
        self.max_bytes = max_bytes
        self._lock = threading.Lock()
        self._entries: OrderedDict[tuple[int, Hashable], tuple[Paper, bytes]] = OrderedDict()
        self._bytes = 0
        self.hits = 0
        self.misses = 0

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, paper: Paper, key: Hashable, make: Callable[[], bytes]) -> bytes:
        """The piece of `paper` under `key`: kept, or made by `make` and kept."""
        full_key = (paper.id, key)
        with self._lock:
            entry = self._entries.get(full_key)
            if entry is not None and entry[0] is paper:
                self._entries.move_to_end(full_key)
                self.hits += 1
                return entry[1]
            self.misses += 1
        piece = make()
        self._keep(full_key, paper, piece)
        return piece

    def _keep(self, key: tuple[int, Hashable], paper: Paper, piece: bytes) -> None:
        if len(piece) > self.max_bytes // 8:
            return  # given, not kept: one piece must not crowd out the rest
        with self._lock:
            old = self._entries.pop(key, None)
            if old is not None:
                self._bytes -= len(old[1])
            self._entries[key] = (paper, piece)
            self._bytes += len(piece)
            while self._bytes > self.max_bytes:
                _, (_, dropped) = self._entries.popitem(last=False)
                self._bytes -= len(dropped)


paper_parts = PaperParts()  # this process's pieces, for every app and database in it
