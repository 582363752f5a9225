"""Fakes and recorded responses for the integration tests.

Only the network and the clock are faked: the real HttpClient runs on httpx.MockTransport,
which serves responses recorded from the live services (../shared/fixtures) or hand-made ones
(tests/fixtures) where no recording exists. This is a plain module, not a conftest.py: the
repository's tests import helpers from *the* conftest, so a second one would shadow it.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from pathlib import Path

import httpx
import pytest

from paperboy.integrations.http import HttpClient

REPO_ROOT = Path(__file__).resolve().parents[3]
SHARED = REPO_ROOT.parent / "shared"
LOCAL_FIXTURES = REPO_ROOT / "tests" / "fixtures"

Handler = Callable[[httpx.Request], httpx.Response]


class FakeClock:
    """A monotonic clock that only moves when the code under test sleeps (or a test says so)."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def shared_fixture(*parts: str) -> Path:
    """A recorded response under ../shared/fixtures, or a skip naming what is missing."""
    return _shared("fixtures", parts, "the recorded upstream responses")


def shared_data(*parts: str) -> Path:
    """A file of the real corpus under ../shared/data, or a skip naming what is missing."""
    return _shared("data", parts, "the real arXiv corpus")


def _shared(folder: str, parts: tuple[str, ...], what: str) -> Path:
    path = SHARED.joinpath(folder, *parts)
    if not path.exists():
        pytest.skip(f"{path} is absent: this test reads {what} in ../shared/{folder}")
    return path


def local_fixture(*parts: str) -> Path:
    """A hand-made fixture under tests/fixtures (see tests/fixtures/INTEGRATIONS.md)."""
    return LOCAL_FIXTURES.joinpath(*parts)


def fake_client(handler: Handler, clock: FakeClock | None = None, **options: object) -> HttpClient:
    """The real HttpClient on a MockTransport and a fake clock; jitter pinned mid-range."""
    clock = clock or FakeClock()
    settings: dict[str, object] = {"sleep": clock.sleep, "clock": clock, "jitter": lambda: 0.5}
    settings.update(options)
    return HttpClient(transport=httpx.MockTransport(handler), **settings)  # type: ignore[arg-type]


def serve_in_order(responses: Iterable[httpx.Response], seen: list[httpx.Request] | None = None) -> Handler:
    """A handler answering each request with the next response, recording requests in `seen`."""
    queue = list(responses)

    def handle(request: httpx.Request) -> httpx.Response:
        if seen is not None:
            seen.append(request)
        if not queue:
            raise AssertionError(f"unexpected extra request {request.url}")
        return queue.pop(0)

    return handle


def nock_responses(path: Path) -> list[tuple[str, httpx.Response]]:
    """(recorded path, response) for each exchange of a nock recording (paperhive/oai-pmh)."""
    loaded = []
    for exchange in json.loads(path.read_text(encoding="utf-8")):
        raw = exchange["rawHeaders"]
        headers = list(zip(raw[::2], raw[1::2], strict=True))
        response = httpx.Response(exchange["status"], headers=headers, content=exchange["response"].encode())
        loaded.append((exchange["path"], response))
    return loaded


def golden_response(path: Path) -> tuple[str, httpx.Response]:
    """(recorded URL, response) of an arxiv.py golden file; its body string is latin-1 wrapped."""
    recording = json.loads(path.read_text(encoding="utf-8"))
    body = recording["body"].encode("latin-1")
    return recording["url"], httpx.Response(recording["status_code"], content=body)
