"""Rate limits and login throttling, shared by every web process through the database.

A limit is a fixed window per bucket ("vote:user:42", "signup:ip:10.0.0.1"): the first `limit`
events of a window pass, the rest get RateLimited with the seconds until the window ends.
"""

from __future__ import annotations

import math
import random
import time
from dataclasses import dataclass

from sqlalchemy import Connection, Engine

from paperboy.domain.rates import Rate, parse_rate
from paperboy.storage import rate_counters
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


def check(engine: Engine, *limits: Limit, what: str, now: float | None = None) -> None:
    """Refuse if any limit is spent, without counting (login: only failures count)."""
    moment = time.time() if now is None else now
    waits = []
    with engine.connect() as conn:
        for item in limits:
            start = _window_start(item.rate, moment)
            if rate_counters.hits_in(conn, item.bucket, start) >= item.rate.limit:
                waits.append(math.ceil(start + item.rate.seconds - moment))
    if waits:
        raise refusal(what, max(waits))


def record(engine: Engine, *limits: Limit, now: float | None = None) -> None:
    """Count an event (a failed login) without refusing it."""
    moment = time.time() if now is None else now
    with write_transaction(engine) as conn:
        for item in limits:
            start = _window_start(item.rate, moment)
            rate_counters.add_hit(conn, item.bucket, start, start + item.rate.seconds)


def take_back(engine: Engine, *limits: Limit, now: float | None = None) -> None:
    """Uncount one event of the current window (a login counted as failed that succeeded)."""
    moment = time.time() if now is None else now
    with write_transaction(engine) as conn:
        for item in limits:
            rate_counters.remove_hit(conn, item.bucket, _window_start(item.rate, moment))


def forget(engine: Engine, *limits: Limit) -> None:
    """Clear limits' counts (a successful login clears the account's failures)."""
    with write_transaction(engine) as conn:
        for item in limits:
            rate_counters.clear_bucket(conn, item.bucket)


def _window_start(rate: Rate, moment: float) -> int:
    return int(moment // rate.seconds * rate.seconds)


def _wait(seconds: int) -> str:
    if seconds < 90:
        return f"{seconds} seconds" if seconds != 1 else "1 second"
    minutes = math.ceil(seconds / 60)
    return f"{minutes} minutes" if minutes < 90 else f"{math.ceil(minutes / 60)} hours"
