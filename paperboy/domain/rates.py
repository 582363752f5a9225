"""Rate limits written as "N/period": "5/hour", "120/minute", "5/15minutes", "1000/day"."""

from __future__ import annotations

import re
from dataclasses import dataclass

_UNITS = {"s": 1, "second": 1, "min": 60, "minute": 60, "h": 3600, "hour": 3600, "d": 86400, "day": 86400}
_RATE = re.compile(r"^\s*(\d+)\s*/\s*(\d*)\s*([a-z]+?)s?\s*$")


@dataclass(frozen=True, slots=True)
class Rate:
    limit: int  # events allowed per window
    seconds: int  # window length

    def __str__(self) -> str:
        return f"{self.limit} per {_describe(self.seconds)}"


def parse_rate(text: str) -> Rate:
    match = _RATE.match(text.lower())
    unit = _UNITS.get(match.group(3)) if match else None
    if match is None or unit is None:
        raise ValueError(f"{text!r} is not a rate such as 5/hour, 120/minute or 5/15minutes")
    limit, count = int(match.group(1)), int(match.group(2) or 1)
    if limit < 1 or count < 1:
        raise ValueError(f"{text!r}: a rate's count and period must both be at least 1")
    return Rate(limit, count * unit)


def _describe(seconds: int) -> str:
    for name, size in (("day", 86400), ("hour", 3600), ("minute", 60)):
        if seconds % size == 0:
            count = seconds // size
            return name if count == 1 else f"{count} {name}s"
    return f"{seconds} seconds"
