"""Rendered pieces of pages kept per process: a paper card's HTML, made once per version of the
paper and its counts, reused on every later page that shows it, for every reader.

A card's body (authors, categories, abstract, links, counts) depends on the paper, its listing,
the page's period and sort (category links keep them) and the community counts, never on who
is looking: the reader's own state (the vote button with its CSRF token) is rendered around it on
every request. Templates wrap a body in `{% call cached_fragment(paper, key) %}…{% endcall %}`.

A fragment is reused only for the very same `Paper` object it was made from: services/hydrate.py
hands out one object per paper and catalogue version, so a new version of a paper, an edited
title or new Hugging Face signals (a new catalogue version) always render anew; `key` carries
everything else the fragment shows (counts, listing, page context). Bounded by bytes, least
recently used first out. Thread-safe.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable

from markupsafe import Markup, escape

from paperboy.domain.models import Paper

# Fragments kept per process: a card's body is 1.5-3 KB, so about 10,000 cards.
FRAGMENT_CACHE_BYTES = 64 * 2**20


class FragmentCache:
    """HTML fragments by key, each tied to the paper object it shows."""

    def __init__(self, max_bytes: int = FRAGMENT_CACHE_BYTES) -> None:
        self.max_bytes = max_bytes
        self._lock = threading.Lock()
        self._entries: OrderedDict[Hashable, tuple[Paper, Markup]] = OrderedDict()
        self._bytes = 0
        self.hits = 0
        self.misses = 0

    def __len__(self) -> int:
        return len(self._entries)

    def __call__(self, paper: Paper, key: Hashable, caller: Callable[[], Markup | str]) -> Markup:
        """The fragment of `paper` under `key`: kept, or rendered by `caller` (the template's
        call block) and kept."""
        full_key = (paper.id, key)
        with self._lock:
            entry = self._entries.get(full_key)
            if entry is not None and entry[0] is paper:
                self._entries.move_to_end(full_key)
                self.hits += 1
                return entry[1]
            self.misses += 1
        html = escape(caller())  # the call block's Markup as it is; plain text escaped
        self._keep(full_key, paper, html)
        return html

    def _keep(self, key: Hashable, paper: Paper, html: Markup) -> None:
        size = len(html)
        if size > self.max_bytes // 8:
            return  # shown, not kept: one fragment must not crowd out the rest
        with self._lock:
            old = self._entries.pop(key, None)
            if old is not None:
                self._bytes -= len(old[1])
            self._entries[key] = (paper, html)
            self._bytes += size
            while self._bytes > self.max_bytes and self._entries:
                _, (_, dropped) = self._entries.popitem(last=False)
                self._bytes -= len(dropped)
