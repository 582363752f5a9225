"""Every title and abstract of the shared corpus (74,728 papers) renders as the pages render it,
its TeX as MathML or as the TeX it was written as, without an error and with nothing but
MathML's elements and layout attributes. Prints how many formulas rendered and fell back (and
the time taken, which it never checks: bench/math_rendering.py measures)."""

from __future__ import annotations

import gzip
import re
import time

import orjson
import pytest
from conftest import shared_path

from paperboy.domain import math_markup
from paperboy.domain.math_markup import math_html, math_stats
from paperboy.web.filters import oneline, paragraphs

_TAG = re.compile(r"<(/?)([^\s>/]+)([^>]*)>")
_ATTRIBUTE = re.compile(r'\s([^\s=]+)="[^"<>]*"')
ALLOWED_TAGS = math_markup._ELEMENTS | {"math"}
ALLOWED_ATTRIBUTES = math_markup._ATTRIBUTES | {"display"}


def _check_markup(html: str, text: str) -> int:
    """The formulas rendered; fails on any tag or attribute outside the allow-lists."""
    tags = 0
    for closing, name, rest in _TAG.findall(html):
        assert name in ALLOWED_TAGS, (name, text)
        if not closing:
            names = _ATTRIBUTE.findall(rest)
            assert set(names) <= ALLOWED_ATTRIBUTES, (names, text)
            assert _ATTRIBUTE.sub("", rest).strip() == "", (rest, text)  # nothing else in the tag
            tags += name == "math"
    return tags


@pytest.mark.slow
def test_every_title_and_abstract_renders():
    path = shared_path("data", "arxiv", "papers.jsonl.gz")
    start = time.perf_counter()
    papers = texts = with_math = spans = rendered = fallback = 0
    with gzip.open(path, "rb") as lines:
        for line in lines:
            record = orjson.loads(line)
            papers += 1
            for text in [oneline(record.get("title") or ""), *paragraphs(record.get("abstract") or "")]:
                html = math_html(text)
                stats = math_stats(text)
                assert _check_markup(html, text) == stats.rendered
                texts += 1
                with_math += stats.spans > 0
                spans += stats.spans
                rendered += stats.rendered
                fallback += stats.fallback
    seconds = time.perf_counter() - start
    assert papers == 74_728
    assert rendered > 0
    print(
        f"\n{papers:,} papers, {texts:,} texts ({with_math:,} with TeX): {spans:,} formulas, "
        f"{rendered:,} as MathML, {fallback:,} as TeX ({fallback / max(spans, 1):.2%}); {seconds:.1f} s"
    )
