"""Helpers shared by the upstream parsers: safe XML, whitespace, dates, author lists.

Every XML parse of upstream data goes through `parse_xml` (defusedxml), so a hostile or broken
body becomes one `UpstreamError` line instead of a traceback from inside the XML library.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from datetime import UTC, date, datetime
from email.utils import parsedate_to_datetime
from xml.etree.ElementTree import Element

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import ParseError, fromstring

from paperboy.integrations.http import UpstreamError

logger = logging.getLogger("paperboy.integrations")

Report = Callable[[str], None]
"""Receives one line per upstream item that was skipped, and why."""


def log_report(message: str) -> None:
    """The default `Report`: a warning in the log."""
    logger.warning("skipped: %s", message)


def parse_xml(body: bytes, what: str) -> Element:
    """Parse `body` safely; `what` names the document in the error ("OAI-PMH response")."""
    try:
        return fromstring(body)
    except ParseError as exc:
        raise UpstreamError(f"{what} is not well-formed XML ({exc})") from exc
    except DefusedXmlException as exc:
        raise UpstreamError(f"{what} uses a forbidden XML construct ({type(exc).__name__})") from exc


# For ASCII text these are the only strings str.split() would change (besides the ends).
_ASCII_RUNS = ("\n", "  ", "\r", "\t", "\x0b", "\x0c", "\x1c", "\x1d", "\x1e", "\x1f")


def collapse(text: str | None) -> str | None:
    """Join arXiv's hard-wrapped lines: runs of whitespace become one space, ends are stripped.

    Returns None for missing or blank text, so that "not given" never looks like a value.
    Most text is ASCII without a line break, and a few substring scans prove that far faster
    than split-and-join would (it was a third of a bulk import's time).
    """
    if text is None:
        return None
    if text.isascii():
        for run in _ASCII_RUNS:
            if run in text:
                break
        else:
            return text.strip() or None
    return " ".join(text.split()) or None


def child_text(parent: Element, tag: str) -> str | None:
    """The collapsed text of the first child `tag` (a Clark-notation name), or None."""
    child = parent.find(tag)
    return None if child is None else collapse(child.text)


def utc_midnight(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


def parse_iso_datetime(text: str) -> datetime:
    """'2012-04-02T12:38:54Z' or '2016-10-09T00:00:00-04:00' -> aware UTC datetime."""
    moment = datetime.fromisoformat(text.strip())
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


_MONTH_NAMES = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_MONTHS = {name: number for number, name in enumerate(_MONTH_NAMES, start=1)}


def parse_rfc1123(text: str) -> datetime:
    """'Mon, 2 Apr 2007 19:18:42 GMT' -> aware UTC datetime; raise ValueError when it is not one.

    The common GMT form is split by hand because the bulk importer meets millions of them and
    `email.utils` is several times slower; anything else (numeric offsets) goes to the stdlib.
    """
    parts = text.split()
    if len(parts) == 6 and parts[5] in ("GMT", "UTC") and parts[2] in _MONTHS:
        hour, minute, second = parts[4].split(":")
        day, month, year = int(parts[1]), _MONTHS[parts[2]], int(parts[3])
        return datetime(year, month, day, int(hour), int(minute), int(second), tzinfo=UTC)
    try:
        moment = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError) as exc:
        raise ValueError(f"{text[:60]!r} is not an RFC 1123 date") from exc
    if moment.tzinfo is None:  # "-0000" means UTC with unknown local zone (RFC 5322)
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


# Author lists ---------------------------------------------------------------------------------

# A separator is a comma (optionally followed by "and", the Oxford comma) or a lone "and".
_SEPARATOR = re.compile(r"\s*,\s*(?:and\s+)?|\s+and\s+")
_IN_PARENS = "\0"
_IN_BRACES = "\1"


def split_author_list(text: str) -> list[str]:
    """'A. Smith, B. Jones (MIT, Cambridge) and C. Li' -> ['A. Smith', 'B. Jones', 'C. Li'].

    arXiv's free-text author lists (arXivRaw, RSS) separate names with commas and "and".
    Commas inside parentheses (affiliations) or braces (LaTeX such as `{\\O}rsted`) do not
    separate; parenthesised affiliations are dropped; LaTeX accents are kept as written.
    """
    flat = " ".join(text.split())
    mask = _group_mask(flat)
    names: list[str] = []
    start = 0
    for match in _SEPARATOR.finditer(mask):
        names.append(_without_parens(flat[start : match.start()], mask[start : match.start()]))
        start = match.end()
    names.append(_without_parens(flat[start:], mask[start:]))
    return [name for name in names if name]


def _group_mask(text: str) -> str:
    """`text` with every character of a (...) or {...} group replaced by a marker.

    Separators are then searched in the mask, so they only match at the top level. An
    unbalanced bracket makes the grouping meaningless: then nothing is masked.
    """
    out: list[str] = []
    parens = braces = 0
    for ch in text:
        parens += ch == "("
        braces += ch == "{"
        out.append(_IN_PARENS if parens else _IN_BRACES if braces else ch)
        parens -= ch == ")" and parens > 0
        braces -= ch == "}" and braces > 0
    return text if parens or braces else "".join(out)


def _without_parens(name: str, mask: str) -> str:
    """One name with its parenthesised affiliations removed."""
    kept = "".join(ch for ch, marker in zip(name, mask, strict=True) if marker != _IN_PARENS)
    return " ".join(kept.split())
