import threading

import pytest
from sqlalchemy import func, select

from paperboy.domain.rates import parse_rate
from paperboy.services import rate_limits
from paperboy.services.rate_limits import RateLimited
from paperboy.storage.schema import rate_counters

NOW = 1_800_000_000.0  # a window boundary for every rate below (divisible by 3600)


def test_the_limit_passes_then_refuses_with_the_time_left(engine):
    limit = rate_limits.limit("vote", "user:1", "3/minute")
    for _ in range(3):
        rate_limits.hit(engine, limit, what="votes", now=NOW + 10)
    with pytest.raises(RateLimited) as refused:
        rate_limits.hit(engine, limit, what="votes", now=NOW + 10)
    assert refused.value.retry_after == 50
    assert str(refused.value) == "Too many votes: try again in 50 seconds."
    rate_limits.hit(engine, limit, what="votes", now=NOW + 60)  # the next window starts afresh


def test_buckets_are_separate_and_every_limit_counts(engine):
    per_user = rate_limits.limit("vote", "user:1", "2/minute")
    per_ip = rate_limits.limit("vote", "ip:10.0.0.1", "3/minute")
    other_user = rate_limits.limit("vote", "user:2", "2/minute")
    rate_limits.hit(engine, per_user, per_ip, what="votes", now=NOW)
    rate_limits.hit(engine, per_user, per_ip, what="votes", now=NOW)
    rate_limits.hit(engine, other_user, per_ip, what="votes", now=NOW)
    with pytest.raises(RateLimited):  # the shared address is spent, though user 2 is not
        rate_limits.hit(engine, other_user, per_ip, what="votes", now=NOW)


def test_check_does_not_count_and_forget_clears(engine):
    failures = rate_limits.limit("login-fail", "email:a@example.org", "2/15minutes")
    rate_limits.check(engine, failures, what="failed logins", now=NOW)
    rate_limits.record(engine, failures, now=NOW)
    rate_limits.record(engine, failures, now=NOW)
    with pytest.raises(RateLimited) as refused:
        rate_limits.check(engine, failures, what="failed logins", now=NOW + 60)
    assert refused.value.retry_after == 15 * 60 - 60
    rate_limits.forget(engine, failures)
    rate_limits.check(engine, failures, what="failed logins", now=NOW + 60)


def test_concurrent_hits_are_counted_exactly(engine):
    limit = rate_limits.limit("vote", "ip:shared", "1000/hour")
    barrier = threading.Barrier(20)

    def hit_five() -> None:
        barrier.wait()
        for _ in range(5):
            rate_limits.hit(engine, limit, what="votes", now=NOW)

    threads = [threading.Thread(target=hit_five) for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    with engine.connect() as conn:
        assert conn.execute(select(func.sum(rate_counters.c.hits))).scalar_one() == 100


@pytest.mark.parametrize(
    ("text", "limit", "seconds"),
    [
        ("5/hour", 5, 3600),
        ("120/minute", 120, 60),
        ("5/15minutes", 5, 900),
        ("10/2h", 10, 7200),
        ("1/day", 1, 86400),
    ],
)
def test_rates_parse(text, limit, seconds):
    assert parse_rate(text) == parse_rate(text.upper())
    assert (parse_rate(text).limit, parse_rate(text).seconds) == (limit, seconds)


@pytest.mark.parametrize("text", ["", "5", "five/hour", "5/fortnight", "0/hour", "5/0minutes", "-1/hour"])
def test_bad_rates_say_what_is_expected(text):
    with pytest.raises(ValueError, match="rate"):
        parse_rate(text)
