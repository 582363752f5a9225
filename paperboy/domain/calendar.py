"""Feed periods: a day (2025-06-12), an ISO week (2025-W24) or a month (2025-06).

Pure code: parsing, canonical spelling, human labels and calendar neighbours. Parsing raises
ValueError with a message fit to show a reader, because periods come straight from URLs.
"""

from __future__ import annotations

import re
from calendar import monthrange
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Literal

PeriodKind = Literal["day", "week", "month"]
PERIOD_KINDS: tuple[PeriodKind, ...] = ("day", "week", "month")

_DAY = re.compile(r"(\d{4})-(\d{2})-(\d{2})", re.ASCII)
_WEEK = re.compile(r"(\d{4})-W(\d{2})", re.ASCII)
_MONTH = re.compile(r"(\d{4})-(\d{2})", re.ASCII)
_MONTHS = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)


@dataclass(frozen=True, slots=True)
class Period:
    """An inclusive range of listing days, [start, end], and how a reader names it."""

    kind: PeriodKind
    start: date
    end: date

    @property
    def key(self) -> str:
        """The canonical URL spelling: 2025-06-12, 2025-W24 or 2025-06."""
        if self.kind == "day":
            return self.start.isoformat()
        if self.kind == "week":
            year, week, _ = self.start.isocalendar()
            return f"{year:04d}-W{week:02d}"
        return f"{self.start.year:04d}-{self.start.month:02d}"

    @property
    def label(self) -> str:
        if self.kind == "day":
            return format_day(self.start)
        if self.kind == "week":
            year, week, _ = self.start.isocalendar()
            return f"Week {week}, {year} ({format_span(self.start, self.end)})"
        return f"{_MONTHS[self.start.month - 1]} {self.start.year}"

    def contains(self, day: date) -> bool:
        return self.start <= day <= self.end

    def prev(self) -> Period | None:
        """The calendar period just before this one; None before year 1."""
        try:
            return period_containing(self.kind, self.start - timedelta(days=1))
        except OverflowError:
            return None

    def next(self) -> Period | None:
        """The calendar period just after this one; None after year 9999."""
        try:
            return period_containing(self.kind, self.end + timedelta(days=1))
        except OverflowError:
            return None


def day_period(day: date) -> Period:
    return Period("day", day, day)


def week_period(year: int, week: int) -> Period:
    """ISO week `week` of ISO year `year`; ValueError when that week does not exist."""
    if not 1 <= week <= 53:
        raise ValueError(f"week {week:02d} does not exist: ISO weeks run from W01 to W53")
    try:
        monday = date.fromisocalendar(year, week, 1)
    except ValueError:
        raise ValueError(f"{year} has no week {week}: it has 52 ISO weeks") from None
    try:
        return Period("week", monday, monday + timedelta(days=6))
    except OverflowError:
        raise ValueError(f"week {week} of {year} runs past the end of the calendar") from None


def month_period(year: int, month: int) -> Period:
    if not 1 <= month <= 12:
        raise ValueError(f"month {month:02d} does not exist: months run from 01 to 12")
    last_day = monthrange(year, month)[1]
    return Period("month", date(year, month, 1), date(year, month, last_day))


def period_containing(kind: PeriodKind, day: date) -> Period:
    """The day, ISO week or month that `day` falls in."""
    if kind == "day":
        return day_period(day)
    if kind == "week":
        year, week, _ = day.isocalendar()
        return week_period(year, week)
    return month_period(day.year, day.month)


def parse_day(text: str) -> Period:
    match = _DAY.fullmatch(text)
    if not match:
        raise ValueError(f"{_shown(text)} is not a day: expected YYYY-MM-DD, e.g. 2025-06-12")
    year, month, day = (int(part) for part in match.groups())
    if year < 1:
        raise ValueError("year 0000 does not exist")
    if not 1 <= month <= 12:
        raise ValueError(f"month {month:02d} does not exist: months run from 01 to 12")
    try:
        return day_period(date(year, month, day))
    except ValueError:
        raise ValueError(f"{text} does not exist: {_MONTHS[month - 1]} {year} has no day {day}") from None


def parse_week(text: str) -> Period:
    match = _WEEK.fullmatch(text)
    if not match:
        raise ValueError(f"{_shown(text)} is not an ISO week: expected YYYY-Www, e.g. 2025-W24")
    year, week = int(match[1]), int(match[2])
    if year < 1:
        raise ValueError("year 0000 does not exist")
    return week_period(year, week)


def parse_month(text: str) -> Period:
    match = _MONTH.fullmatch(text)
    if not match:
        raise ValueError(f"{_shown(text)} is not a month: expected YYYY-MM, e.g. 2025-06")
    year, month = int(match[1]), int(match[2])
    if year < 1:
        raise ValueError("year 0000 does not exist")
    return month_period(year, month)


def parse_period(kind: PeriodKind, text: str) -> Period:
    parsers = {"day": parse_day, "week": parse_week, "month": parse_month}
    return parsers[kind](text)


def format_day(day: date) -> str:
    """Saturday, 14 June 2025: unambiguous for readers on either side of the Atlantic."""
    return f"{day:%A}, {day.day} {_MONTHS[day.month - 1]} {day.year}"


def format_short_day(day: date) -> str:
    return f"{day.day} {_MONTHS[day.month - 1][:3]} {day.year}"


def format_span(start: date, end: date) -> str:
    """A date range with the shared month and year said once, joined by an en dash."""
    if start.year != end.year:
        return f"{_day_month(start)} {start.year} – {_day_month(end)} {end.year}"
    if start.month != end.month:
        return f"{_day_month(start)} – {_day_month(end)} {end.year}"
    return f"{start.day}–{_day_month(end)} {end.year}"


def _day_month(day: date) -> str:
    return f"{day.day} {_MONTHS[day.month - 1]}"


def is_weekend(day: date) -> bool:
    return day.weekday() >= 5


def _shown(text: str) -> str:
    """The offending input, quoted and cut short: URLs can carry anything."""
    return repr(text[:40] + ("…" if len(text) > 40 else ""))
