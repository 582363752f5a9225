"""The soak benchmark's client: many concurrent connections from 127.0.0.1 (asyncio + httpx), a mix
of anonymous and logged-in pages, votes, comments, searches, API calls and feeds, for a bounded time.

Every write is remembered with its answer, so that the database can be checked afterwards: a vote
or comment that got a success answer must be stored exactly once, one that did not at most once.
"""

from __future__ import annotations

import asyncio
import http.cookiejar
import random
import secrets
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

import httpx

REQUEST_TIMEOUT_S = 30.0
KEEPALIVE_EXPIRY_S = 2.0  # below `serve`'s keep_alive_timeout (5 s)
# kind -> weight in the mix
MIX = {
    "anonymous page": 30,
    "member page": 15,
    "vote": 12,
    "comment": 5,
    "search": 8,
    "api": 18,
    "feed": 12,
}
WORDS = ("diffusion", "graph neural network", "transformer", "reinforcement learning", "quantum", "protein")


@dataclass(frozen=True, slots=True)
class Member:
    user_id: int
    session: str  # the cookie's plaintext
    csrf: str
    api_token: str | None  # a read/vote/comment token for some members


@dataclass(frozen=True, slots=True)
class Plan:
    base: str
    members: list[Member]
    paper_ids: list[str]  # arXiv ids that answer 200
    day: str  # a listing day, 2025-06-12
    week: str  # 2025-W24
    connections: int
    seconds: float


@dataclass
class KindStats:
    statuses: Counter[int] = field(default_factory=Counter)
    socket_errors: Counter[str] = field(default_factory=Counter)
    latencies_ms: list[float] = field(default_factory=list)

    @property
    def requests(self) -> int:
        return sum(self.statuses.values()) + sum(self.socket_errors.values())

    @property
    def five_xx(self) -> int:
        return sum(n for status, n in self.statuses.items() if status >= 500)

    def percentile(self, q: float) -> float:
        ordered = sorted(self.latencies_ms)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("nan")


@dataclass
class Outcome:
    """What the clients saw, and every write they attempted with its answer."""

    stats: dict[str, KindStats] = field(default_factory=lambda: {kind: KindStats() for kind in MIX})
    failures: list[tuple[float, str, str]] = field(default_factory=list)  # (seconds since start, kind, what)
    votes_acked: set[tuple[int, str]] = field(default_factory=set)
    votes_unacked: set[tuple[int, str]] = field(default_factory=set)
    comments_acked: set[str] = field(default_factory=set)  # the nonces in their bodies
    comments_unacked: set[str] = field(default_factory=set)
    wall_s: float = 0.0


@dataclass
class _Request:
    method: str
    path: str
    headers: dict[str, str] = field(default_factory=dict)
    data: dict[str, str] | None = None
    # Called with the response (None: no answer): records a write as acknowledged or not.
    on_answer: Callable[[httpx.Response | None], None] = lambda response: None


class _Mix:
    """Draws requests; keeps vote pairs distinct, so that each is asked for once."""

    def __init__(self, plan: Plan, outcome: Outcome, used_votes: set[tuple[int, str]], seed: int) -> None:
        self.plan, self.outcome, self.used_votes = plan, outcome, used_votes
        self.rng = random.Random(seed)
        self.kinds, self.weights = list(MIX), list(MIX.values())

    def draw(self) -> tuple[str, _Request]:
        kind = self.rng.choices(self.kinds, self.weights)[0]
        return kind, getattr(self, "_" + kind.replace(" ", "_"))()

    def _page(self) -> str:
        p = self.plan
        return self.rng.choice(
            ["/", f"/papers/date/{p.day}", f"/papers/week/{p.week}", *[f"/papers/{self._paper()}"] * 3]
        )

    def _paper(self) -> str:
        return self.rng.choice(self.plan.paper_ids)

    def _member(self) -> Member:
        return self.rng.choice(self.plan.members)

    def _anonymous_page(self) -> _Request:
        return _Request("GET", self._page())

    def _member_page(self) -> _Request:
        member = self._member()
        path = self.rng.choice([self._page(), "/settings"])
        return _Request("GET", path, {"Cookie": f"paperboy_session={member.session}"})

    def _vote(self) -> _Request:
        for _ in range(20):
            member, paper = self._member(), self._paper()
            if (member.user_id, paper) not in self.used_votes:
                break
        pair = (member.user_id, paper)
        self.used_votes.add(pair)
        return _Request(
            "POST",
            f"/papers/{paper}/vote",
            {**_form_headers(member), "Accept": "application/json"},
            {"action": "up"},
            lambda r: (self.outcome.votes_acked if _vote_ok(r) else self.outcome.votes_unacked).add(pair),
        )

    def _comment(self) -> _Request:
        member, nonce = self._member(), secrets.token_hex(8)
        body = f"Soak comment {nonce}: does the method hold on larger inputs?"
        return _Request(
            "POST",
            f"/papers/{self._paper()}/comments",
            _form_headers(member),
            {"body": body},
            lambda r: (self.outcome.comments_acked if _comment_ok(r) else self.outcome.comments_unacked).add(
                nonce
            ),
        )

    def _search(self) -> _Request:
        word = self.rng.choice(WORDS)
        return _Request(
            "GET", self.rng.choice([f"/search?q={word}", f"/api/v1/search?q={word}&mode=lexical"])
        )

    def _api(self) -> _Request:
        paper, p = self._paper(), self.plan
        path = self.rng.choice(
            [f"/api/daily_papers?date={p.day}", f"/api/papers/{paper}", f"/api/v1/papers/{paper}"]
        )
        member = self._member()
        headers = (
            {"Authorization": f"Bearer {member.api_token}"}
            if member.api_token and self.rng.random() < 0.5
            else {}
        )
        return _Request("GET", path, headers)

    def _feed(self) -> _Request:
        p = self.plan
        return _Request(
            "GET",
            self.rng.choice([f"/feeds/day/{p.day}.rss", f"/feeds/week/{p.week}.atom", "/feeds/week.json"]),
        )


def _vote_ok(response: httpx.Response | None) -> bool:
    return response is not None and response.status_code == 200 and response.json().get("voted") is True


def _comment_ok(response: httpx.Response | None) -> bool:
    """The comment form answers 303 to the new comment's anchor (a 303 elsewhere is a refusal)."""
    return (
        response is not None
        and response.status_code == 303
        and "#comment-" in response.headers.get("location", "")
    )


def _form_headers(member: Member) -> dict[str, str]:
    return {
        "Cookie": f"paperboy_session={member.session}",
        "X-CSRF-Token": member.csrf,
        "Content-Type": "application/x-www-form-urlencoded",
    }


async def run_load(
    plan: Plan,
    used_votes: set[tuple[int, str]],
    seed: int,
    during: Callable[[float], object] | None = None,
) -> Outcome:
    """`plan.connections` clients for `plan.seconds`; `during(elapsed)` is called every 0.1 s."""
    outcome = Outcome()
    mix = _Mix(plan, outcome, used_votes, seed)
    jar = http.cookiejar.CookieJar(policy=http.cookiejar.DefaultCookiePolicy(allowed_domains=[]))
    # A pooled connection is dropped after 2 s idle, before the server's keep_alive_timeout (5 s)
    # closes it: otherwise a request sent just as the server closes an idle connection fails as a
    # ReadError (the same rule a proxy follows, docs/deploy.md: its upstream keep-alive below
    # paperboy's). Browsers retry such a request; httpx does not.
    limits = httpx.Limits(
        max_connections=plan.connections,
        max_keepalive_connections=plan.connections,
        keepalive_expiry=KEEPALIVE_EXPIRY_S,
    )
    start = time.monotonic()
    deadline = start + plan.seconds
    async with httpx.AsyncClient(
        base_url=plan.base, limits=limits, timeout=REQUEST_TIMEOUT_S, cookies=jar, follow_redirects=False
    ) as client:
        workers = [_client(client, mix, outcome, start, deadline) for _ in range(plan.connections)]
        watcher = asyncio.ensure_future(_watch(during, start, deadline))
        await asyncio.gather(*workers)
        watcher.cancel()
    outcome.wall_s = time.monotonic() - start
    return outcome


async def _watch(during: Callable[[float], object] | None, start: float, deadline: float) -> None:
    while during and time.monotonic() < deadline:
        during(time.monotonic() - start)
        await asyncio.sleep(0.1)


async def _client(
    client: httpx.AsyncClient, mix: _Mix, outcome: Outcome, start: float, deadline: float
) -> None:
    while time.monotonic() < deadline:
        kind, request = mix.draw()
        stats = outcome.stats[kind]
        began = time.perf_counter()
        try:
            response = await client.request(
                request.method, request.path, headers=request.headers, data=request.data
            )
        except httpx.TransportError as exc:
            stats.socket_errors[type(exc).__name__] += 1
            outcome.failures.append((time.monotonic() - start, kind, type(exc).__name__))
            request.on_answer(None)
            continue
        stats.latencies_ms.append((time.perf_counter() - began) * 1000)
        stats.statuses[response.status_code] += 1
        if response.status_code >= 500:
            outcome.failures.append((time.monotonic() - start, kind, str(response.status_code)))
        request.on_answer(response)
