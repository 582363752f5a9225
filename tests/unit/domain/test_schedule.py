from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from paperboy.domain.schedule import expected_listing_day


@pytest.mark.parametrize(
    ("submitted_utc", "listed"),
    [
        (datetime(2026, 9, 22, 17, 0, tzinfo=UTC), date(2026, 9, 23)),  # Tue 13:00 EDT -> Wed
        (datetime(2026, 9, 22, 18, 30, tzinfo=UTC), date(2026, 9, 24)),  # Tue 14:30 EDT -> Thu
        (datetime(2026, 9, 25, 12, 0, tzinfo=UTC), date(2026, 9, 28)),  # Fri morning -> Mon
        (datetime(2026, 9, 25, 19, 0, tzinfo=UTC), date(2026, 9, 29)),  # Fri after cutoff -> Tue
        (datetime(2026, 9, 26, 12, 0, tzinfo=UTC), date(2026, 9, 29)),  # Saturday -> Tue
        (datetime(2026, 12, 3, 18, 59, tzinfo=UTC), date(2026, 12, 4)),  # Thu 13:59 EST -> Fri
        (datetime(2026, 12, 3, 19, 0, tzinfo=UTC), date(2026, 12, 7)),  # Thu 14:00 EST -> Mon
    ],
)
def test_expected_listing_day(submitted_utc, listed):
    assert expected_listing_day(submitted_utc) == listed
