"""Collections and notes, the pure part: the limits, what a valid name, description and note are,
and the slug a collection's address carries (from its name, unique among its owner's)."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Collection

MAX_NAME = 100
MAX_DESCRIPTION = 2000
MAX_NOTE = 10_000
MAX_COLLECTIONS = 200  # per member
MAX_PAPERS = 10_000  # per collection
MAX_SLUG = 80
# The same rules as regular expressions, for the API's schema: no control character but tab,
# line feed and carriage return in texts, and a name with something besides spaces.
_CONTROL = r"\x00-\x1f\x7f-\x9f"
_TEXT_CONTROL = r"\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f"
NAME_PATTERN = f"^[^{_CONTROL}]*[^\\s{_CONTROL}][^{_CONTROL}]*$"
TEXT_PATTERN = f"^[^{_TEXT_CONTROL}]*$"

_NOT_SLUG = re.compile(r"[^a-z0-9]+")


class InvalidCollection(ValueError):
    """A name, description or note that cannot be kept (HTTP 400 / 422); the message says why."""


def _no_controls(text: str, what: str, *, newlines: bool) -> None:
    allowed = "\n\t" if newlines else ""
    for char in text:
        # Control characters only (C0, DEL, C1): the API's schema states the same rule.
        if char not in allowed and unicodedata.category(char) == "Cc":
            raise InvalidCollection(f"The {what} holds a character that cannot be shown (U+{ord(char):04X}).")


def clean_name(name: str) -> str:
    """The name as kept: spaces collapsed, 1 to MAX_NAME characters, no control characters."""
    _no_controls(name, "name", newlines=False)
    cleaned = " ".join(name.split())
    if not cleaned:
        raise InvalidCollection("A collection needs a name.")
    if len(cleaned) > MAX_NAME:
        raise InvalidCollection(f"A collection's name is at most {MAX_NAME} characters, not {len(cleaned)}.")
    return cleaned


def clean_description(description: str) -> str:
    """The description as kept: trimmed, line ends as \\n, at most MAX_DESCRIPTION characters."""
    _no_controls(description.replace("\r", ""), "description", newlines=True)
    cleaned = description.replace("\r\n", "\n").replace("\r", "\n").strip()
    if len(cleaned) > MAX_DESCRIPTION:
        raise InvalidCollection(f"A description is at most {MAX_DESCRIPTION} characters, not {len(cleaned)}.")
    return cleaned


def clean_note(note: str) -> str:
    """A note as kept (empty: no note), at most MAX_NOTE characters."""
    _no_controls(note.replace("\r", ""), "note", newlines=True)
    cleaned = note.replace("\r\n", "\n").replace("\r", "\n").strip()
    if len(cleaned) > MAX_NOTE:
        raise InvalidCollection(f"A note is at most {MAX_NOTE} characters, not {len(cleaned)}.")
    return cleaned


def slugify(name: str) -> str:
    """The slug of a name: "Graph nets: 2025!" gives "graph-nets-2025"; accents dropped;
    "collection" when nothing is left (a name in another script)."""
    folded = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode("ascii").lower()
    slug = _NOT_SLUG.sub("-", folded).strip("-")[:MAX_SLUG].strip("-")
    return slug or "collection"


def free_slug(base: str, taken: Collection[str]) -> str:
    """`base`, or `base-2`, `base-3`, … : the first not in `taken`."""
    if base not in taken:
        return base
    number = 2
    while f"{base}-{number}" in taken:
        number += 1
    return f"{base}-{number}"


class CollectionNotFound(LookupError):
    """No such collection for this reader (HTTP 404): another member's private one reads the same
    as one that does not exist."""


class CollectionFull(ValueError):
    """A limit reached: too many collections, or too many papers in one (HTTP 409)."""
