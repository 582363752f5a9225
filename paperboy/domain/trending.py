"""The trending score: what readers value, discounted by age. Pure code, no I/O.

    points = upvotes + comment_weight * comments + hf_weight * hf_upvotes
             + stars_weight * log2(1 + github_stars)
    score  = points / (age_hours + offset_hours) ^ gravity

A paper's age runs from the moment it appeared on a feed (its submission time when a member
submitted it, else 00:00 UTC of its listing day) to the reference time: now, or the end of the
period shown when that period is over, so that a past week ranks as it stood when the week ended.
docs/trending.md publishes the formula and how the default gravity was calibrated.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Protocol

# A paper that appeared this very moment counts as a minute old, so that an offset of 0 never
# divides by zero.
MIN_AGE_PLUS_OFFSET_HOURS = 1 / 60


@dataclass(frozen=True, slots=True)
class TrendingParams:
    gravity: float
    offset_hours: float
    comment_weight: float
    hf_weight: float
    stars_weight: float


class TrendingSettings(Protocol):
    """The settings the formula reads (paperboy.config.Settings has them): domain imports
    nothing of paperboy's, the settings table included."""

    @property
    def trending_gravity(self) -> float: ...
    @property
    def trending_offset_hours(self) -> float: ...
    @property
    def trending_comment_weight(self) -> float: ...
    @property
    def trending_hf_weight(self) -> float: ...
    @property
    def trending_stars_weight(self) -> float: ...


def trending_params(settings: TrendingSettings) -> TrendingParams:
    return TrendingParams(
        gravity=settings.trending_gravity,
        offset_hours=settings.trending_offset_hours,
        comment_weight=settings.trending_comment_weight,
        hf_weight=settings.trending_hf_weight,
        stars_weight=settings.trending_stars_weight,
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class Signals:
    """What counts for one paper: this site's votes and comments, and Hugging Face's signals."""

    upvotes: int = 0
    comments: int = 0
    hf_upvotes: int = 0
    github_stars: int = 0
    appeared_at: datetime


@dataclass(frozen=True, slots=True)
class Term:
    """One signal's share of the points: points = weight * value (value: the raw count, or
    log2(1 + stars) for GitHub stars)."""

    name: str  # upvotes | comments | hf_upvotes | github_stars
    raw: int
    value: float
    weight: float
    points: float


@dataclass(frozen=True, slots=True)
class Breakdown:
    """Every number behind one score, for the "why is this here" page."""

    terms: tuple[Term, ...]
    points: float
    appeared_at: datetime
    reference: datetime
    age_hours: float
    offset_hours: float
    gravity: float
    divisor: float  # (age_hours + offset_hours) ^ gravity
    score: float


@dataclass(frozen=True, slots=True)
class Candidate:
    """A paper competing for a place on a feed; `listed_on` breaks ties (newest first)."""

    paper_id: int
    arxiv_id: str
    listed_on: date
    signals: Signals


def appeared_at(listing_day: date, submitted_at: datetime | None = None) -> datetime:
    """When a paper appeared on the feed: its submission time, else its listing day's midnight (UTC)."""
    return submitted_at if submitted_at is not None else start_of_day(listing_day)


def start_of_day(day: date) -> datetime:
    return datetime.combine(day, time(0), tzinfo=UTC)


def reference_time(period_end: date, now: datetime) -> datetime:
    """The moment a period is ranked at: now, or 00:00 UTC after its last day once it is over."""
    try:
        end = start_of_day(period_end + timedelta(days=1))
    except OverflowError:  # the last day of year 9999
        return now
    return min(now, end)


def score(signals: Signals, params: TrendingParams, reference: datetime) -> Breakdown:
    terms = _terms(signals, params)
    points = sum(term.points for term in terms)
    age = age_hours(signals.appeared_at, reference)
    divisor = _divisor(age, params)
    return Breakdown(
        terms=terms,
        points=points,
        appeared_at=signals.appeared_at,
        reference=reference,
        age_hours=age,
        offset_hours=params.offset_hours,
        gravity=params.gravity,
        divisor=divisor,
        score=points / divisor,
    )


def score_value(signals: Signals, params: TrendingParams, reference: datetime) -> float:
    """score(...).score without the breakdown (the same arithmetic, in the same order)."""
    points = sum(_points(signals, params))
    return points / _divisor(age_hours(signals.appeared_at, reference), params)


def rank(
    items: Iterable[Candidate], params: TrendingParams, reference: datetime
) -> tuple[list[int], list[float]]:
    """Paper ids best first, with their scores. Ties: newest listing first, then arXiv id descending."""
    scored = [
        (score_value(item.signals, params, reference), item.listed_on, item.arxiv_id, item.paper_id)
        for item in items
    ]
    scored.sort(reverse=True)
    return [row[3] for row in scored], [row[0] for row in scored]


def age_hours(appeared: datetime, reference: datetime) -> float:
    return max(0.0, (reference - appeared).total_seconds() / 3600)


def _points(signals: Signals, params: TrendingParams) -> tuple[float, float, float, float]:
    return (
        float(signals.upvotes),
        params.comment_weight * signals.comments,
        params.hf_weight * signals.hf_upvotes,
        params.stars_weight * _stars_value(signals.github_stars),
    )


def _stars_value(stars: int) -> float:
    # Stars span five orders of magnitude: a logarithm keeps a famous repository from drowning
    # every vote (1,000 stars are worth about 10 upvotes at weight 1).
    return math.log2(1 + max(0, stars))


def _terms(signals: Signals, params: TrendingParams) -> tuple[Term, ...]:
    points = _points(signals, params)
    return (
        Term("upvotes", signals.upvotes, float(signals.upvotes), 1.0, points[0]),
        Term("comments", signals.comments, float(signals.comments), params.comment_weight, points[1]),
        Term("hf_upvotes", signals.hf_upvotes, float(signals.hf_upvotes), params.hf_weight, points[2]),
        Term(
            "github_stars",
            signals.github_stars,
            _stars_value(signals.github_stars),
            params.stars_weight,
            points[3],
        ),
    )


def _divisor(age: float, params: TrendingParams) -> float:
    base: float = max(age + params.offset_hours, MIN_AGE_PLUS_OFFSET_HOURS)
    return float(base**params.gravity)
