"""A comment's size and its author's rate limit are checked before its Markdown is rendered, so a
flood of large comments past the limit costs no rendering. The only spy sits on the third-party
renderer (markdown-it-py's MarkdownIt.render); everything else is the real app, in-process."""

from __future__ import annotations

import pytest
from app_client import open_client
from community import log_in_as, make_member
from conftest import make_record
from markdown_it import MarkdownIt

from paperboy.domain.markup import MAX_COMMENT_LENGTH

PAPER = "2506.12229"
ALLOWED = 3
# Long, and as much work for the parser as a comment can be: emphasis, links, code and math.
HEAVY = ("*a* **b** [c](https://example.org/x) `d` $e_1$ https://example.org/y _f_ " * 200)[
    :MAX_COMMENT_LENGTH
]


@pytest.fixture
def renders(monkeypatch):
    """How many times the Markdown renderer ran."""
    calls: list[int] = []
    real = MarkdownIt.render

    def counting(self, src, env=None):
        calls.append(len(src))
        return real(self, src, env)

    monkeypatch.setattr(MarkdownIt, "render", counting)
    return calls


@pytest.fixture
def client(settings, add_papers):
    add_papers(make_record(PAPER))
    with open_client(settings.replace(rate_limit_comment=f"{ALLOWED}/hour")) as client:
        yield client


def test_comments_past_the_rate_limit_are_refused_unrendered(client, engine, renders):
    csrf = log_in_as(client, make_member(engine, "ada"))
    statuses = []
    for _ in range(ALLOWED + 20):
        form = {"csrf_token": csrf, "body": HEAVY}
        statuses.append(client.post(f"/papers/{PAPER}/comments", data=form).status_code)
    for _ in range(10):  # the API takes the same path
        headers = {"X-CSRF-Token": csrf}
        response = client.post(f"/api/v1/papers/{PAPER}/comments", json={"body": HEAVY}, headers=headers)
        statuses.append(response.status_code)

    assert statuses == [303] * ALLOWED + [429] * 30
    assert len(renders) == ALLOWED


def test_edits_past_the_rate_limit_are_refused_unrendered(client, engine, renders):
    csrf = log_in_as(client, make_member(engine, "ada"))
    posted = client.post(f"/papers/{PAPER}/comments", data={"csrf_token": csrf, "body": "first"})
    comment_id = posted.headers["location"].rsplit("-", 1)[1]
    edits = [{"csrf_token": csrf, "body": f"{HEAVY[:-3]}{n}"} for n in range(ALLOWED + 10)]
    statuses = [client.post(f"/comments/{comment_id}/edit", data=form).status_code for form in edits]

    assert statuses == [303] * (ALLOWED - 1) + [429] * 11
    assert len(renders) == ALLOWED


def test_oversized_comments_are_refused_unrendered(client, engine, renders):
    csrf = log_in_as(client, make_member(engine, "ada"))
    too_long = "x" * (MAX_COMMENT_LENGTH + 1)
    page = client.post(f"/papers/{PAPER}/comments", data={"csrf_token": csrf, "body": too_long})
    api = client.post(
        f"/api/v1/papers/{PAPER}/comments", json={"body": too_long}, headers={"X-CSRF-Token": csrf}
    )
    huge = client.post(f"/papers/{PAPER}/comments", data={"csrf_token": csrf, "body": "x" * 2_000_000})

    assert (page.status_code, api.status_code, huge.status_code) == (400, 422, 413)
    assert f"at most {MAX_COMMENT_LENGTH:,} characters" in page.text
    assert renders == []
    # refused before counting: the member's whole allowance is still there
    form = {"csrf_token": csrf, "body": "ok"}
    for _ in range(ALLOWED):
        assert client.post(f"/papers/{PAPER}/comments", data=form).status_code == 303
