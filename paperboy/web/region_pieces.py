"""Parts of shared regions kept per paper: a card as a region's first render makes it (the
reader's parts as slots and choices, web/regions.py), reused by every later region that shows the
same paper object with the same `key`, whoever's region it is.

A region is rendered once per basis object (a feed page's edition, a reader's "For you" page) and
key; its cards are most of its cost (each vote, save and hide button rendered for both states):
~19 ms of a reader's first "For you" page of 100 cards, before (bench/README.md, "personal").
With `{% call shared_pieces(paper, key) %}…{% endcall %}` around a card, a region's render puts the
card's kept pieces in place instead of rendering it again. Outside a region (a page made for one
reader alone) the body renders as usual.

Like `web/fragments.py`: reused only for the very same `Paper` object (one per catalogue
version, services/hydrate.py); `key` carries everything else the body shows (counts, listing,
page context, how the reader may vote). Bounded by bytes, least recently used first out.
Thread-safe.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable

from markupsafe import Markup, escape

from paperboy.domain.models import Paper
from paperboy.web.regions import _building, _Embed, _Pieces, _Slots, _split

# A card's pieces are 2-5 KB (its buttons in both states): about 8,000 cards.
PIECE_CACHE_BYTES = 32 * 2**20


class PieceCache:
    """Region pieces by (paper, key), each tied to the paper object it shows."""

    def __init__(self, max_bytes: int = PIECE_CACHE_BYTES) -> None:
        self.max_bytes = max_bytes
        self._lock = threading.Lock()
        self._entries: OrderedDict[Hashable, tuple[Paper, _Pieces, int]] = OrderedDict()
        self._bytes = 0
        self.hits = 0
        self.misses = 0

    def __len__(self) -> int:
        return len(self._entries)

    def __call__(self, paper: Paper, key: Hashable, caller: Callable[[], str]) -> Markup:
        """The body's pieces as a marker of the region being rendered, or the body itself when
        no region is."""
        slots = _building.get()
        if slots is None:
            return escape(caller())
        full_key = (paper.id, key)
        with self._lock:
            entry = self._entries.get(full_key)
            if entry is not None and entry[0] is paper:
                self._entries.move_to_end(full_key)
                self.hits += 1
                return Markup(slots.add(_Embed(entry[1])))  # noqa: S704 - a marker: NUL, hex digits and a number
            self.misses += 1
        pieces, size = _render(caller)
        self._keep(full_key, paper, pieces, size)
        return Markup(slots.add(_Embed(pieces)))  # noqa: S704 - a marker: NUL, hex digits and a number

    def _keep(self, key: Hashable, paper: Paper, pieces: _Pieces, size: int) -> None:
        if size > self.max_bytes // 8:
            return
        with self._lock:
            old = self._entries.pop(key, None)
            if old is not None:
                self._bytes -= old[2]
            self._entries[key] = (paper, pieces, size)
            self._bytes += size
            while self._bytes > self.max_bytes and self._entries:
                _, (_, _, dropped) = self._entries.popitem(last=False)
                self._bytes -= dropped


def _render(caller: Callable[[], str]) -> tuple[_Pieces, int]:
    """The body in slot mode with slots of its own, split at its markers."""
    slots = _Slots()
    token = _building.set(slots)
    try:
        html = str(escape(caller()))
    finally:
        _building.reset(token)
    return _split(html, slots), len(html)
