"""Errors are HTML pages with a reason, never a traceback."""

from __future__ import annotations

import pytest
from app_client import open_client

from paperboy.domain.calendar import parse_day
from paperboy.services import feed


@pytest.fixture
def client(settings):
    with open_client(settings) as client:
        yield client


def test_unknown_path_is_a_404_page(client):
    response = client.get("/no/such/page")
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("text/html")
    assert "There is no page at /no/such/page." in response.text


def test_wrong_method_is_an_html_405(client):
    response = client.post("/papers/date/2025-06-12")
    assert response.status_code == 405
    assert "<h1>Method Not Allowed</h1>" in response.text


def test_server_errors_show_a_page_without_the_traceback(settings, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("secret internals")

    monkeypatch.setattr("paperboy.web.pages.latest_feed", broken)
    with open_client(settings, raise_server_exceptions=False) as client:
        response = client.get("/")
    assert response.status_code == 500
    assert "Something went wrong" in response.text
    assert "secret internals" not in response.text
    assert "Traceback" not in response.text


def test_head_requests_are_answered_for_monitors(client):
    assert client.head("/").status_code == 200
    assert client.head("/healthz").status_code == 200


def test_the_services_reject_bad_requests_with_reasons(engine):
    with pytest.raises(feed.FeedRequestError, match="pages are numbered from 1"):
        feed.feed_for_period(engine, parse_day("2025-06-12"), page=0)
    with pytest.raises(feed.FeedRequestError, match="choose one of trending, newest"):
        feed.feed_for_period(engine, parse_day("2025-06-12"), sort="random")
