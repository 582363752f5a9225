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


# --- back-off (login guesses per account and client address) ---------------------------------------


def _claim(engine, item, now, *limits):
    rate_limits.claim_attempt(engine, item, *limits, what="failed logins", now=now)


def test_the_backoff_lets_a_few_failures_pass_then_doubles_the_wait(engine):
    item = rate_limits.backoff("login-fail", "email:a@example.org:ip:192.0.2.1", "3/15minutes")
    moment = NOW
    for _ in range(3):
        _claim(engine, item, moment)
    waits = []
    for _ in range(7):
        with pytest.raises(RateLimited) as refused:
            _claim(engine, item, moment)
        waits.append(refused.value.retry_after)
        moment += refused.value.retry_after
        _claim(engine, item, moment)  # the wait is over: this guess is checked, and earns a longer one
    assert waits == [30, 60, 120, 240, 480, 900, 900]


def test_refused_attempts_do_not_lengthen_the_wait_and_a_success_clears_it(engine):
    item = rate_limits.backoff("login-fail", "email:a@example.org:ip:192.0.2.1", "2/15minutes")
    per_ip = rate_limits.limit("login-fail", "ip:192.0.2.1", "20/hour")
    _claim(engine, item, NOW, per_ip)
    _claim(engine, item, NOW, per_ip)
    for _ in range(5):  # hammering while blocked
        with pytest.raises(RateLimited) as refused:
            _claim(engine, item, NOW + 10, per_ip)
        assert refused.value.retry_after == 20
    _claim(engine, item, NOW + 30, per_ip)
    with pytest.raises(RateLimited) as refused:
        _claim(engine, item, NOW + 30, per_ip)
    assert refused.value.retry_after == 60  # three failures counted, not eight
    rate_limits.release_attempt(engine, item, per_ip, now=NOW + 30)
    _claim(engine, item, NOW + 31, per_ip)  # the owner got in: the back-off starts afresh
    _claim(engine, item, NOW + 31, per_ip)


def test_backoffs_of_other_clients_are_separate(engine):
    guessing = rate_limits.backoff("login-fail", "email:a@example.org:ip:192.0.2.1", "1/15minutes")
    owner = rate_limits.backoff("login-fail", "email:a@example.org:ip:198.51.100.7", "1/15minutes")
    _claim(engine, guessing, NOW)
    with pytest.raises(RateLimited):
        _claim(engine, guessing, NOW)
    _claim(engine, owner, NOW)


def test_a_spent_per_address_budget_counts_nothing(engine):
    item = rate_limits.backoff("login-fail", "email:a@example.org:ip:192.0.2.1", "5/15minutes")
    per_ip = rate_limits.limit("login-fail", "ip:192.0.2.1", "1/hour")
    _claim(engine, item, NOW, per_ip)
    for _ in range(6):
        with pytest.raises(RateLimited):
            _claim(engine, item, NOW, per_ip)
    looser = rate_limits.limit("login-fail", "ip:192.0.2.1", "10/hour")
    for _ in range(4):  # the back-off counted 1 failure, not 7: four more are free
        _claim(engine, item, NOW + 3600, looser)
    with pytest.raises(RateLimited):
        _claim(engine, item, NOW + 3600, looser)


def test_concurrent_claims_never_pass_the_free_failures(engine):
    item = rate_limits.backoff("login-fail", "email:a@example.org:ip:192.0.2.1", "4/15minutes")
    barrier = threading.Barrier(16)
    outcomes: list[str] = []

    def claim() -> None:
        barrier.wait()
        try:
            _claim(engine, item, NOW)
            outcomes.append("passed")
        except RateLimited:
            outcomes.append("refused")

    threads = [threading.Thread(target=claim) for _ in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["passed"] * 4 + ["refused"] * 12
