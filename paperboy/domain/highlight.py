"""Highlighted matches: a title or an abstract as HTML, escaped, with <mark> around the words a
query searched for. Pure code, so both databases highlight the same way.

Matching is close to what the lexical index does (docs/search.md): case and diacritics are
ignored ("Schrödinger" matches schrodinger) and common English endings are dropped, so a search
for "networks" marks "network" and "learning" marks "learned". Excluded words, authors and
filters are never marked, nor stop words beside other words (a question's "which" or "the").

With `math=True` (the web pages), TeX math is shown as MathML (domain/math_markup.py) and words
inside a formula are not marked: a mark is text-only, and a snippet never cuts a formula in two.
Without it (the JSON API), the TeX stays as written, marks and all.
"""

from __future__ import annotations

import html
import itertools
import re
import unicodedata
from collections.abc import Callable, Iterable, Iterator
from functools import lru_cache

from paperboy.domain.math_markup import math_span_at, math_spans, span_html, text_html
from paperboy.domain.search_query import SearchQuery
from paperboy.domain.stop_words import STOP_WORDS

_WORD = re.compile(r"\w+")
# Longest first; a word keeps at least 3 letters. "ies"/"ied" also give the -y form.
_SUFFIXES = ("ations", "ation", "ings", "ing", "ies", "ied", "es", "ed", "ly", "s")
SNIPPET_CHARS = 300
_LEAD_CHARS = 60  # how much text a snippet shows before its first match


def fold_text(text: str) -> str:
    """Lower-cased, without diacritics: é, è and e are one letter, as in the index."""
    if text.isascii():  # most titles and abstracts: no diacritics to take off
        return text.lower()
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()


def highlight(text: str, query: SearchQuery, *, math: bool = False) -> str:
    """All of `text`, HTML-escaped, with the query's words marked (and its math as MathML)."""
    render = _render_math if math else _render
    return render(text, _spans(text, _stems_of(query)), 0, len(text))


def snippet(text: str, query: SearchQuery, max_chars: int = SNIPPET_CHARS, *, math: bool = False) -> str:
    """About `max_chars` of `text` around its first match (or its start), escaped and marked;
    an ellipsis shows where text was cut."""
    render = _render_math if math else _render
    runs = _runs(text, _stems_of(query))
    if len(text) <= max_chars:
        return render(text, list(runs), 0, len(text))
    first = next(runs, None)
    start = _word_start(text, max(0, first[0] - _LEAD_CHARS)) if first else 0
    end = _word_end(text, min(len(text), start + max_chars))
    if math:  # a formula is shown whole or not at all
        start, end = _outside_formulas(text, start, end)
    shown = []  # the text past the snippet is not searched: runs come in order
    for run in itertools.chain([first] if first else [], runs):
        if run[0] > end:
            break
        if run[0] >= start and run[1] <= end:
            shown.append(run)
    inner = render(text, shown, start, end)
    return ("…" if start > 0 else "") + inner + ("…" if end < len(text) else "")


@lru_cache(maxsize=1024)
def _stems_of(query: SearchQuery) -> frozenset[str]:
    """What to mark: the query's words and phrases; of its plain words, the stop words only when
    they are all it has (the index ignores them beside other words: `the` is not worth marking)."""
    terms = tuple(t for t in query.terms if fold_text(t) not in STOP_WORDS) or query.terms
    words = [w for text in terms + query.phrases for w in _WORD.findall(fold_text(text))]
    return frozenset(stem for word in words for stem in _stems(word))


@lru_cache(maxsize=65536)
def _word_stems(word: str) -> frozenset[str]:
    """The stems of a word as it appears in a text (any case, any accents); cached, since the
    same words recur in every abstract."""
    return frozenset(_stems(fold_text(word)))


def _stems(word: str) -> set[str]:
    """The word and the forms it has without each ending it may carry."""
    forms = {word}
    for suffix in _SUFFIXES:
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            forms.add(word[: -len(suffix)])
            if suffix in ("ies", "ied"):
                forms.add(word[: -len(suffix)] + "y")
    if word.endswith("ss"):
        forms.discard(word[:-1])  # "class" is not the plural of "clas"
    return forms


def _spans(text: str, stems: frozenset[str]) -> list[tuple[int, int]]:
    """Character ranges to mark; neighbours separated only by spaces become one range."""
    return list(_runs(text, stems))


def _runs(text: str, stems: frozenset[str]) -> Iterator[tuple[int, int]]:
    """`_spans` one by one, found as they are asked for."""
    if not stems:
        return
    if text.isascii():  # most texts: one regex finds exactly the words to mark, none stemmed here
        words = _ascii_forms(stems).finditer(text)
    else:
        words = (m for m in _WORD.finditer(text) if not stems.isdisjoint(_word_stems(m[0])))
    run: tuple[int, int] | None = None
    for match in words:
        if run is not None and not text[run[1] : match.start()].strip():
            run = (run[0], match.end())
            continue
        if run is not None:
            yield run
        run = match.span()
    if run is not None:
        yield run


@lru_cache(maxsize=1024)
def _ascii_forms(stems: frozenset[str]) -> re.Pattern[str]:
    """Whole ASCII words, any case, of which `_stems` gives one of `stems`: each stem as it is
    and, from 3 letters on, with each ending `_stems` takes off (not an "s" after an "s": "class"
    is not "clas" + "s"), and "-ies"/"-ied" for a stem ending in "y". The same words as stemming
    every word of the text (tests/unit/domain/test_highlight.py checks it), at regex speed."""
    endings = "|".join(_SUFFIXES[:-1])  # all but "s", which goes only after a letter that is not "s"
    branches = []
    for stem in sorted(s for s in stems if s.isascii()):
        word = re.escape(stem)
        if len(stem) < 3:
            branches.append(word)
            continue
        branches.append(f"{word}(?:{endings}{'' if stem.endswith('s') else '|s'})?")
        if stem.endswith("y") and len(stem) > 3:
            branches.append(f"{re.escape(stem[:-1])}(?:ies|ied)")
    if not branches:
        return re.compile(r"(?!)")  # no ASCII word can match a stem that is not ASCII
    return re.compile(rf"(?<!\w)(?:{'|'.join(branches)})(?!\w)", re.ASCII | re.IGNORECASE)


def _render(
    text: str,
    spans: Iterable[tuple[int, int]],
    start: int,
    end: int,
    escape: Callable[[str], str] = html.escape,
) -> str:
    parts, position = [], start
    for left, right in spans:
        parts.append(escape(text[position:left]))
        parts.append(f"<mark>{escape(text[left:right])}</mark>")
        position = right
    parts.append(escape(text[position:end]))
    return "".join(parts)


def _render_math(text: str, spans: Iterable[tuple[int, int]], start: int, end: int) -> str:
    """As _render, with each formula between `start` and `end` as MathML and no mark inside one."""
    marks, parts, position = list(spans), [], start
    for formula in math_spans(text):
        if formula.start < start or formula.end > end:
            continue
        inside = [m for m in marks if m[0] >= position and m[1] <= formula.start]
        parts.append(_render(text, inside, position, formula.start, text_html))
        parts.append(span_html(text, formula))
        position = formula.end
    inside = [m for m in marks if m[0] >= position and m[1] <= end]
    parts.append(_render(text, inside, position, end, text_html))
    return "".join(parts)


def _outside_formulas(text: str, start: int, end: int) -> tuple[int, int]:
    """A snippet's bounds moved out of the formulas they would cut: the start past its formula
    (the match after it stays in view), the end before its formula, or after it when nothing
    would be left. Unchanged when a single formula holds both: it is then cut, and shown as TeX."""
    first = math_span_at(text, start)
    new_start = start if first is None else first.end
    while new_start < len(text) and text[new_start] == " ":
        new_start += 1
    last = math_span_at(text, end)
    new_end = end if last is None else last.start if last.start > new_start else last.end
    while new_end > new_start and text[new_end - 1] == " ":
        new_end -= 1
    return (new_start, new_end) if new_start < new_end else (start, end)


def _word_start(text: str, index: int) -> int:
    """`index` when a word starts there, else the start of the next word."""
    if index == 0 or text[index - 1] == " ":
        return index
    space = text.find(" ", index)
    return index if space < 0 else space + 1


def _word_end(text: str, index: int) -> int:
    if index >= len(text):
        return len(text)
    space = text.rfind(" ", 0, index)
    return index if space <= 0 else space
