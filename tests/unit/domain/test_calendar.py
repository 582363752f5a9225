from __future__ import annotations

from datetime import date

import pytest

from paperboy.domain.calendar import (
    format_span,
    parse_day,
    parse_month,
    parse_period,
    parse_week,
    period_containing,
)


def test_day_parses_and_names_itself():
    period = parse_day("2025-06-14")
    assert (period.kind, period.start, period.end) == ("day", date(2025, 6, 14), date(2025, 6, 14))
    assert period.key == "2025-06-14"
    assert period.label == "Saturday, 14 June 2025"


def test_week_runs_monday_to_sunday():
    period = parse_week("2025-W24")
    assert (period.start, period.end) == (date(2025, 6, 9), date(2025, 6, 15))
    assert period.key == "2025-W24"
    assert period.label == "Week 24, 2025 (9–15 June 2025)"


def test_week_53_exists_only_in_long_years():
    assert parse_week("2020-W53").start == date(2020, 12, 28)
    with pytest.raises(ValueError, match="2025 has no week 53"):
        parse_week("2025-W53")
    with pytest.raises(ValueError, match="W01 to W53"):
        parse_week("2025-W54")
    with pytest.raises(ValueError, match="W01 to W53"):
        parse_week("2025-W00")


def test_iso_week_can_belong_to_the_next_year():
    period = period_containing("week", date(2025, 12, 30))
    assert period.key == "2026-W01"
    assert period.label == "Week 1, 2026 (29 December 2025 – 4 January 2026)"


def test_month_has_its_last_day():
    assert parse_month("2024-02").end == date(2024, 2, 29)
    assert parse_month("2025-12").end == date(2025, 12, 31)
    assert parse_month("2025-06").label == "June 2025"


@pytest.mark.parametrize(
    ("kind", "text", "reason"),
    [
        ("day", "2025-6-1", "expected YYYY-MM-DD"),
        ("day", "2025-02-30", "February 2025 has no day 30"),
        ("day", "2025-13-01", "month 13 does not exist"),
        ("day", "0000-01-01", "year 0000"),
        ("day", "٢٠٢٥-06-01", "expected YYYY-MM-DD"),  # non-ASCII digits
        ("week", "2025-24", "expected YYYY-Www"),
        ("week", "2025-w24", "expected YYYY-Www"),
        ("month", "2025-00", "month 00 does not exist"),
        ("month", "June", "expected YYYY-MM"),
        ("month", "x" * 500, "is not a month"),
    ],
)
def test_malformed_periods_say_why(kind, text, reason):
    with pytest.raises(ValueError, match=reason):
        parse_period(kind, text)


def test_prev_and_next_cross_boundaries():
    assert parse_day("2025-03-01").prev() == parse_day("2025-02-28")
    assert parse_week("2025-W01").prev() == parse_week("2024-W52")
    assert parse_week("2020-W53").next() == parse_week("2021-W01")
    assert parse_month("2025-12").next() == parse_month("2026-01")


def test_prev_and_next_stop_at_the_ends_of_the_calendar():
    assert parse_day("0001-01-01").prev() is None
    assert parse_month("9999-12").next() is None


def test_span_within_one_month_and_across_months():
    assert format_span(date(2025, 6, 30), date(2025, 7, 6)) == "30 June – 6 July 2025"
    assert format_span(date(2025, 6, 9), date(2025, 6, 15)) == "9–15 June 2025"


def test_a_week_past_the_calendar_is_malformed_not_a_crash():
    with pytest.raises(ValueError, match="past the end of the calendar"):
        parse_week("9999-W52")
