"""Follows, the pure part: the four kinds a member can follow, how each value is normalised and
checked, and how author names are matched.

Author names are matched exactly after normalisation (`author_key`): Unicode NFKD with the accents
dropped, case-folded, dots and hyphens read as spaces, runs of spaces as one. "José-María
Núñez" and "jose maria nunez" are one key; "J. M. Nunez" and "Jose Maria Nunez" are two. So a
key cannot tell apart two people who share a name, and it splits one person whose papers spell
their name differently (initials, a maiden name, a transliteration).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from paperboy.domain.arxiv_ids import InvalidArxivId, parse_arxiv_id
from paperboy.domain.categories import is_arxiv_category
from paperboy.domain.search_query import InvalidSearchQuery, parse_search_query

FollowKind = Literal["author", "category", "search", "paper"]
KINDS: tuple[FollowKind, ...] = ("author", "category", "search", "paper")
MAX_VALUE_CHARS = 500
MAX_LABEL_CHARS = 200
_SEPARATORS = re.compile(r"[.\-‐‑‒–—]")


class InvalidFollow(ValueError):
    """A follow that cannot be made; str() is a message to show the reader."""


@dataclass(frozen=True, slots=True)
class Follow:
    id: int
    kind: FollowKind
    value: str  # normalised name / category code / query text / arXiv id
    label: str  # what pages show: the name as written, the query as typed
    created_at: datetime


def author_key(name: str) -> str:
    """The normalised form of an author's name that author pages and follows match on."""
    decomposed = unicodedata.normalize("NFKD", name)
    plain = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(_SEPARATORS.sub(" ", plain.casefold()).split())


def follow_kind(text: str) -> FollowKind:
    for kind in KINDS:
        if text == kind:
            return kind
    raise InvalidFollow(f"kind must be one of {', '.join(KINDS)}, not {text[:20]!r}")


def normalised_value(kind: FollowKind, text: str) -> tuple[str, str]:
    """(value, label) for a follow of `kind`; InvalidFollow with the reason when `text` is not one.
    Categories are checked for their shape here; whether the catalogue knows one is the service's."""
    text = text.strip()
    if not text:
        raise InvalidFollow(f"a {kind} to follow is required")
    if len(text) > MAX_VALUE_CHARS:
        raise InvalidFollow(
            f"a {kind} to follow is at most {MAX_VALUE_CHARS} characters (this has {len(text)})"
        )
    if kind == "author":
        key = author_key(text)
        if not key:
            raise InvalidFollow("an author's name needs at least one letter")
        return key, text[:MAX_LABEL_CHARS]
    if kind == "category":
        if not is_arxiv_category(text):
            raise InvalidFollow(f"{text[:40]!r} is not an arXiv category (like cs.LG or hep-th)")
        return text, text
    if kind == "search":
        try:
            parse_search_query(text)
        except InvalidSearchQuery as exc:
            raise InvalidFollow(f"that search cannot be followed: {exc}") from None
        return " ".join(text.split()), text[:MAX_LABEL_CHARS]
    try:
        arxiv_id = parse_arxiv_id(text).base
    except InvalidArxivId as exc:
        raise InvalidFollow(str(exc)) from None
    return arxiv_id, arxiv_id


SIGNUP_AUTHORS_MAX = 20
SIGNUP_CATEGORIES_MAX = 50


def signup_follows(categories: list[str], authors_text: str) -> list[tuple[FollowKind, str, str]]:
    """(kind, value, label) of the follows chosen on the sign-up form: ticked categories, and
    authors one per line (or separated by ";"). InvalidFollow naming the one at fault."""
    names = [n.strip() for line in authors_text.splitlines() for n in line.split(";") if n.strip()]
    if len(names) > SIGNUP_AUTHORS_MAX:
        raise InvalidFollow(f"choose at most {SIGNUP_AUTHORS_MAX} authors to follow (you gave {len(names)})")
    if len(categories) > SIGNUP_CATEGORIES_MAX:
        raise InvalidFollow(f"choose at most {SIGNUP_CATEGORIES_MAX} categories")
    chosen: dict[tuple[FollowKind, str], str] = {}
    wanted: list[tuple[FollowKind, str]] = [("category", c) for c in categories] + [
        ("author", n) for n in names
    ]
    for kind, text in wanted:
        value, label = normalised_value(kind, text)
        chosen.setdefault((kind, value), label)
    return [(kind, value, label) for (kind, value), label in chosen.items()]
