"""Regions of a page rendered once for every reader, with the reader's own state filled in on
each request: the cards of a feed page, say, are the same HTML for everyone but for each vote
button's state and the form's CSRF token and return address.

A template marks the region and, inside it, what belongs to the reader:

    {% call shared_region(feed.edition, ("cards", mode), values=…, choices=…) %}
      … {% call(on) reader_choice("voted", paper.arxiv_id, voted) %}…{{ on }}…{% endcall %}
      … {{ reader_value("csrf", csrf_token) }} …
    {% endcall %}

- `reader_value(name, compute)` is this reader's `name` (`compute()` outside a region).
- `reader_choice(kind, key, current)` renders its body for `current` outside a region; inside,
  for both True and False, and each reader gets the one their `choices[kind]` (a set of keys)
  selects.

The first render of a region (per `basis` object and key) runs the body once in "slot" mode, where
those two calls leave a marker (a nonce drawn per process, which no paper text can guess) instead
of the reader's state, and keeps the HTML split at the markers. Every later reader costs a join of
the kept pieces with their own values, escaped here as Jinja would. A region is reused only for
the very same `basis` object (services/feed.py hands out one `edition` per set of papers, order
and counts), and `key` must carry whatever else the body depends on (how the reader may vote).
Bounded by bytes, least recently used first out. Thread-safe.

A region whose body holds what is one reader's alone (the library page: their notes and
collections) is made with `keep=False`: rendered in slot mode for the request, so that the cards'
shared pieces (web/region_pieces.py) are put in rather than rendered again, filled, and never kept.
"""

from __future__ import annotations

import re
import secrets
import threading
from collections import OrderedDict
from collections.abc import Callable, Collection, Hashable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from functools import partial
from operator import itemgetter
from typing import Generic, TypeVar

from markupsafe import Markup, escape
from starlette.responses import Response

# Regions kept per process: a feed page's cards are 100-350 KB, so a hundred pages or so.
REGION_CACHE_BYTES = 32 * 2**20
V = TypeVar("V")


@dataclass(frozen=True, slots=True)
class _Value:
    name: str


@dataclass(frozen=True, slots=True)
class _Choice:
    kind: str
    key: Hashable
    on: tuple[_Piece, ...]
    off: tuple[_Piece, ...]


_Piece = bytes | _Value | _Choice
_Pieces = tuple[_Piece, ...]


@dataclass(frozen=True, slots=True)
class _Embed:
    """Pieces made before (`PieceCache`), put in a region as they are."""

    pieces: _Pieces


_Span = tuple[int, int, int, int, int]  # see _Flat


class _Slots:
    """The reader's parts met while a region renders in slot mode, by marker number."""

    def __init__(self) -> None:
        self.parts: list[_Value | _Embed | tuple[str, Hashable, str, str]] = []

    def add(self, part: _Value | _Embed | tuple[str, Hashable, str, str]) -> str:
        self.parts.append(part)
        return f"\x00{_NONCE}:{len(self.parts) - 1}\x00"


_NONCE = secrets.token_hex(8)
_MARKER = re.compile(f"\x00{_NONCE}:(\\d+)\x00")
_building: ContextVar[_Slots | None] = ContextVar("paperboy_region_slots", default=None)
# While a page renders inside `spliced_regions`: its filled regions, by number (see there).
_splicing: ContextVar[list[bytes] | None] = ContextVar("paperboy_region_bytes", default=None)
_SPLICE = f"\x00{_NONCE}:region:"


def reader_value(name: str, compute: Callable[[], object]) -> object:
    """The reader's `name`: `compute()`, or a marker while a shared region renders."""
    slots = _building.get()
    if slots is None:
        return compute()
    return Markup(slots.add(_value_named(name)))  # noqa: S704 - a marker: NUL, hex digits and a number


_VALUES: dict[str, _Value] = {}


def _value_named(name: str) -> _Value:
    """One `_Value` per name for the process: kept pieces hold thousands of cards' value slots,
    each another object for the collector to walk were it made anew (names are few)."""
    found = _VALUES.get(name)
    if found is None:
        found = _VALUES.setdefault(name, _Value(name))
    return found


def reader_choice(kind: str, key: Hashable, current: bool, caller: Callable[[bool], str]) -> Markup:
    """The call block's body for `current`, or, while a shared region renders, for both values
    behind one marker (the reader's `choices[kind]` picks one when the region is filled)."""
    slots = _building.get()
    if slots is None:
        return escape(caller(current))
    on, off = str(escape(caller(True))), str(escape(caller(False)))
    return Markup(slots.add((kind, key, on, off)))  # noqa: S704 - a marker: NUL, hex digits and a number


class KeptByBytes(Generic[V]):
    """Values by key, each tied to the basis object it was made from (found only while that very
    object is asked with it), least recently used out past `max_bytes`; a value over an eighth of
    it is not kept (one must not crowd out the rest). Counts hits and misses. Thread-safe."""

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self._lock = threading.Lock()
        self._entries: OrderedDict[Hashable, tuple[object, V, int]] = OrderedDict()
        self._bytes = 0
        self.hits = 0
        self.misses = 0

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, key: Hashable, basis: object) -> V | None:
        with self._lock:
            entry = self._entries.get(key)
            if entry is None or entry[0] is not basis:
                self.misses += 1
                return None
            self._entries.move_to_end(key)
            self.hits += 1
            return entry[1]

    def keep(self, key: Hashable, basis: object, value: V, size: int) -> None:
        if size > self.max_bytes // 8:
            return
        with self._lock:
            old = self._entries.pop(key, None)
            if old is not None:
                self._bytes -= old[2]
            self._entries[key] = (basis, value, size)
            self._bytes += size
            while self._bytes > self.max_bytes and self._entries:
                _, (_, _, dropped) = self._entries.popitem(last=False)
                self._bytes -= dropped


class RegionCache(KeptByBytes["_Flat"]):
    """Shared regions by (basis object, key), each kept as pieces to join per reader."""

    def __init__(self, max_bytes: int = REGION_CACHE_BYTES) -> None:
        super().__init__(max_bytes)

    def __call__(
        self,
        basis: object | None,
        key: Hashable,
        caller: Callable[[], str],
        *,
        values: Mapping[str, Callable[[], object]] | None = None,
        choices: Mapping[str, Collection[Hashable]] | None = None,
        keep: bool = True,
    ) -> Markup:
        """The region for this reader: its `values` (name -> how to compute it) and `choices`
        (kind -> the keys that are on) filled into the kept pieces, rendered first if need be.
        With no `basis` (a page made alone) the body renders as usual, for this reader only.
        `keep=False`: a region whose body holds what is this reader's alone (their notes on a
        library page): rendered in slot mode for this request, so that the shared pieces in it
        (web/region_pieces.py) are put in rather than rendered again, filled, and forgotten."""
        if basis is None or _building.get() is not None:
            return escape(caller())
        if keep:
            filled = self._kept(basis, key, caller, values or {}, choices or {})
        else:
            filled = _fill(_render_split(caller)[0], values or {}, choices or {})
        spliced = _splicing.get()
        if spliced is None:
            return Markup(filled.decode())  # noqa: S704 - escaped pieces and values
        spliced.append(filled)
        return Markup(f"{_SPLICE}{len(spliced) - 1}\x00")  # noqa: S704 - a marker: NUL, hex digits, a number

    def _kept(
        self,
        basis: object,
        key: Hashable,
        caller: Callable[[], str],
        values: Mapping[str, Callable[[], object]],
        choices: Mapping[str, Collection[Hashable]],
    ) -> bytes:
        full_key = (id(basis), key)
        flat = self.get(full_key, basis)
        if flat is None:
            pieces, size = _render_split(caller)
            flat = _flatten(pieces)
            # What the region holds of its own: its text (pieces embedded from a PieceCache are
            # that cache's, counted there, and appear in the text as markers) and a reference a part.
            self.keep(full_key, basis, flat, size + 8 * len(flat.parts))
        return _fill_flat(flat, values, choices)


def _render_split(caller: Callable[[], str]) -> tuple[_Pieces, int]:
    """The body rendered in slot mode with slots of its own, split at its markers; its length."""
    slots = _Slots()
    token = _building.set(slots)
    try:
        html = str(escape(caller()))
    finally:
        _building.reset(token)
    return _split(html, slots), len(html)


def _split(html: str, slots: _Slots) -> _Pieces:
    """`html` cut at its markers: text, and the reader's parts in their place."""
    texts = _MARKER.split(html)  # text, number, text, number, …, text
    pieces: list[_Piece] = []
    for n, text in enumerate(texts):
        if n % 2 == 0:
            if text:
                pieces.append(text.encode())
            continue
        part = slots.parts[int(text)]
        if isinstance(part, _Value):
            pieces.append(part)
        elif isinstance(part, _Embed):
            pieces += part.pieces
        else:
            kind, key, on, off = part
            pieces.append(_Choice(kind, key, _split(on, slots), _split(off, slots)))
    return tuple(pieces)


@dataclass(frozen=True, slots=True)
class _Flat:
    """A region as one tuple of byte strings: every choice off, an empty part where each value
    goes (`slots`: their indices by name), and where each choice's off parts lie, with the part
    to put there when the choice is on. A span is (number, last, start, end, on): choices are
    numbered in document order (an enclosing one before those inside it), `last` is the last
    number inside it, start and end index the parts, and `on` indexes `ons`, the pieces to put
    there when the choice is on.

    Only tuples of ints and strings and the one tuple `ons` (references to pieces shared with
    other regions): the collector untracks those, so a thousand readers' kept regions add a
    few thousand objects to a full collection's walk, not hundreds of thousands (a list per
    choice and card made its pauses 50-70 ms of held GIL with 150 readers' For you pages)."""

    parts: tuple[bytes, ...]
    spans: dict[tuple[str, Hashable], tuple[_Span, ...]]
    slots: dict[str, tuple[int, ...]]
    ons: tuple[_Pieces, ...]


def _flatten(pieces: _Pieces) -> _Flat:
    # Text is never joined here: a region's cards are pieces shared with other regions
    # (web/region_pieces.py), and a copy per region would hold a reader's whole page (~400 KB
    # of For you) where references take 8 bytes a piece; the fill's one join copies anyway.
    parts: list[bytes] = []
    pending: list[bytes] = []  # text not yet made parts
    spans: dict[tuple[str, Hashable], list[_Span]] = {}
    slots: dict[str, list[int]] = {}
    ons: list[_Pieces] = []
    number = 0

    def cut() -> int:
        parts.extend(pending)
        pending.clear()
        return len(parts)

    def walk(run: _Pieces) -> None:
        nonlocal number
        for piece in run:
            if isinstance(piece, bytes):
                pending.append(piece)
            elif isinstance(piece, _Value):
                slots.setdefault(piece.name, []).append(cut())
                parts.append(b"")
            else:
                start, mine = cut(), number
                number += 1
                walk(piece.off)
                ons.append(piece.on)
                span = (mine, number - 1, start, cut(), len(ons) - 1)
                spans.setdefault((piece.kind, piece.key), []).append(span)

    walk(pieces)
    cut()
    return _Flat(
        tuple(parts),
        {choice: tuple(found) for choice, found in spans.items()},
        {name: tuple(found) for name, found in slots.items()},
        tuple(ons),
    )


def _fill_flat(
    flat: _Flat, values: Mapping[str, Callable[[], object]], choices: Mapping[str, Collection[Hashable]]
) -> bytes:
    """The region for this reader: each value put in its slots, the on parts of their choices
    (few: the papers they voted on, saved or hid) put in place of the off ones, one join. A walk
    over the pieces (`_fill`) cost ~0.5 ms a day page, 8-15% of its GIL time (py-spy), and a
    `bytes.replace` per value over the page ~0.4 ms each."""
    parts = list(flat.parts)
    for name, positions in flat.slots.items():
        compute = values.get(name)
        if compute is None:
            raise KeyError(f"shared region: no value {name!r} for this reader")
        text = str(escape(compute())).encode()
        for position in positions:
            parts[position] = text
    found = sorted(
        (span for kind, keys in choices.items() for key in keys for span in flat.spans.get((kind, key), ())),
        key=itemgetter(0),
    )
    out: list[bytes] = []
    done, inside = 0, -1
    for number, last, start, end, on in found:
        if number <= inside:  # within a choice already on (a hidden card's vote button)
            continue
        out += parts[done:start]
        out.append(_fill(flat.ons[on], values, choices))
        done, inside = end, last
    return b"".join(out + parts[done:] if found else parts)


def _fill(
    pieces: _Pieces, values: Mapping[str, Callable[[], object]], choices: Mapping[str, Collection[Hashable]]
) -> bytes:
    """The region as UTF-8 bytes: kept pieces are bytes already, so that a page of 100-400 KB is
    joined without widening (one wide character, an icon or a name, makes a str 2-4 bytes a
    character) and, spliced, never encoded again (`spliced_regions`)."""
    found: dict[str, bytes] = {}
    out: list[bytes] = []
    append = out.append

    def value(name: str) -> bytes:
        text = found.get(name)
        if text is None:
            compute = values.get(name)
            if compute is None:
                raise KeyError(f"shared region: no value {name!r} for this reader")
            text = found[name] = str(escape(compute())).encode()
        return text

    def walk(run: _Pieces) -> None:
        # A loop over flat types rather than a call per piece: a feed page has hundreds.
        for piece in run:
            kind = type(piece)
            if kind is bytes:
                append(piece)  # type: ignore[arg-type]
            elif kind is _Value:
                append(value(piece.name))  # type: ignore[union-attr]
            else:
                choice: _Choice = piece  # type: ignore[assignment]
                walk(choice.on if choice.key in choices.get(choice.kind, ()) else choice.off)

    walk(pieces)
    return b"".join(out)


@contextmanager
def spliced_regions() -> Iterator[Callable[[Response], Response]]:
    """Regions filled while the block runs are left out of the template's text, a marker in
    their place, and `splice(response)` puts their bytes into its body: the bulk of a feed page
    is then neither copied into Jinja's output nor encoded per request (py-spy: the str join,
    Markup copy and encoding of a 425 KB logged-in day page were ~15% of its GIL time)."""
    spliced: list[bytes] = []
    token = _splicing.set(spliced)
    try:
        yield partial(_splice, spliced)
    finally:
        _splicing.reset(token)


def _splice(spliced: list[bytes], response: Response) -> Response:
    if not spliced:
        return response
    parts = bytes(response.body).split(_SPLICE.encode())
    body = [parts[0]]
    for part in parts[1:]:
        number, _, rest = part.partition(b"\x00")
        body += [spliced[int(number)], rest]
    response.body = b"".join(body)
    response.headers["content-length"] = str(len(response.body))
    return response
