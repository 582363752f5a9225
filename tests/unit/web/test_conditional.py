"""ETags and 304s, through a real Starlette request."""

from starlette.requests import Request

from paperboy.web.conditional import conditional, conditional_json, etag_of


def _request(if_none_match: str | None = None) -> Request:
    headers = [(b"if-none-match", if_none_match.encode())] if if_none_match else []
    return Request({"type": "http", "method": "GET", "path": "/", "headers": headers, "query_string": b""})


def test_a_body_gets_a_strong_etag_and_a_match_gets_304() -> None:
    first = conditional_json(_request(), {"a": 1})
    tag = first.headers["etag"]
    assert first.status_code == 200
    assert tag == etag_of(b'{"a":1}')
    assert tag.startswith('"')
    again = conditional_json(_request(tag), {"a": 1})
    assert again.status_code == 304
    assert again.body == b""
    assert again.headers["etag"] == tag
    assert conditional_json(_request(f'"other", W/{tag}'), {"a": 1}).status_code == 304
    assert conditional_json(_request("*"), {"a": 1}).status_code == 304
    assert conditional_json(_request(tag), {"a": 2}).status_code == 200  # changed: the new body


def test_headers_say_how_to_revalidate() -> None:
    response = conditional(_request(), b"<rss/>", "application/rss+xml", max_age=300)
    assert response.headers["cache-control"] == "max-age=300, must-revalidate"
    assert response.headers["vary"] == "Authorization, Cookie"
    assert response.media_type == "application/rss+xml"
