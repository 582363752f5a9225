"""arXiv identifiers: new style (2506.12229, 0704.0001) and old style (hep-th/9901001).

See https://info.arxiv.org/help/arxiv_identifier.html. Accepts the forms people paste:
bare ids, `arXiv:` prefixes, version suffixes, and abs / pdf / html URLs.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_NEW = re.compile(r"(?P<yy>\d{2})(?P<mm>\d{2})\.(?P<num>\d{4,5})(?:v(?P<v>\d+))?")
_OLD = re.compile(
    r"(?P<archive>[a-z]+(?:-[a-z]+)?)(?:\.[A-Za-z]{2})?/(?P<yy>\d{2})(?P<mm>\d{2})(?P<num>\d{3})"
    r"(?:v(?P<v>\d+))?"
)
_URL_PREFIX = re.compile(r"^(?:https?://)?(?:www\.|export\.)?arxiv\.org/(?:abs|pdf|html)/", re.IGNORECASE)


class InvalidArxivId(ValueError):
    """The text is not an arXiv identifier."""


@dataclass(frozen=True, slots=True)
class ArxivId:
    base: str  # canonical id without version: "2506.12229", "hep-th/9901001"
    version: int | None = None

    def __str__(self) -> str:
        return self.base if self.version is None else f"{self.base}v{self.version}"


def parse_arxiv_id(text: str) -> ArxivId:
    """Parse any common spelling of an arXiv id; raise InvalidArxivId with the reason."""
    raw = text.strip()
    candidate = _URL_PREFIX.sub("", raw)
    candidate = candidate.removesuffix(".pdf").rstrip("/")
    if candidate[:6].lower() == "arxiv:":
        candidate = candidate[6:]
    if len(candidate) > 64:
        raise InvalidArxivId("an arXiv id is at most a few dozen characters")
    for pattern in (_NEW, _OLD):
        match = pattern.fullmatch(candidate)
        if match:
            return _checked(match, pattern is _NEW)
    raise InvalidArxivId(f"{raw[:80]!r} is not an arXiv id (expected e.g. 2506.12229 or hep-th/9901001)")


def _checked(match: re.Match[str], new_style: bool) -> ArxivId:
    month = int(match["mm"])
    if not 1 <= month <= 12:
        raise InvalidArxivId(f"month {match['mm']} in {match.group(0)!r} does not exist")
    version = int(match["v"]) if match["v"] else None
    if version == 0:
        raise InvalidArxivId("arXiv versions start at v1")
    if new_style:
        yymm = int(match["yy"] + match["mm"])
        digits = len(match["num"])
        if (yymm >= 1501) != (digits == 5) or yymm < 704:
            raise InvalidArxivId(f"{match.group(0)!r}: wrong number of digits for {match['yy']}{match['mm']}")
        return ArxivId(f"{match['yy']}{match['mm']}.{match['num']}", version)
    return ArxivId(f"{match['archive']}/{match['yy']}{match['mm']}{match['num']}", version)


def abs_url(arxiv_id: str) -> str:
    return f"https://arxiv.org/abs/{arxiv_id}"


def pdf_url(arxiv_id: str) -> str:
    return f"https://arxiv.org/pdf/{arxiv_id}"
