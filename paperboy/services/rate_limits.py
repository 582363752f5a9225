"""Rate limits and login throttling, shared by every web process through the database.

A limit is a fixed window per bucket ("vote:user:42", "signup:ip:10.0.0.1"): the first `limit`
events of a window pass, the rest get RateLimited with the seconds until the window ends.

A back-off (login guesses per account and client address) lets a few failures pass, then makes
each further attempt wait, the wait doubling with every failure up to a cap. `claim_attempt`
counts an attempt as failed before its password is checked, atomically with the check that it
may be made, and `release_attempt` takes it back when it succeeds: concurrent guesses cannot all
pass the check before any of them is counted.
"""

from __future__ import annotations

import math
import random
import time
from dataclasses import dataclass

from sqlalchemy import Connection, Engine

from paperboy.domain.rates import Rate, parse_rate
from paperboy.storage import login_throttle, rate_counters
from paperboy.storage.transactions import write_transaction

_PURGE_CHANCE = 0.01  # about one hit in a hundred also clears windows that have ended


class RateLimited(Exception):
    """Too many events: try again after `retry_after` seconds (HTTP 429 with Retry-After)."""

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = max(1, retry_after)


@dataclass(frozen=True, slots=True)
class Limit:
    bucket: str
    rate: Rate


def limit(kind: str, who: str, rate: str | Rate) -> Limit:
    """A limit on `kind` events by `who` ("user:42", "ip:10.0.0.1", "email:…")."""
    return Limit(f"{kind}:{who}"[:200], parse_rate(rate) if isinstance(rate, str) else rate)


def member_limits(kind: str, user_id: int, ip: str, rate: str, ip_factor: int) -> list[Limit]:
    """A limit per account and a looser one per IP address (people behind one address share it)."""
    per_account = parse_rate(rate)
    per_ip = Rate(per_account.limit * ip_factor, per_account.seconds)
    return [limit(kind, f"user:{user_id}", per_account), limit(kind, f"ip:{ip}", per_ip)]


def hit(engine: Engine, *limits: Limit, what: str, now: float | None = None) -> None:
    """Count one event against every limit, in one short transaction; RateLimited if any is spent.

    Counted even when refused, so that hammering a limit does not shorten the wait.
    """
    with write_transaction(engine) as conn:
        wait = count_in(conn, *limits, now=now)
    if wait is not None:
        raise refusal(what, wait)


def count_in(conn: Connection, *limits: Limit, now: float | None = None) -> int | None:
    """`hit` inside the caller's write transaction (one transaction for the count and the action):
    the seconds to wait when a limit is spent, else None. The caller commits the count either way."""
    moment = time.time() if now is None else now
    refused: list[int] = []
    for item in limits:
        start = _window_start(item.rate, moment)
        hits = rate_counters.add_hit(conn, item.bucket, start, start + item.rate.seconds)
        if hits > item.rate.limit:
            refused.append(math.ceil(start + item.rate.seconds - moment))
    if random.random() < _PURGE_CHANCE:  # noqa: S311 - not security-relevant
        rate_counters.purge_expired(conn, int(moment))
    return max(refused) if refused else None


def refusal(what: str, wait: int) -> RateLimited:
    return RateLimited(f"Too many {what}: try again in {_wait(wait)}.", wait)


# --- back-off --------------------------------------------------------------------------------------

_FIRST_WAIT = 30  # seconds after the last free failure; doubling with each failure after it
_FORGET_AFTER = 86400  # a bucket with no attempt for a day starts afresh


@dataclass(frozen=True, slots=True)
class Backoff:
    bucket: str
    free: int  # failures that cost no wait
    max_wait: int  # seconds; the doubling stops here


def backoff(kind: str, who: str, rate: str | Rate) -> Backoff:
    """A back-off on `kind` by `who`, from a rate "5/15minutes": five free failures, then waits
    of 30 s, 60 s, 120 s … up to 15 minutes (never more than the period)."""
    parsed = parse_rate(rate) if isinstance(rate, str) else rate
    return Backoff(f"{kind}:{who}"[:200], parsed.limit, parsed.seconds)


def wait_after(item: Backoff, failures: int) -> int:
    """Seconds the next attempt waits after `failures` counted failures (0: it may go at once)."""
    if failures < item.free:
        return 0
    doublings = min(failures - item.free, 30)
    return min(item.max_wait, _FIRST_WAIT << doublings)


def claim_attempt(engine: Engine, item: Backoff, *limits: Limit, what: str, now: float | None = None) -> None:
    """Count one attempt as failed against the back-off and `limits`, in one transaction, before
    its outcome is known; RateLimited, with nothing counted, when the back-off or a limit refuses."""
    moment = time.time() if now is None else now
    with write_transaction(engine) as conn:
        wait = _claim_in(conn, item, int(moment)) or count_in(conn, *limits, now=moment)
        if wait:
            raise refusal(what, wait)  # rolls the counts back: a refused attempt checks nothing


def release_attempt(engine: Engine, item: Backoff, *limits: Limit, now: float) -> None:
    """An attempt claimed at `now` succeeded: forget the back-off's failures, take back the limits'."""
    with write_transaction(engine) as conn:
        login_throttle.forget(conn, item.bucket)
        for each in limits:
            rate_counters.remove_hit(conn, each.bucket, _window_start(each.rate, now))


def _claim_in(conn: Connection, item: Backoff, now: int) -> int | None:
    expires = now + max(_FORGET_AFTER, 2 * item.max_wait)
    failures, blocked_until = login_throttle.count_attempt(conn, item.bucket, now, expires)
    if blocked_until > now:
        return blocked_until - now
    wait = wait_after(item, failures)
    if wait:
        login_throttle.block(conn, item.bucket, now + wait)
    if random.random() < _PURGE_CHANCE:  # noqa: S311 - not security-relevant
        login_throttle.purge_expired(conn, now)
    return None


def _window_start(rate: Rate, moment: float) -> int:
    return int(moment // rate.seconds * rate.seconds)


def _wait(seconds: int) -> str:
    if seconds < 90:
        return f"{seconds} seconds" if seconds != 1 else "1 second"
    minutes = math.ceil(seconds / 60)
    return f"{minutes} minutes" if minutes < 90 else f"{math.ceil(minutes / 60)} hours"
