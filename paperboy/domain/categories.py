"""arXiv subject categories (cs.AI, hep-th, cond-mat.str-el, q-bio.NC)."""

from __future__ import annotations

import re
from collections.abc import Iterable

_CATEGORY = re.compile(r"[a-z]+(?:-[a-z]+)?(?:\.[A-Za-z]+(?:-[a-z]+)?)?")


def is_arxiv_category(value: str) -> bool:
    return len(value) <= 32 and _CATEGORY.fullmatch(value) is not None


def arxiv_categories(values: Iterable[str]) -> tuple[str, ...]:
    """Valid categories, each once, in order (primary first). Some sources mix MSC and ACM
    classes ("68T07, 92C55", "I.2.7; H.3.4") into the category list: those are dropped."""
    return tuple(dict.fromkeys(v for v in values if is_arxiv_category(v)))
