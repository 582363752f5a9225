"""arXiv's announcement schedule, for estimating listing days when no listing feed says.

Submissions received before 14:00 US Eastern on a weekday are announced at 20:00 that
evening (Friday's on Sunday evening); listings and RSS feeds are dated the next morning.
Holidays shift announcements and are not modelled: estimates are used only to backfill
days that the daily feed (the source of truth) was not watching.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

ARXIV_TZ = ZoneInfo("America/New_York")
CUTOFF = time(14, 0)


def expected_listing_day(submitted: datetime) -> date:
    """The date of the daily listing that should first show a submission made at `submitted`."""
    local = submitted.astimezone(ARXIV_TZ)
    day = local.date()
    if local.time() >= CUTOFF:
        day += timedelta(days=1)
    while day.weekday() >= 5:  # weekend submissions wait for Monday's cutoff
        day += timedelta(days=1)
    return day + timedelta(days=3 if day.weekday() == 4 else 1)
