"""TeX as MathML (domain/math_markup.py) over the whole corpus: every title and abstract rendered
as the pages render them (the title on one line, the abstract paragraph by paragraph), first with
empty caches, then a page of cards again with the caches warm; formulas found, shown as MathML
and shown as their TeX. Escaping alone (what pages did before) is timed beside it. Prints figures;
never asserts."""

from __future__ import annotations

import gzip
import re
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import orjson
from markupsafe import escape

from bench.common import Corpus, format_table
from paperboy.domain import math_markup
from paperboy.domain.math_markup import math_html, math_spans, mathml
from paperboy.web.filters import oneline, paragraphs

PAGE = 100  # cards on a day page
Card = tuple[str, list[str]]  # the title on one line, the abstract's paragraphs


def load_cards(path: Path) -> list[Card]:
    with gzip.open(path, "rb") as lines:
        records = [orjson.loads(line) for line in lines]
    return [(oneline(r.get("title") or ""), paragraphs(r.get("abstract") or "")) for r in records]


def texts(cards: Sequence[Card]) -> Iterator[str]:
    for title, parts in cards:
        yield title
        yield from parts


def clear_caches() -> None:
    for cached in (math_markup._cached_math_html, math_spans, mathml):
        cached.cache_clear()


def timed(render: Callable[[str], object], cards: Sequence[Card]) -> float:
    start = time.perf_counter()
    for text in texts(cards):
        render(text)
    return time.perf_counter() - start


def counts(cards: Sequence[Card]) -> dict[str, Any]:
    """Texts with math, formulas, how each renders and why some stay TeX; HTML bytes before and
    after; a few formulas shown as TeX, and the unknown commands met most often."""
    found: Counter[str] = Counter()
    unknown: Counter[str] = Counter()
    fallbacks: list[str] = []
    for text in texts(cards):
        spans = math_spans(text)
        found["texts"] += 1
        found["texts with math"] += bool(spans)
        found["bytes escaped"] += len(str(escape(text)).encode())
        found["bytes with MathML"] += len(str(math_html(text)).encode())
        for span in spans:
            found["formulas"] += 1
            found["display formulas"] += span.display
            if mathml(span.source, span.display) is not None:
                found["as MathML"] += 1
                continue
            reason = fallback_reason(span.source)
            found[f"as TeX: {reason}"] += 1
            fallbacks.append(span.source)
            if reason == "parse error or unknown command":
                unknown.update(_COMMAND.findall(span.source))
    return {
        **found,
        "examples shown as TeX": fallbacks[:: max(1, len(fallbacks) // 12)][:12],
        "commands in formulas shown as TeX": dict(unknown.most_common(15)),
    }


_COMMAND = re.compile(r"\\[A-Za-z]+")


def fallback_reason(source: str) -> str:
    """Why math_markup shows a formula as TeX, as far as its limits tell (bench only)."""
    if len(source) > math_markup.MAX_MATH_CHARS:
        return "too long"
    if math_markup._REFUSED.search(source):
        return "refused command"
    if not math_markup._braces_fit(source):
        return "unbalanced or deep braces"
    return "parse error or unknown command"


def run(corpus: Corpus) -> dict[str, Any]:
    cards = load_cards(corpus.papers)
    escaped = timed(escape, cards)
    clear_caches()
    cold = timed(math_html, cards)
    page = [card for card in cards if any("$" in text for text in texts([card]))][:PAGE]
    clear_caches()
    page_cold = timed(math_html, page)
    page_warm = min(timed(math_html, page) for _ in range(5))
    found = counts(cards)
    n = len(cards)
    rows = [
        ["whole corpus, escaping only (before)", f"{escaped:.2f} s", f"{escaped / n * 1e6:.1f} µs"],
        ["whole corpus, MathML, caches empty", f"{cold:.2f} s", f"{cold / n * 1e6:.1f} µs"],
        [
            f"{PAGE} cards with TeX, caches empty",
            f"{page_cold * 1e3:.1f} ms",
            f"{page_cold / PAGE * 1e6:.0f} µs",
        ],
        [f"{PAGE} cards with TeX, cached", f"{page_warm * 1e3:.2f} ms", f"{page_warm / PAGE * 1e6:.1f} µs"],
    ]
    print(f"\nTeX as MathML: {n:,} papers (title + abstract paragraphs per card)")
    print(format_table(["rendering", "total", "per card"], rows))
    print(", ".join(f"{key}: {value:,}" for key, value in found.items() if isinstance(value, int)))
    print("some formulas shown as TeX:", " | ".join(found["examples shown as TeX"]))
    print("their commands, most frequent:", found["commands in formulas shown as TeX"])
    return {
        "papers": n,
        "escape_s": escaped,
        "cold_s": cold,
        "page_cold_s": page_cold,
        "page_cached_s": page_warm,
        "counts": found,
    }
