"""The one HTTP client every upstream integration uses.

It adds what a polite, robust harvester needs on top of httpx: timeouts, retries with
exponential back-off and jitter, `Retry-After` (arXiv's flow control for OAI-PMH), a minimum
interval between requests to one host (arXiv asks for 3 s), a size cap on response bodies,
and one `UpstreamError` line naming the URL and the reason when it gives up.

One client may serve many threads (the web app's arXiv look-ups share one per process): the
politeness interval is handed out as reserved start times under a lock, so concurrent callers
queue instead of bursting, and a `Retry-After` holds every caller of that host off until the
moment it names, remembered, so nobody asks again meanwhile. A caller that cannot wait (a web
request) passes a `deadline`: when its turn, the hold-off or a retry would come later than
that, the client raises `UpstreamBusy` at once, without asking, saying how long to wait.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import TYPE_CHECKING

import httpx

from paperboy import __version__

if TYPE_CHECKING:
    from paperboy.config import Settings

logger = logging.getLogger(__name__)

USER_AGENT = f"paperboy/{__version__} (+https://github.com/paperboy)"
MAX_BYTES = 50 * 1024 * 1024
RETRY_AFTER_CAP = 600.0
RETRYABLE_STATUSES = frozenset({429, 500, 502, 503, 504})
ARXIV_HOST = "arxiv.org"

Params = Mapping[str, str | int]


class UpstreamError(Exception):
    """An upstream service failed or answered something unusable; the message is one line."""


class UpstreamBusy(UpstreamError):
    """Not asked, or not asked again: the answer would come after the caller's deadline (the
    host asked us to hold off, or it is another caller's turn). `retry_after`: seconds to wait."""

    def __init__(self, message: str, retry_after: float) -> None:
        super().__init__(message)
        self.retry_after = retry_after


@dataclass(frozen=True, slots=True)
class HttpResponse:
    url: str
    status: int
    headers: httpx.Headers
    content: bytes


class _Retry(Exception):
    """Internal: this attempt failed in a way worth another try."""

    def __init__(self, reason: str, retry_after: float | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.retry_after = retry_after


class HttpClient:
    """GET with retries, politeness delays and a size cap. Tests inject `transport`, `sleep`
    and `clock` so that nothing touches the network or really waits."""

    def __init__(
        self,
        *,
        timeout: float = 30.0,
        retries: int = 4,
        host_delays: Mapping[str, float] | None = None,
        max_bytes: int = MAX_BYTES,
        backoff_base: float = 1.0,
        backoff_cap: float = 60.0,
        transport: httpx.BaseTransport | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
        jitter: Callable[[], float] | None = None,
    ) -> None:
        self._client = httpx.Client(
            timeout=timeout,
            transport=transport,
            follow_redirects=True,
            headers={"User-Agent": USER_AGENT},
        )
        self._timeout = timeout
        self._retries = retries
        self._host_delays = dict(host_delays or {})
        self._max_bytes = max_bytes
        self._backoff_base = backoff_base
        self._backoff_cap = backoff_cap
        self._sleep = sleep
        self._clock = clock
        # Jitter spreads retries of many workers apart; it is not security-relevant.
        self._jitter = jitter or random.Random().random  # noqa: S311
        self._lock = threading.Lock()
        self._held_off = threading.Condition(self._lock)  # wakes turn-waiters when a hold-off is set
        self._next_start: dict[str, float] = {}  # per host key: the earliest the next request may start
        self._held_off_until: dict[str, float] = {}  # per host key: what its Retry-After asked for

    @classmethod
    def from_settings(cls, settings: Settings, **overrides: object) -> HttpClient:
        """A client with the configured timeout, retries and arXiv politeness delay."""
        options: dict[str, object] = {
            "timeout": settings.http_timeout,
            "retries": settings.http_retries,
            "host_delays": {ARXIV_HOST: settings.arxiv_delay},
        }
        options.update(overrides)
        return cls(**options)  # type: ignore[arg-type]

    def __enter__(self) -> HttpClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        self._client.close()

    def get(
        self,
        url: str,
        *,
        params: Params | None = None,
        accept: Collection[int] = (200,),
        deadline: float | None = None,
    ) -> HttpResponse:
        """GET `url`; return a response whose status is in `accept`, or raise UpstreamError.

        `deadline` (on this client's clock): raise UpstreamBusy rather than wait or retry past it.
        """
        # merged, not replaced: a configured base URL may carry a query string of its own
        full_url = str(httpx.URL(url).copy_merge_params(params or {}))
        attempts = self._retries + 1
        for attempt in range(attempts):
            self._wait_for_host(full_url, deadline)
            try:
                return self._attempt(full_url, accept, deadline)
            except _Retry as retry:
                delay = self._retry_delay(attempt, retry.retry_after)
                if retry.retry_after:  # the server's own flow control: every caller honours it
                    self._hold_off(full_url, delay)
                if deadline is not None and self._clock() + delay > deadline:
                    raise UpstreamBusy(f"GET {full_url}: {retry.reason}", retry_after=delay) from None
                if attempt + 1 == attempts:
                    raise UpstreamError(
                        f"GET {full_url}: {retry.reason} (gave up after {attempts} attempts)"
                    ) from None
                logger.info("GET %s: %s; retrying in %.1f s", full_url, retry.reason, delay)
                self._sleep(delay)
        raise AssertionError("unreachable")  # pragma: no cover

    def _attempt(self, url: str, accept: Collection[int], deadline: float | None) -> HttpResponse:
        timeout = self._timeout
        if deadline is not None:  # a waiting caller: no longer than its deadline (half a second at least)
            timeout = max(0.5, min(timeout, deadline - self._clock()))
        try:
            with self._client.stream("GET", url, timeout=timeout) as response:
                status = response.status_code
                if status not in accept and status in RETRYABLE_STATUSES:
                    raise _Retry(_status_text(response), parse_retry_after(response.headers))
                content = self._read_capped(url, response)
        except httpx.UnsupportedProtocol as exc:
            raise UpstreamError(f"GET {url}: {_one_line(exc)}") from None
        except (httpx.TransportError, httpx.DecodingError) as exc:
            raise _Retry(f"{type(exc).__name__}: {_one_line(exc)}") from None
        except httpx.HTTPError as exc:  # too many redirects and the like: retrying won't help
            raise UpstreamError(f"GET {url}: {type(exc).__name__}: {_one_line(exc)}") from None
        finally:
            self._finished(url)
        if status not in accept:
            raise UpstreamError(f"GET {url}: {_status_text(response)}{_snippet(content)}")
        return HttpResponse(str(response.url), status, response.headers, content)

    def _read_capped(self, url: str, response: httpx.Response) -> bytes:
        """The body, refusing (without reading it all) one larger than the cap."""
        declared = response.headers.get("Content-Length", "")
        if declared.isdigit() and int(declared) > self._max_bytes:
            raise UpstreamError(
                f"GET {url}: response of {declared} bytes exceeds the {self._max_bytes}-byte limit"
            )
        chunks: list[bytes] = []
        size = 0
        for chunk in response.iter_bytes():  # decoded bytes: a gzip bomb is caught too
            size += len(chunk)
            if size > self._max_bytes:
                raise UpstreamError(f"GET {url}: response exceeds the {self._max_bytes}-byte limit")
            chunks.append(chunk)
        return b"".join(chunks)

    def _wait_for_host(self, url: str, deadline: float | None) -> None:
        """Take the next turn for the URL's host and wait until it comes.

        The turn is reserved under the lock, so concurrent callers queue a politeness interval
        apart; one that learns of a hold-off set meanwhile queues again (or, with a deadline it
        cannot meet, is told at once).
        """
        key, delay = self._politeness(url)
        while True:
            with self._lock:
                now = self._clock()
                start = max(now, self._next_start.get(key, now), self._held_off_until.get(key, now))
                if deadline is not None and start > deadline:
                    raise UpstreamBusy(f"{key} is busy: our next turn is in {start - now:.0f} s", start - now)
                if delay > 0:
                    self._next_start[key] = start + delay
            if start <= now or self._wait_for_turn(key, start):
                return

    def _wait_for_turn(self, key: str, start: float) -> bool:
        """Wait until `start`; False as soon as a hold-off beyond it is set meanwhile."""
        if self._sleep is not time.sleep:  # an injected sleep (tests): one call, then look
            self._sleep(start - self._clock())
            with self._lock:
                return self._held_off_until.get(key, 0.0) <= start
        with self._held_off:
            while (now := self._clock()) < start:
                if self._held_off_until.get(key, 0.0) > start:
                    return False
                self._held_off.wait(start - now)
            return self._held_off_until.get(key, 0.0) <= start

    def _finished(self, url: str) -> None:
        """The interval counts from the end of a request too: a slow answer is no licence to hurry."""
        key, delay = self._politeness(url)
        with self._lock:
            self._next_start[key] = max(self._next_start.get(key, 0.0), self._clock() + delay)

    def _hold_off(self, url: str, seconds: float) -> None:
        key = self._politeness(url)[0]
        with self._lock:
            until = self._clock() + seconds
            if until > self._held_off_until.get(key, 0.0):
                logger.warning("%s asked us to hold off for %.0f s", key, seconds)
                self._held_off_until[key] = until
                self._held_off.notify_all()

    def _politeness(self, url: str) -> tuple[str, float]:
        """(timer key, minimum interval) for the URL's host.

        Hosts under one configured domain share one timer: arXiv's limit covers its API, OAI
        and RSS hosts together, not each of them separately.
        """
        host = httpx.URL(url).host
        for domain, delay in self._host_delays.items():
            if host == domain or host.endswith("." + domain):
                return domain, delay
        return host, 0.0

    def _retry_delay(self, attempt: int, retry_after: float | None) -> float:
        """The server's Retry-After when it gives a positive one, else exponential back-off.

        arXiv sometimes sends `Retry-After: 0` with a 503; retrying at once would hammer an
        overloaded server, so 0 falls back to the back-off.
        """
        if retry_after is not None and retry_after > 0:
            return min(retry_after, RETRY_AFTER_CAP)
        ceiling: float = min(self._backoff_cap, self._backoff_base * 2.0**attempt)
        return ceiling * (0.5 + 0.5 * self._jitter())


def parse_retry_after(headers: httpx.Headers) -> float | None:
    """Seconds to wait from a `Retry-After` header (delta-seconds or HTTP-date), or None.

    An HTTP-date is measured against the response's own `Date` header when there is one,
    so a skewed local clock does not matter.
    """
    value = headers.get("Retry-After", "").strip()
    if not value:
        return None
    if value.isdigit():
        return float(value)
    try:
        until = parsedate_to_datetime(value)
        now = parsedate_to_datetime(headers["Date"]) if "Date" in headers else datetime.now(UTC)
    except (TypeError, ValueError, IndexError):
        return None
    if until.tzinfo is None or now.tzinfo is None:
        return None
    return max(0.0, (until - now).total_seconds())


def _status_text(response: httpx.Response) -> str:
    return f"HTTP {response.status_code} {response.reason_phrase}".rstrip()


def _snippet(content: bytes) -> str:
    """The start of an error body, on one line: servers often say what was wrong."""
    text = " ".join(content[:400].decode("utf-8", "replace").split())
    return f": {text[:160]}" if text else ""


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split()) or type(exc).__name__
