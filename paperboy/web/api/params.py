"""The JSON API's one parameter parser: whole numbers, choices, periods and cursors.

A route declares each such parameter as `Annotated[str | None, <schema>, Query(...)]`: FastAPI
hands over the text as sent, and /openapi.json shows the schema built here, which states every
constraint the matching parse function below enforces. So a value the schema allows is always
accepted, any other is a 422 naming the parameter (web/api/errors.py), and
tests/functional/test_api_schemathesis.py holds the two to each other. Values are taken as
sent: a parameter given empty is not a default, it is a value the schema refuses.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Sequence
from typing import Annotated, Any

from fastapi import Path, Query
from pydantic import WithJsonSchema

from paperboy.domain.calendar import Period, parse_day, parse_month, parse_week
from paperboy.web.api.errors import ApiError, invalid

# No text may hold a NUL character (web/request_guard.py refuses it, 400, before any handler).
NO_NUL = "^[^\x00]*$"
ArxivId = Annotated[
    str,
    Path(
        pattern=NO_NUL, description="Any spelling: 2506.12229, arXiv:2506.12229v2, hep-th/9901001, its URL."
    ),
]
_YEAR = "(?!0000)[0-9]{4}"  # years 0001 to 9999, as the calendar has them
DAY_PATTERN = f"^{_YEAR}-[0-9]{{2}}-[0-9]{{2}}$"
WEEK_PATTERN = f"^{_YEAR}-W(0[1-9]|[1-4][0-9]|5[0-3])$"
MONTH_PATTERN = f"^{_YEAR}-(0[1-9]|1[0-2])$"
_DAY: dict[str, Any] = {"type": "string", "format": "date", "pattern": DAY_PATTERN}
_WEEK: dict[str, Any] = {"type": "string", "pattern": WEEK_PATTERN}
_MONTH: dict[str, Any] = {"type": "string", "pattern": MONTH_PATTERN}
DAY_SCHEMA, WEEK_SCHEMA, MONTH_SCHEMA = (WithJsonSchema(schema) for schema in (_DAY, _WEEK, _MONTH))
PERIOD_SCHEMA = WithJsonSchema({"anyOf": [_DAY, _WEEK, _MONTH]})
_PARSERS = {"day": parse_day, "week": parse_week, "month": parse_month}

# Hugging Face's catalogue cursor: the id of the last paper a page held.
AFTER_CURSOR_PATTERN = "^[0-9]{1,18}$"


def text(description: str, max_length: int | None = None) -> Any:
    """A free-text query parameter."""
    return Query(pattern=NO_NUL, max_length=max_length, description=description)


def integer_schema(low: int, high: int) -> WithJsonSchema:
    return WithJsonSchema({"type": "integer", "minimum": low, "maximum": high})


def choice_schema(choices: Sequence[str]) -> WithJsonSchema:
    return WithJsonSchema({"type": "string", "enum": list(choices)})


def pattern_schema(pattern: str) -> WithJsonSchema:
    return WithJsonSchema({"type": "string", "pattern": pattern})


def whole_number(name: str, text: str | None, *, default: int, low: int, high: int) -> int:
    """A whole number in [low, high], digits only (absent: `default`)."""
    if text is None:
        return default
    if not (text.isascii() and text.isdigit()) or len(text) > len(str(high)) or not low <= int(text) <= high:
        raise invalid(name, f"{name} must be a whole number from {low} to {high}, not {text[:20]!r}")
    return int(text)


def one_of(name: str, text: str | None, choices: Sequence[str], *, default: str) -> str:
    """One of `choices` (absent: `default`)."""
    if text is None:
        return default
    if text not in choices:
        raise invalid(name, f"{name} must be one of {', '.join(choices)}, not {text[:30]!r}")
    return text


def period(name: str, text: str, kinds: Sequence[str] = ("day", "week", "month")) -> Period:
    """A day (2025-06-12), an ISO week (2025-W24) or a month (2025-06), of the kinds allowed.
    A week of the declared shape that the year lacks (W53 of a 52-week year) is a 404: no
    pattern can say which years have 53 weeks, and there is no such week to list."""
    for kind in kinds:
        try:
            return _PARSERS[kind](text)
        except ValueError as exc:
            if kind == "week" and re.fullmatch(WEEK_PATTERN, text):
                raise ApiError(404, "not_found", f"{name}: {exc}", name) from None
            if len(kinds) == 1 or "expected" not in str(exc):  # the shape, but no such day
                raise invalid(name, f"{name}: {exc}") from None
    message = f"{name} {text[:20]!r} is not a day, week or month: write 2025-06-12, 2025-W24 or 2025-06"
    raise invalid(name, message)


def encode_after_cursor(after: int) -> str:
    return str(after)


def after_cursor(name: str, text: str | None) -> int:
    """The paper id a Hugging Face catalogue cursor continues after; 0 (the start) when absent.
    A cursor written before cursors were plain numbers (base64 of `after:<id>`) still works."""
    if text is None:
        return 0
    if _digits(text, 18):
        return int(text)
    try:
        kind, _, number = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        kind, number = "", ""
    if kind != "after" or not _digits(number, 18):
        raise invalid(name, f"{name} is not one this site gave: use the Link header's URL")
    return int(number)


def _digits(text: str, most: int) -> bool:
    return text.isascii() and text.isdigit() and len(text) <= most
