"""The digest benchmark's subscribers (bench/digest_subscribers.py): the rows it writes."""

import random
from datetime import UTC, datetime

from bench import digest_subscribers
from paperboy.domain.digest import Preferences, check_preferences
from paperboy.storage.digests import preference_columns

CATEGORIES = ["cs.CV", "cs.AI", "cs.CL", "cs.LG", "cs.GR", "eess.IV"]
NOW = datetime(2026, 7, 1, tzinfo=UTC)


def test_the_same_seed_gives_the_same_subscribers():
    first = digest_subscribers.subscriber_rows(200, 7, CATEGORIES, NOW)
    assert first == digest_subscribers.subscriber_rows(200, 7, CATEGORIES, NOW)
    assert first != digest_subscribers.subscriber_rows(200, 8, CATEGORIES, NOW)


def test_every_preference_is_one_a_subscriber_could_choose():
    rng = random.Random(1)
    for _ in range(2000):
        preferences = digest_subscribers.subscriber_preferences(rng, CATEGORIES)
        checked = check_preferences(
            frequency=preferences.frequency,
            weekday=preferences.weekday,
            top_n=preferences.top_n,
            categories=preferences.categories,
            include=preferences.include,
            exclude=preferences.exclude,
            only_new=preferences.only_new,
        )
        assert checked == preferences
        assert 5 <= preferences.top_n <= 20
        assert not set(preferences.include) & set(preferences.exclude)


def test_the_rows_are_confirmed_daily_subscriptions_with_unique_emails_and_nonces():
    rows = digest_subscribers.subscriber_rows(1000, 3, CATEGORIES, NOW)
    assert len({row["email"] for row in rows}) == 1000
    assert len({row["nonce"] for row in rows}) == 1000
    assert all(row["status"] == "active" and row["frequency"] == "daily" for row in rows)
    assert all(len(row["nonce"]) == 32 for row in rows)
    assert set(rows[0]) >= set(preference_columns(Preferences()))


def test_the_choices_are_varied():
    rng = random.Random(5)
    sample = [digest_subscribers.subscriber_preferences(rng, CATEGORIES) for _ in range(2000)]
    assert 0.35 < sum(not p.categories for p in sample) / 2000 < 0.55
    assert any(p.categories == ("cs",) for p in sample)
    assert 0.4 < sum(not p.include for p in sample) / 2000 < 0.6
    assert 0.8 < sum(p.only_new for p in sample) / 2000 < 0.97
    assert {p.top_n for p in sample} == set(range(5, 21))


def test_members_own_every_nth_subscription_and_a_fifth_choose_for_you():
    members = list(range(101, 111))
    rows = digest_subscribers.subscriber_rows(100, 3, CATEGORIES, NOW, members)
    owned = [row["user_id"] for row in rows if row["user_id"] is not None]
    assert owned == members  # one subscription each: every tenth
    assert [n for n, row in enumerate(rows, 1) if row["user_id"]] == list(range(10, 101, 10))
    assert all(not row["for_you"] for row in rows if row["user_id"] is None)
    many = digest_subscribers.subscriber_rows(5000, 3, CATEGORIES, NOW, list(range(1, 1001)))
    assert 0.12 < sum(row["for_you"] for row in many) / 1000 < 0.28
