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

from collections.abc import Callable, Hashable

from markupsafe import Markup, escape

from paperboy.domain.models import Paper
from paperboy.web.regions import KeptByBytes, _building, _Embed, _Pieces, _render_split

# A card's pieces are 2-5 KB (its buttons in both states): about 8,000 cards.
PIECE_CACHE_BYTES = 32 * 2**20


class PieceCache(KeptByBytes[_Pieces]):
    """Region pieces by (paper, key), each tied to the paper object it shows."""

    def __init__(self, max_bytes: int = PIECE_CACHE_BYTES) -> None:
        super().__init__(max_bytes)

    def __call__(self, paper: Paper, key: Hashable, caller: Callable[[], str]) -> Markup:
        """The body's pieces as a marker of the region being rendered, or the body itself when
        no region is."""
        slots = _building.get()
        if slots is None:
            return escape(caller())
        full_key = (paper.id, key)
        pieces = self.get(full_key, paper)
        if pieces is None:
            pieces, size = _render_split(caller)
            self.keep(full_key, paper, pieces, size)
        return Markup(slots.add(_Embed(pieces)))  # noqa: S704 - a marker: NUL, hex digits and a number
