"""Which requests are Hugging Face's, which ask for Markdown, and error messages as header values."""

from __future__ import annotations

import pytest

from paperboy.web.api.errors import header_text
from paperboy.web.api.hf_paths import is_hf_path
from paperboy.web.paper_exports import prefers_markdown


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("/api/daily_papers", True),
        ("/api/papers", True),
        ("/api/papers/2506.12229", True),
        ("/api/papers/search", True),
        ("/api/models/anything", True),  # Hugging Face's, if not served here: a 404 in its shape
        ("/api/v1", False),
        ("/api/v1/papers", False),
        ("/api/v1/me/library", False),
        ("/api/v1x", True),
        ("/papers/2506.12229", False),
        ("/api", False),
    ],
)
def test_every_api_path_but_our_own_is_hugging_faces(path, expected):
    assert is_hf_path(path) is expected


@pytest.mark.parametrize(
    ("accept", "expected"),
    [
        ("text/markdown", True),
        ("text/markdown; charset=utf-8", True),
        ("TEXT/Markdown", True),
        ("text/markdown, text/html;q=0.9", True),
        ("text/html;q=0.5, text/markdown;q=0.5", True),
        ("text/plain, text/markdown;q=0.8, */*;q=0.1", True),
        ("", False),
        ("*/*", False),
        ("text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8", False),
        ("text/html, text/markdown", True),  # named at all, and no less than HTML
        ("text/markdown;q=0.8, application/xhtml+xml", False),
        ("text/markdown;q=0", False),
        ("text/markdown;q=nonsense", False),
    ],
)
def test_markdown_only_when_asked_for_before_html(accept, expected):
    assert prefers_markdown(accept) is expected


def test_error_messages_become_one_line_of_ascii():
    assert header_text("limit must be a whole number from 1 to 100, not '500'") == (
        "limit must be a whole number from 1 to 100, not '500'"
    )
    assert header_text("two\r\nlines\x00") == "two lines"
    assert header_text("Schrödinger’s cat") == "Schr\\xf6dinger\\u2019s cat"
    long = header_text("x" * 2000)
    assert len(long) == 500
    assert long.endswith("...")
