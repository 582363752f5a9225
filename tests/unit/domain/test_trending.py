"""The trending formula, its breakdown, and the ranking's order and tie-breaks."""

from __future__ import annotations

import math
from datetime import UTC, date, datetime, timedelta

import pytest

from paperboy.config import load_settings
from paperboy.domain.trending import (
    Candidate,
    Signals,
    TrendingParams,
    appeared_at,
    rank,
    reference_time,
    score,
    score_value,
    trending_params,
)

PARAMS = TrendingParams(gravity=1.5, offset_hours=2.0, comment_weight=0.5, hf_weight=2.0, stars_weight=1.0)
NOON = datetime(2025, 6, 12, 12, 0, tzinfo=UTC)


def signals(hours_old: float = 10.0, **counts: int) -> Signals:
    return Signals(appeared_at=NOON - timedelta(hours=hours_old), **counts)


def test_the_formula_by_hand():
    b = score(signals(10.0, upvotes=4, comments=3, hf_upvotes=5, github_stars=7), PARAMS, NOON)
    # points = 4 + 0.5*3 + 2*5 + 1*log2(1 + 7) = 4 + 1.5 + 10 + 3 = 18.5
    assert [term.points for term in b.terms] == [4.0, 1.5, 10.0, 3.0]
    assert b.points == 18.5
    assert b.age_hours == 10.0
    # divisor = (10 + 2) ^ 1.5 = 12 * sqrt(12)
    assert b.divisor == pytest.approx(12 * math.sqrt(12))
    assert b.score == pytest.approx(18.5 / (12 * math.sqrt(12)))


def test_the_breakdown_names_every_signal_with_its_weight_and_raw_value():
    b = score(signals(upvotes=4, comments=3, hf_upvotes=5, github_stars=1023), PARAMS, NOON)
    terms = {term.name: term for term in b.terms}
    assert list(terms) == ["upvotes", "comments", "hf_upvotes", "github_stars"]
    assert (terms["comments"].raw, terms["comments"].weight, terms["comments"].value) == (3, 0.5, 3.0)
    assert (terms["hf_upvotes"].raw, terms["hf_upvotes"].weight) == (5, 2.0)
    assert terms["github_stars"].raw == 1023
    assert terms["github_stars"].value == 10.0  # log2(1 + 1023)
    assert b.gravity == 1.5
    assert b.offset_hours == 2.0
    assert b.reference == NOON
    assert b.appeared_at == NOON - timedelta(hours=10)


def test_score_value_is_the_breakdowns_score_exactly():
    for hours in (0.0, 0.5, 24.0, 1000.0):
        s = signals(hours, upvotes=7, comments=1, hf_upvotes=13, github_stars=250)
        assert score_value(s, PARAMS, NOON) == score(s, PARAMS, NOON).score


@pytest.mark.parametrize("signal", ["upvotes", "comments", "hf_upvotes", "github_stars"])
def test_more_of_any_signal_never_lowers_the_score(signal):
    scores = [score_value(signals(**{signal: count}), PARAMS, NOON) for count in range(0, 50)]
    assert scores == sorted(scores)
    assert scores[-1] > scores[0]


def test_age_lowers_the_score():
    scores = [score_value(signals(hours, upvotes=10), PARAMS, NOON) for hours in range(0, 24 * 30, 7)]
    assert scores == sorted(scores, reverse=True)
    assert len(set(scores)) == len(scores)


def test_gravity_zero_ranks_by_points_alone():
    flat = TrendingParams(0.0, 2.0, 0.5, 1.0, 1.0)
    assert score_value(signals(1.0, upvotes=10), flat, NOON) == 10.0
    assert score_value(signals(1000.0, upvotes=10), flat, NOON) == 10.0


def test_a_paper_from_the_future_counts_as_just_appeared():
    ahead = score(signals(-5.0, upvotes=3), PARAMS, NOON)
    assert ahead.age_hours == 0.0
    assert ahead.score == pytest.approx(3 / 2**1.5)


def test_zero_offset_never_divides_by_zero():
    no_offset = TrendingParams(1.8, 0.0, 0.5, 1.0, 1.0)
    assert math.isfinite(score_value(signals(0.0, upvotes=3), no_offset, NOON))


def test_appeared_at_is_the_submission_time_or_the_listing_days_midnight():
    day = date(2025, 6, 12)
    assert appeared_at(day) == datetime(2025, 6, 12, tzinfo=UTC)
    assert appeared_at(day, NOON) == NOON


def test_reference_is_now_during_the_period_and_its_end_afterwards():
    friday = date(2025, 6, 13)
    during = datetime(2025, 6, 13, 9, 30, tzinfo=UTC)
    assert reference_time(friday, during) == during
    later = datetime(2025, 9, 1, tzinfo=UTC)
    assert reference_time(friday, later) == datetime(2025, 6, 14, tzinfo=UTC)
    assert reference_time(date(9999, 12, 31), later) == later


def test_a_past_day_ranks_by_points_because_every_paper_is_as_old():
    day = date(2025, 6, 12)
    reference = reference_time(day, datetime(2026, 1, 1, tzinfo=UTC))
    items = [candidate(n, day, upvotes=votes) for n, votes in enumerate([3, 9, 1, 5], start=1)]
    ids, scores = rank(items, PARAMS, reference)
    assert ids == [2, 4, 1, 3]
    assert scores == sorted(scores, reverse=True)


def test_rank_returns_ids_and_their_scores():
    day = date(2025, 6, 12)
    items = [candidate(1, day, upvotes=2), candidate(2, day - timedelta(days=3), upvotes=20)]
    ids, scores = rank(items, PARAMS, NOON)
    by_id = dict(zip(ids, scores, strict=True))
    for item in items:
        assert by_id[item.paper_id] == score_value(item.signals, PARAMS, NOON)


def test_ties_go_to_the_newest_listing_then_the_higher_arxiv_id():
    monday, tuesday = date(2025, 6, 9), date(2025, 6, 10)
    flat = TrendingParams(0.0, 2.0, 0.5, 1.0, 1.0)  # equal points, equal scores
    items = [
        candidate(1, monday, "2506.00001", upvotes=1),
        candidate(2, tuesday, "2506.00002", upvotes=1),
        candidate(3, monday, "2506.00003", upvotes=1),
        candidate(4, tuesday, "2505.99999", upvotes=1),
    ]
    ids, _ = rank(items, flat, NOON)
    assert ids == [2, 4, 3, 1]
    assert rank(reversed(items), flat, NOON)[0] == ids  # whatever order they came in


def test_params_come_from_the_settings(tmp_path):
    settings = load_settings(
        environ={"PAPERBOY_TRENDING_GRAVITY": "1.2", "PAPERBOY_TRENDING_HF_WEIGHT": "0.25"},
        toml_path=tmp_path / "absent.toml",
    )
    params = trending_params(settings)
    assert params.gravity == 1.2
    assert params.hf_weight == 0.25
    assert params.offset_hours == settings.trending_offset_hours


def candidate(paper_id: int, day: date, arxiv_id: str | None = None, **counts: int) -> Candidate:
    arxiv_id = arxiv_id or f"2506.{paper_id:05d}"
    return Candidate(paper_id, arxiv_id, day, Signals(appeared_at=appeared_at(day), **counts))
