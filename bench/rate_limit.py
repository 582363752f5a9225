"""The API limiter (web/rate_limit.py, services/api_budget.py), old against new, in one run:
`python -m bench rate_limit`, or standalone `python -m bench.rate_limit`. Needs no corpus.

1. Cost per request: the middleware around an app that answers at once, timed per call on one
   event loop (anonymous requests from 1,000 addresses, then a member's token), against the
   in-memory limiter it replaced (`OldLimiter`, its counting copied from the previous version).
2. Accuracy: `paperboy serve --workers 2`, a per-IP budget of 2,000/hour, eight clients opening
   a connection per request until each has been refused; admitted / limit. On every database.
3. A new key when 100,000 are known: the old table rebuilt itself on every new key past its cap.
"""

from __future__ import annotations

import asyncio
import hashlib
import math
import statistics
import tempfile
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

from sqlalchemy import Engine

from bench import postgres
from bench.common import format_table, run_standalone, section
from bench.server import serving
from bench.workspace import SQLITE, Target, Workspace
from paperboy.config import load_settings
from paperboy.domain.rates import Rate
from paperboy.domain.users import User
from paperboy.services.api_budget import SharedCounts
from paperboy.services.api_tokens import create_token
from paperboy.storage.engine import make_engine, now_utc
from paperboy.storage.migrate import upgrade
from paperboy.storage.transactions import write_transaction
from paperboy.storage.users import insert_user
from paperboy.web.auth import bearer_token, ip_key, session_token
from paperboy.web.rate_limit import ApiRateLimit, Budgets

CALLS = 20_000
ACCURACY_LIMIT = 2000
OLD_KEYS = 100_000


class OldLimiter:
    """The previous middleware (its code from before budgets were shared): a dict of (window
    start, hits) per key in this process alone, rebuilt whole whenever a new key arrives past
    100,000 keys, credentials keyed by their hash without a look-up."""

    def __init__(self, app: Any, rate: Rate) -> None:
        self.app = app
        self.rate = rate
        self.windows: dict[str, tuple[int, int]] = {}

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        credential = bearer_token(scope) or session_token(scope)
        if credential:
            key = "who:" + hashlib.blake2b(credential.encode(), digest_size=12).hexdigest()
        else:
            key = "ip:" + ip_key(scope["client"][0])
        hits, reset = self.count(key, time.time())
        remaining = max(0, self.rate.limit - hits)
        headers = [
            (b"ratelimit-policy", f"{self.rate.limit};w={self.rate.seconds}".encode()),
            (b"ratelimit", f"limit={self.rate.limit}, remaining={remaining}, reset={reset}".encode()),
        ]

        async def with_headers(message: Any) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", ()), *headers]
            await send(message)

        await self.app(scope, receive, with_headers)

    def count(self, key: str, now: float) -> tuple[int, int]:
        start = int(now // self.rate.seconds * self.rate.seconds)
        window = self.windows.get(key)
        hits = window[1] + 1 if window is not None and window[0] == start else 1
        if window is None and len(self.windows) >= OLD_KEYS:
            self.windows = {k: v for k, v in self.windows.items() if v[0] + self.rate.seconds > now}
        self.windows[key] = (start, hits)
        return hits, max(1, math.ceil(start + self.rate.seconds - now))


def run(ws: Workspace | None = None) -> dict[str, Any]:
    results: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="bench-rate-limit-") as tmp:
        section("API limiter: cost per request (µs, one event loop)")
        results["cost_us"] = _cost(Path(tmp))
        section("A new key when 100,000 are known (µs per insert)")
        results["insert_us"] = _inserts(Path(tmp))
    section(f"Two workers, one budget of {ACCURACY_LIMIT}/hour per address")
    labels = ws.labels() if ws else [SQLITE]
    results["accuracy"] = {}
    for label in labels:
        if ws is not None:
            target = ws.fresh(label)
        else:
            target = Target(SQLITE, {"PAPERBOY_DATA_DIR": tempfile.mkdtemp(prefix="bench-rate-limit-")})
        results["accuracy"][label] = _accuracy(target, Path(tempfile.mkdtemp(prefix="bench-rl-log-")))
    rows = [
        [label, r["admitted"], ACCURACY_LIMIT, f"{r['ratio']:.4f}", r["requests"]]
        for label, r in results["accuracy"].items()
    ]
    print(format_table(["database", "admitted", "limit", "admitted / limit", "requests"], rows))
    return results


# --- 1. cost per request ----------------------------------------------------------------------


async def _answer(scope: Any, receive: Any, send: Any) -> None:
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b""})


async def _noop_send(message: Any) -> None:
    return None


def _scope(address: str, token: str | None = None) -> dict[str, Any]:
    headers = [(b"authorization", f"Bearer {token}".encode())] if token else []
    return {"type": "http", "path": "/api/v1/papers", "headers": headers, "client": (address, 50000)}


def _cost(tmp: Path) -> dict[str, Any]:
    settings = load_settings(environ={}, toml_path=tmp / "absent.toml", data_dir=tmp / "data")
    settings = settings.replace(rate_limit_api="1000000000/hour", rate_limit_api_ip="1000000000/hour")
    engine = make_engine(settings.effective_database_url)
    upgrade(engine)
    token = create_token(engine, _member(engine), "bench", ["read"]).plaintext
    budgets = Budgets(engine, settings)
    new = ApiRateLimit(_answer, budgets=budgets)
    old = OldLimiter(_answer, Rate(1_000_000_000, 3600))
    anonymous = [_scope(f"10.0.{n // 250}.{n % 250}") for n in range(1000)]
    member = _scope("10.9.9.9", token)

    async def measure() -> dict[str, list[float]]:
        await new(member, None, _noop_send)  # the token's look-up, once per 30 s
        out: dict[str, list[float]] = {}
        for name, call in (
            ("bare app", lambda s: _answer(s, None, _noop_send)),
            ("old, anonymous", lambda s: old(s, None, _noop_send)),
            ("new, anonymous", lambda s: new(s, None, _noop_send)),
            ("new, member token", lambda s: new(member, None, _noop_send)),
        ):
            times = []
            for n in range(CALLS):
                scope = anonymous[n % len(anonymous)]
                start = time.perf_counter_ns()
                await call(scope)
                times.append((time.perf_counter_ns() - start) / 1000)
            out[name] = times
        return out

    try:
        measured = asyncio.run(measure())
    finally:
        budgets.close()
        engine.dispose()
    rows, figures = [], {}
    bare = statistics.median(measured["bare app"])
    for name, times in measured.items():
        p50, p99 = _percentile(times, 50), _percentile(times, 99)
        figures[name] = {"p50": p50, "p99": p99, "p50_limiter": p50 - bare, "p99_limiter": p99 - bare}
        rows.append(
            [name, f"{p50:.1f}", f"{p99:.1f}", f"{max(0.0, p50 - bare):.1f}", f"{max(0.0, p99 - bare):.1f}"]
        )
    print(format_table(["calls", "p50", "p99", "p50 − bare", "p99 − bare"], rows))
    old99, new99 = figures["old, anonymous"]["p99_limiter"], figures["new, anonymous"]["p99_limiter"]
    print(f"new / old limiter cost at p99 (anonymous): {new99 / max(old99, 0.01):.2f}x")
    return figures


def _member(engine: Engine) -> User:
    with write_transaction(engine) as conn:
        return insert_user(
            conn,
            email="bench@example.org",
            name="bench",
            password_hash="-",
            role="member",
            now=now_utc(),
            verified=True,
        )


def _percentile(values: list[float], pct: int) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * pct / 100))]


# --- 2. accuracy across two workers -----------------------------------------------------------


def _accuracy(target: Target, log_dir: Path) -> dict[str, Any]:
    if target.pg_url:
        upgrade(make_engine(target.pg_url))
    env = {"PAPERBOY_RATE_LIMIT_API_IP": f"{ACCURACY_LIMIT}/hour", "PAPERBOY_SEARCH_WARM_UP": "0"}
    with serving(target, log_dir, workers=2, **env) as base:
        statuses: list[int] = []
        lock = threading.Lock()

        def client() -> None:
            refusals = 0
            while refusals < 10:
                status = _status(base + "/api/v1/papers")
                with lock:
                    statuses.append(status)
                refusals += status != 200

        threads = [threading.Thread(target=client) for _ in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    admitted = statuses.count(200)
    return {"admitted": admitted, "ratio": admitted / ACCURACY_LIMIT, "requests": len(statuses)}


def _status(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=30) as response:
            response.read()
            return int(response.status)
    except urllib.error.HTTPError as exc:
        return exc.code


# --- 3. inserting a key past 100,000 ----------------------------------------------------------


def _inserts(tmp: Path) -> dict[str, Any]:
    rate = Rate(1_000_000, 3600)
    old = OldLimiter(_answer, rate)
    for n in range(OLD_KEYS):
        old.count(f"ip:{n}", 3600.0)
    old_times = _time_inserts(lambda key: old.count(key, 3601.0), 200)
    engine = make_engine(f"sqlite:///{tmp / 'inserts.db'}")
    upgrade(engine)
    counts = SharedCounts(engine)
    try:
        for n in range(OLD_KEYS):
            counts.take(f"ip:{n}", rate, 3600.0)
        new_times = _time_inserts(lambda key: counts.take(key, rate, 3601.0), 20_000)
        size = counts.size()
    finally:
        counts.close()
        engine.dispose()
    rows = [
        [
            "old (dict rebuilt)",
            f"{_percentile(old_times, 50):.1f}",
            f"{_percentile(old_times, 99):.1f}",
            len(old.windows),
        ],
        [
            "new (OrderedDict, capped)",
            f"{_percentile(new_times, 50):.1f}",
            f"{_percentile(new_times, 99):.1f}",
            size,
        ],
    ]
    print(format_table(["limiter", "p50", "p99", "keys after"], rows))
    ratio = _percentile(old_times, 50) / max(_percentile(new_times, 50), 0.01)
    print(f"old / new at p50: {ratio:.0f}x")
    return {"old_p50": _percentile(old_times, 50), "new_p50": _percentile(new_times, 50), "ratio": ratio}


def _time_inserts(insert: Any, count: int) -> list[float]:
    times = []
    for n in range(count):
        start = time.perf_counter_ns()
        insert(f"new:{n}")
        times.append((time.perf_counter_ns() - start) / 1000)
    return times


def _standalone() -> dict[str, Any]:
    with Workspace(*postgres.admin_url()) as ws:
        return run(ws)


if __name__ == "__main__":
    raise SystemExit(run_standalone("rate_limit", "rate-limit-", _standalone))
