from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from upstream_fakes import FakeClock, fake_client, serve_in_order

from paperboy import __version__
from paperboy.config import load_settings
from paperboy.integrations.http import HttpClient, UpstreamError, parse_retry_after

ARXIV_URL = "https://export.arxiv.org/api/query"


def test_user_agent_names_paperboy_and_its_version():
    seen: list[httpx.Request] = []
    client = fake_client(serve_in_order([httpx.Response(200, content=b"ok")], seen))

    response = client.get(ARXIV_URL, params={"id_list": "2506.12229"})

    assert response.content == b"ok"
    assert seen[0].headers["User-Agent"] == f"paperboy/{__version__} (+https://github.com/paperboy)"
    assert seen[0].url.params["id_list"] == "2506.12229"


def test_params_are_added_to_a_query_the_url_already_has():
    seen: list[httpx.Request] = []
    client = fake_client(serve_in_order([httpx.Response(200)] * 2, seen))

    client.get("https://mirror.example/oai?token=abc", params={"verb": "ListRecords"})
    client.get("https://mirror.example/oai?token=abc")

    assert [str(r.url) for r in seen] == [
        "https://mirror.example/oai?token=abc&verb=ListRecords",
        "https://mirror.example/oai?token=abc",
    ]


def test_retry_after_in_seconds_is_honoured():
    clock = FakeClock()
    seen: list[httpx.Request] = []
    responses = [httpx.Response(503, headers={"Retry-After": "7"}), httpx.Response(200, content=b"ok")]
    client = fake_client(serve_in_order(responses, seen), clock=clock)

    assert client.get(ARXIV_URL).content == b"ok"
    assert clock.sleeps == [7.0]
    assert len(seen) == 2


def test_retry_after_zero_falls_back_to_backoff():
    clock = FakeClock()
    # oaipmh.arxiv.org sends "Retry-After: 0" under load: retrying at once would hammer it.
    responses = [httpx.Response(503, headers={"Retry-After": "0"}), httpx.Response(200)]
    client = fake_client(serve_in_order(responses, []), backoff_base=2.0, clock=clock)

    client.get(ARXIV_URL)

    assert clock.sleeps == [1.5]  # 2 s back-off, jitter pinned at 0.5 -> 75 %


def test_retry_after_as_http_date_is_measured_against_the_server_date():
    clock = FakeClock()
    headers = {"Retry-After": "Wed, 21 Oct 2015 07:28:00 GMT", "Date": "Wed, 21 Oct 2015 07:27:30 GMT"}
    client = fake_client(
        serve_in_order([httpx.Response(503, headers=headers), httpx.Response(200)], []), clock=clock
    )

    client.get(ARXIV_URL)

    assert clock.sleeps == [30.0]


def test_retry_after_is_capped():
    clock = FakeClock()
    responses = [httpx.Response(429, headers={"Retry-After": "86400"}), httpx.Response(200)]
    client = fake_client(serve_in_order(responses, []), clock=clock)

    client.get(ARXIV_URL)

    assert clock.sleeps == [600.0]


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({"Retry-After": "10"}, 10.0),
        ({"Retry-After": " 0 "}, 0.0),
        ({"Retry-After": "Thu, 21 Jun 2018 14:31:01 GMT", "Date": "Thu, 21 Jun 2018 14:30:51 GMT"}, 10.0),
        ({"Retry-After": "Thu, 21 Jun 2018 14:30:41 GMT", "Date": "Thu, 21 Jun 2018 14:30:51 GMT"}, 0.0),
        ({"Retry-After": "soon"}, None),
        ({}, None),
    ],
)
def test_parse_retry_after(headers, expected):
    assert parse_retry_after(httpx.Headers(headers)) == expected


def test_server_errors_back_off_exponentially_then_give_up_with_one_line():
    clock = FakeClock()
    seen: list[httpx.Request] = []
    responses = [httpx.Response(500, content=b"<h1>Internal\nServer Error</h1>")] * 4
    client = fake_client(serve_in_order(responses, seen), retries=3, clock=clock)

    with pytest.raises(UpstreamError) as raised:
        client.get(ARXIV_URL, params={"id_list": "2506.12229"})

    message = str(raised.value)
    assert message == (
        f"GET {ARXIV_URL}?id_list=2506.12229: HTTP 500 Internal Server Error (gave up after 4 attempts)"
    )
    assert "\n" not in message
    assert clock.sleeps == [0.75, 1.5, 3.0]
    assert len(seen) == 4


def test_backoff_is_capped():
    clock = FakeClock()
    client = fake_client(
        serve_in_order([httpx.Response(502)] * 4, []), retries=3, backoff_cap=1.0, clock=clock
    )

    with pytest.raises(UpstreamError):
        client.get(ARXIV_URL)

    assert clock.sleeps == [0.75, 0.75, 0.75]


def test_jitter_spreads_retries_between_half_and_all_of_the_backoff():
    clock = FakeClock()
    client = fake_client(
        serve_in_order([httpx.Response(503)] * 3, []), retries=2, jitter=lambda: 0.0, clock=clock
    )

    with pytest.raises(UpstreamError):
        client.get(ARXIV_URL)

    assert clock.sleeps == [0.5, 1.0]


def test_connection_errors_and_timeouts_are_retried():
    clock = FakeClock()
    failures: list[Exception] = [
        httpx.ConnectError("connection refused"),
        httpx.ReadTimeout("timed out"),
    ]

    def handle(request: httpx.Request) -> httpx.Response:
        if failures:
            raise failures.pop(0)
        return httpx.Response(200, content=b"finally")

    client = fake_client(handle, clock=clock)

    assert client.get(ARXIV_URL).content == b"finally"
    assert clock.sleeps == [0.75, 1.5]


def test_persistent_timeouts_give_up_naming_the_url_and_the_reason():
    def handle(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("The read operation timed out")

    client = fake_client(handle, retries=1)

    with pytest.raises(
        UpstreamError,
        match=r"^GET https://export\.arxiv\.org/api/query: ReadTimeout: "
        r"The read operation timed out \(gave up after 2 attempts\)$",
    ):
        client.get(ARXIV_URL)


def test_client_errors_are_not_retried_and_quote_the_body():
    clock = FakeClock()
    seen: list[httpx.Request] = []
    response = httpx.Response(404, content=b'{"error": "Paper not found"}')
    client = fake_client(serve_in_order([response], seen), clock=clock)

    with pytest.raises(UpstreamError) as raised:
        client.get("https://huggingface.co/api/papers/2506.00000")

    assert str(raised.value) == (
        'GET https://huggingface.co/api/papers/2506.00000: HTTP 404 Not Found: {"error": "Paper not found"}'
    )
    assert len(seen) == 1
    assert clock.sleeps == []


def test_accepted_error_statuses_are_returned():
    client = fake_client(serve_in_order([httpx.Response(400, content=b"<feed/>")], []))

    response = client.get(ARXIV_URL, accept=(200, 400))

    assert (response.status, response.content) == (400, b"<feed/>")


def test_requests_to_arxiv_keep_the_politeness_delay():
    clock = FakeClock()
    responses = [httpx.Response(200)] * 4
    client = fake_client(serve_in_order(responses, []), host_delays={"arxiv.org": 3.0}, clock=clock)

    client.get("https://export.arxiv.org/api/query")
    clock.now += 1.0  # the caller spent a second on the first response
    client.get("https://oaipmh.arxiv.org/oai")
    client.get("https://huggingface.co/api/daily_papers")  # another host: no wait
    clock.now += 5.0
    client.get("https://oaipmh.arxiv.org/oai")  # long enough ago: no wait

    assert clock.sleeps == [2.0]


def test_retry_after_also_satisfies_the_politeness_delay():
    clock = FakeClock()
    responses = [httpx.Response(503, headers={"Retry-After": "10"}), httpx.Response(200)]
    client = fake_client(serve_in_order(responses, []), host_delays={"arxiv.org": 3.0}, clock=clock)

    client.get("https://oaipmh.arxiv.org/oai")

    assert clock.sleeps == [10.0]


def test_a_declared_oversized_body_is_refused_unread():
    response = httpx.Response(200, headers={"Content-Length": str(10**9)}, content=b"")
    client = fake_client(serve_in_order([response], []), max_bytes=1000)

    with pytest.raises(UpstreamError, match=r"response of 1000000000 bytes exceeds the 1000-byte limit$"):
        client.get(ARXIV_URL)


def test_a_streamed_oversized_body_is_cut_off():
    chunks = iter([b"x" * 600, b"x" * 600, b"x" * 600])  # chunked: no Content-Length
    client = fake_client(serve_in_order([httpx.Response(200, content=chunks)], []), max_bytes=1000)

    with pytest.raises(UpstreamError, match=r"response exceeds the 1000-byte limit$"):
        client.get(ARXIV_URL)


def test_from_settings_applies_retries_and_the_arxiv_delay(tmp_path: Path):
    clock = FakeClock()
    settings = load_settings(environ={}, toml_path=tmp_path / "absent.toml", http_retries=1, arxiv_delay=2.5)
    seen: list[httpx.Request] = []
    transport = httpx.MockTransport(serve_in_order([httpx.Response(503)] * 2 + [httpx.Response(200)], seen))

    with HttpClient.from_settings(
        settings, transport=transport, sleep=clock.sleep, clock=clock, jitter=lambda: 1.0
    ) as client:
        with pytest.raises(UpstreamError, match="gave up after 2 attempts"):
            client.get("https://export.arxiv.org/api/query")
        client.get("https://export.arxiv.org/api/query")

    assert len(seen) == 3
    # back-off 1 s, topped up to the 2.5 s politeness delay; then 2.5 s before the next call
    assert clock.sleeps == [1.0, 1.5, 2.5]
